"""Popolo (popoloproject.com) JSON for one public body: persons, organizations, posts, memberships with
their dates and posts (委員, and 委員長 / 副委員長 for the time each was held), and events (meetings).

Ids are the OParl URLs of the same objects, so the two exports can be joined."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from committee.models import Affiliation, Body, OfficerTerm
from meetings.models import Meeting

from . import oparl, selectors


def _start_date(m: Meeting) -> str:
    if m.start_at:
        return oparl.stamp(m.start_at)
    if m.planned_month is None:  # a check constraint requires one of them
        raise ValueError(f"Meeting {m.pk} has neither a date nor a month.")
    return m.planned_month.isoformat()[:7]


def _post_id(body: Body, key: str) -> str:
    return oparl.obj_url("organization", body.pk) + f"#post-{key}"


def body_data(body: Body) -> dict:
    today = timezone.localdate()
    guideline = selectors.guideline(body, today) or body.guidelines.order_by("-effective_on").first()
    chair = guideline.chair_title if guideline else "委員長"
    vice = guideline.vice_chair_title if guideline else "副委員長"
    org_id = oparl.obj_url("organization", body.pk)
    appointments = list(
        selectors.memberships()
        .filter(body=body)
        .select_related("person")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")),
            Prefetch("officer_terms", queryset=OfficerTerm.objects.order_by("start_on")),
        )
        .order_by("person__sort_key", "pk")
    )
    persons: dict[int, dict] = {}
    memberships: list[dict] = []
    categories: dict[str, str] = {}
    for a in appointments:
        p = a.person
        if p is None:  # never: memberships() keeps only appointments of named people
            continue
        persons.setdefault(
            p.pk,
            {
                "id": oparl.obj_url("person", p.pk),
                "name": p.full_name,
                "family_name": p.family_name,
                "given_name": p.given_name,
                "sort_name": p.full_name_kana,
                "other_names": [{"name": p.full_name_kana, "note": "読み"}],
            },
        )
        label = a.get_category_display()
        categories[a.category] = label
        affiliation = a.affiliation_on(a.term_start)
        memberships.append(
            _clean(
                {
                    "id": oparl.obj_url("membership", a.pk),
                    "person_id": oparl.obj_url("person", p.pk),
                    "organization_id": org_id,
                    "post_id": _post_id(body, a.category),
                    "role": a.role_label or label,
                    "label": affiliation,
                    "start_date": a.term_start.isoformat(),
                    "end_date": a.effective_end.isoformat() if a.effective_end else None,
                }
            )
        )
        for term in a.officer_terms.all():
            memberships.append(
                _clean(
                    {
                        "id": oparl.obj_url("membership", a.pk) + f"#officer-{term.pk}",
                        "person_id": oparl.obj_url("person", p.pk),
                        "organization_id": org_id,
                        "post_id": _post_id(body, term.role),
                        "role": chair if term.role == OfficerTerm.Role.CHAIR else vice,
                        "start_date": term.start_on.isoformat(),
                        "end_date": term.end_on.isoformat() if term.end_on else (
                            a.effective_end.isoformat() if a.effective_end else None
                        ),
                    }
                )
            )
    posts = [
        {"id": _post_id(body, OfficerTerm.Role.CHAIR), "label": chair, "role": chair, "organization_id": org_id},
        {"id": _post_id(body, OfficerTerm.Role.VICE_CHAIR), "label": vice, "role": vice, "organization_id": org_id},
        *(
            {"id": _post_id(body, key), "label": label, "role": label, "organization_id": org_id}
            for key, label in sorted(categories.items())
        ),
    ]
    organizations = [
        _clean(
            {
                "id": org_id,
                "name": body.name,
                "other_names": [{"name": body.short_name, "note": "略称"}],
                "classification": body.get_kind_display(),
                "parent_id": oparl.obj_url("organization", body.parent_id)
                if body.parent_id and selectors.organizations().filter(pk=body.parent_id).exists()
                else None,
                "founding_date": body.established_on.isoformat() if body.established_on else None,
                "dissolution_date": body.dissolved_on.isoformat() if body.dissolved_on else None,
                "links": [{"url": _site("committee:body_detail", body.slug), "note": "web"}],
            }
        )
    ]
    events = [
        _clean(
            {
                "id": oparl.obj_url("meeting", m.pk),
                "name": f"{m.label} {m.title}".strip(),
                "identifier": m.label,
                "classification": "meeting",
                "type": "sitting",
                "organization_id": org_id,
                "start_date": _start_date(m),
                "end_date": oparl.stamp(m.end_at) if m.end_at else None,
                "status": m.get_status_display(),
                "location": " ".join(v for v in (m.venue_name, m.venue_room, m.venue_address) if v) or None,
                "links": [{"url": _site("meetings:detail", m.pk), "note": "web"}],
            }
        )
        for m in selectors.meetings().filter(body=body).order_by("pk")
    ]
    return {
        "persons": list(persons.values()),
        "organizations": organizations,
        "posts": posts,
        "memberships": memberships,
        "events": events,
        "meta": {"license": settings.DXPLAN_OPENDATA_LICENSE_URL, "source": settings.SITE_URL + "/"},
    }


def _site(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=list(args))


def _clean(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != ""}

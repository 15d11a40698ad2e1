"""Popolo (popoloproject.com) JSON for one public body: persons, organizations, posts, memberships with
their dates and posts (委員, and 委員長 / 副委員長 for the time each was held), and events (meetings).

Ids are the OParl URLs of the same objects, so the two exports can be joined."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from committee.models import Affiliation, Appointment, Body, OfficerTerm, Person
from committee.selectors import officer_titles
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


def _appointments(body: Body) -> list[Appointment]:
    return list(
        selectors.memberships()
        .filter(body=body)
        .select_related("person")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")),
            Prefetch("officer_terms", queryset=OfficerTerm.objects.order_by("start_on")),
        )
        .order_by("person__sort_key", "pk")
    )


def _person(p: Person) -> dict:
    return {
        "id": oparl.obj_url("person", p.pk),
        "name": p.full_name,
        "family_name": p.family_name,
        "given_name": p.given_name,
        "sort_name": p.full_name_kana,
        "other_names": [{"name": p.full_name_kana, "note": "読み"}],
    }


def _memberships(body: Body, a: Appointment, p: Person, titles: dict[str, str]) -> list[dict]:
    """The seat (委員 …) for the term, then each officer's post for the time it was held."""
    org_id = oparl.obj_url("organization", body.pk)
    end = a.effective_end.isoformat() if a.effective_end else None
    seat = {
        "id": oparl.obj_url("membership", a.pk),
        "person_id": oparl.obj_url("person", p.pk),
        "organization_id": org_id,
        "post_id": _post_id(body, a.category),
        "role": a.role_label or a.get_category_display(),
        "label": a.affiliation_on(a.term_start),
        "start_date": a.term_start.isoformat(),
        "end_date": end,
    }
    posts = [
        {
            "id": oparl.obj_url("membership", a.pk) + f"#officer-{term.pk}",
            "person_id": oparl.obj_url("person", p.pk),
            "organization_id": org_id,
            "post_id": _post_id(body, term.role),
            "role": titles[term.role],
            "start_date": term.start_on.isoformat(),
            "end_date": term.end_on.isoformat() if term.end_on else end,
        }
        for term in a.officer_terms.all()
    ]
    return [_clean(m) for m in (seat, *posts)]


def _organization(body: Body) -> dict:
    return _clean(
        {
            "id": oparl.obj_url("organization", body.pk),
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


def _event(body: Body, m: Meeting) -> dict:
    return _clean(
        {
            "id": oparl.obj_url("meeting", m.pk),
            "name": f"{m.label} {m.title}".strip(),
            "identifier": m.label,
            "classification": "meeting",
            "type": "sitting",
            "organization_id": oparl.obj_url("organization", body.pk),
            "start_date": _start_date(m),
            "end_date": oparl.stamp(m.end_at) if m.end_at else None,
            "status": m.get_status_display(),
            "location": " ".join(v for v in (m.venue_name, m.venue_room, m.venue_address) if v) or None,
            "links": [{"url": _site("meetings:detail", m.pk), "note": "web"}],
        }
    )


def body_data(body: Body) -> dict:
    """The body's Popolo document: its people, the body, its posts (委員長 or 会長 … as its guidelines
    name them), memberships and meetings."""
    guideline = selectors.guideline(body, timezone.localdate()) or body.guidelines.order_by("-effective_on").first()
    titles = dict(officer_titles(guideline))
    org_id = oparl.obj_url("organization", body.pk)
    persons: dict[int, dict] = {}
    memberships: list[dict] = []
    categories: dict[str, str] = {}
    for a in _appointments(body):
        p = a.person
        if p is None:  # never: memberships() keeps only appointments of named people
            continue
        persons.setdefault(p.pk, _person(p))
        categories[a.category] = a.get_category_display()
        memberships.extend(_memberships(body, a, p, titles))
    posts = [
        *(
            {"id": _post_id(body, role), "label": title, "role": title, "organization_id": org_id}
            for role, title in titles.items()
        ),
        *(
            {"id": _post_id(body, key), "label": label, "role": label, "organization_id": org_id}
            for key, label in sorted(categories.items())
        ),
    ]
    return {
        "persons": list(persons.values()),
        "organizations": [_organization(body)],
        "posts": posts,
        "memberships": memberships,
        "events": [_event(body, m) for m in selectors.meetings().filter(body=body).order_by("pk")],
        "meta": {"license": settings.DXPLAN_OPENDATA_LICENSE_URL, "source": settings.SITE_URL + "/"},
    }


def _site(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=list(args))


def _clean(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != ""}

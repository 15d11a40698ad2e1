"""The audit log as the secretariat reads it: the entries about the bodies its unit serves, filtered by
body, meeting, person, action and date, a page at a time or as CSV (committee.access.audit_entries_q)."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Max, Q, QuerySet, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.admin_audit import change_message_text
from core.audit import audit_record
from core.csvsafe import formula_safe_writer
from core.http import client_ip
from core.models import AuditAction, AuditEntry

from . import selectors
from .access import audit_entries_q, bodies_managed_by
from .models import Appointment, Body, Person

PAGE_SIZE = 50
MEETING_CHOICES = 500  # the meetings offered in the filter, latest first
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """The filters; every choice is one the user may see, so a forged value fails validation."""

    body = forms.ModelChoiceField(label=gettext_lazy("Body"), queryset=Body.objects.none(), required=False)
    meeting = forms.TypedChoiceField(label=gettext_lazy("Meeting"), coerce=int, required=False, empty_value=None)
    person = forms.ModelChoiceField(label=gettext_lazy("Person"), queryset=Person.objects.none(), required=False)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    since = forms.DateField(label=gettext_lazy("Date from"), required=False, widget=DATE)
    until = forms.DateField(label=gettext_lazy("Date until"), required=False, widget=DATE)

    def __init__(self, *args, user, scope: Q, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].queryset = bodies_managed_by(user).order_by("display_order", "id")  # type: ignore[attr-defined]
        self.fields["person"].queryset = selectors.people_managed_by(user).order_by("sort_key", "id")  # type: ignore[attr-defined]
        self.fields["action"].choices = [("", "---------"), *AuditAction.choices]  # type: ignore[attr-defined]
        self.fields["meeting"].choices = [("", "---------"), *_meeting_choices(scope)]  # type: ignore[attr-defined]

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        if data.get("body"):
            entries = entries.filter(body_id=data["body"].pk)
        if data.get("meeting"):
            entries = entries.filter(meeting_id=data["meeting"])
        if data.get("person"):
            entries = entries.filter(_person_q(data["person"]))
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("since"):
            entries = entries.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(created_at__date__lte=data["until"])
        return entries


def _meeting_choices(scope: Q) -> list[tuple[int, str]]:
    """Meetings named in the entries the user may read, by the label of their latest entry: committee sits
    below meetings and names a meeting only as the audit log recorded it."""
    meeting_type = ContentType.objects.get_by_natural_key("meetings", "meeting")
    # The latest entry of each meeting (the highest id: entries are only ever added), in one query that
    # SQLite runs too (DISTINCT ON is PostgreSQL's).
    latest = (
        AuditEntry.objects.filter(scope, target_type=meeting_type, meeting_id__isnull=False)
        .values("meeting_id")
        .annotate(last=Max("pk"))
        .order_by("-meeting_id")
        .values("last")[:MEETING_CHOICES]
    )
    rows = (
        AuditEntry.objects.filter(pk__in=Subquery(latest))
        .order_by("-meeting_id")
        .values_list("meeting_id", "target_label")
    )
    return [(meeting_id, label) for meeting_id, label in rows if meeting_id is not None]


def _person_q(person: Person) -> Q:
    """Entries by the person (through their login account) or about them or one of their appointments."""
    appointment_ids = [str(pk) for pk in Appointment.objects.filter(person=person).values_list("pk", flat=True)]
    about = Q(target_type=ContentType.objects.get_for_model(Person), target_id=str(person.pk)) | Q(
        target_type=ContentType.objects.get_for_model(Appointment), target_id__in=appointment_ids
    )
    return about | Q(actor_id=person.user_id) if person.user_id else about


def _rows(entries, bodies: dict[int, str]) -> list[dict]:
    return [
        {
            "entry": entry,
            "body": bodies.get(entry.body_id or 0, ""),
            "object_type": entry.target_type.name if entry.target_type else "",
            "message": change_message_text(entry.data),
        }
        for entry in entries
    ]


def _csv(request, rows: list[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.write("\ufeff")  # BOM: Excel opens UTF-8 CSV correctly
    writer = formula_safe_writer(response)
    writer.writerow([_("Date and time"), _("Done by"), _("Action"), _("Body"), _("Object type"), _("Object"),
                     _("Change"), _("From address"), _("Details")])
    for row in rows:
        entry = row["entry"]
        writer.writerow([
            timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
            entry.actor_label, entry.get_action_display(), row["body"], row["object_type"], entry.target_label,
            row["message"], entry.ip_address or "", json.dumps(entry.data, ensure_ascii=False, sort_keys=True),
        ])
    return response


@login_required
@require_GET
def audit_log(request) -> HttpResponse:
    """The audit log of the bodies the user's unit serves (every entry for a superuser); 404 for others."""
    if not selectors.is_secretariat(request.user):
        raise Http404
    scope = audit_entries_q(request.user)
    form = AuditFilterForm(request.GET or None, user=request.user, scope=scope)
    entries = AuditEntry.objects.filter(scope).select_related("target_type").order_by("-created_at", "-id")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    elif form.is_bound:
        entries = entries.none()
    bodies = dict(form.fields["body"].queryset.values_list("pk", "name"))  # type: ignore[attr-defined]
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action=AuditAction.AUDIT_EXPORTED, ip_address=client_ip(request),
                     data={"filters": {k: v for k, v in request.GET.items() if k != "format"}})
        return _csv(request, _rows(entries, bodies))
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "committee/audit_log.html", {
        "form": form, "page": page, "rows": _rows(page.object_list, bodies), "query": query.urlencode(),
    })

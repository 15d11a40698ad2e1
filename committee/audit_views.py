"""The audit log as the secretariat reads it: the entries about the bodies its unit serves, filtered by
body, meeting, person, action and date, a page at a time or as CSV (committee.access.audit_entries_q)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core import kana
from core.admin_audit import change_message_text
from core.audit import audit_record
from core.csvsafe import formula_safe_writer
from core.http import client_ip
from core.models import AuditAction, AuditEntry

from . import selectors
from .access import audit_entries_q, bodies_managed_by
from .models import Appointment, Person

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_SIZE = 50
COUNT_CAP = 1000  # entries counted at most before the page asked for: the log only grows
LISTED = 50  # a body or person filter lists its choices up to this many; beyond, the user types part of a name
MEETING_CHOICES = 50  # the meetings offered in the filter: those of the latest entries
MEETING_SCAN = 2000  # the latest entries about meetings read to find them
MANY = gettext_lazy("Too many match “%(text)s”: type more of the name.")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NamedChoice:
    """The choices of a body or person filter, looked up rather than listed when they are many: the value is
    a primary key (links, the select) or a name or part of one (typed), resolved among the choices the user may
    see only, so a forged value fails validation either way."""

    def __init__(self, queryset: QuerySet, label: Callable[[Any], str], text_q: Callable[[str], Q],
                 exact_q: Callable[[str], Q], *, several: StrOrPromise, none: StrOrPromise):
        self.queryset, self.label, self.text_q, self.exact_q = queryset, label, text_q, exact_q
        self.several, self.none = several, none
        self.first = [(obj.pk, label(obj)) for obj in queryset[: LISTED + 1]]
        self.listed = len(self.first) <= LISTED

    def resolve(self, value: str):
        """The one choice `value` names; else a ValidationError, with the candidates when they are few."""
        value = value.strip()
        if value.isdigit():  # an id (links, the select), never part of a name: another unit's id finds nothing
            if found := self.queryset.filter(pk=int(value)).first():
                return found
            raise forms.ValidationError(self.none, params={"text": value})
        exact = list(self.queryset.filter(self.exact_q(value))[:2])  # a whole name wins over longer ones
        if len(exact) == 1:
            return exact[0]
        words = value.split()
        matches = self.queryset
        for word in words:
            matches = matches.filter(self.text_q(word))
        candidates = list(matches[: LISTED + 1]) if words else []
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise forms.ValidationError(self.none, params={"text": value})
        if len(candidates) > LISTED:
            raise forms.ValidationError(MANY, params={"text": value})
        self.first, self.listed = [(obj.pk, self.label(obj)) for obj in candidates], True
        raise forms.ValidationError(self.several, params={"text": value})

    def choices(self) -> list[tuple[int | str, str]]:
        return [("", "---------"), *self.first]


class AuditFilterForm(forms.Form):
    """The filters; every choice is one the user may see, so a forged value fails validation."""

    body = forms.CharField(label=gettext_lazy("Body"), required=False, max_length=100)
    meeting = forms.TypedChoiceField(label=gettext_lazy("Meeting"), coerce=int, required=False, empty_value=None)
    person = forms.CharField(label=gettext_lazy("Person"), required=False, max_length=100)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    since = forms.DateField(label=gettext_lazy("Date from"), required=False, widget=DATE)
    until = forms.DateField(label=gettext_lazy("Date until"), required=False, widget=DATE)

    def __init__(self, *args, user, scope: Q, **kwargs):
        super().__init__(*args, **kwargs)
        self.named = {
            "body": NamedChoice(
                bodies_managed_by(user).order_by("display_order", "id").only("pk", "name"), lambda body: body.name,
                lambda word: Q(name__icontains=word) | Q(short_name__icontains=word),
                lambda text: Q(name=text) | Q(short_name=text),
                several=gettext_lazy("Several bodies match “%(text)s”: choose one."),
                none=gettext_lazy("None of your bodies matches “%(text)s”."),
            ),
            "person": NamedChoice(
                selectors.people_managed_by(user).order_by("sort_key", "id").only("family_name", "given_name", "user"),
                str, _person_text_q, _person_exact_q,
                several=gettext_lazy("Several people match “%(text)s”: choose one."),
                none=gettext_lazy("Nobody on your bodies matches “%(text)s”."),
            ),
        }
        self.fields["action"].choices = [("", "---------"), *AuditAction.choices]  # type: ignore[attr-defined]
        asked = self.data.get("meeting", "") if self.is_bound else ""
        self.fields["meeting"].choices = [("", "---------"), *_meeting_choices(scope, asked)]  # type: ignore[attr-defined]
        self._show_named()

    def _named(self, name: str):
        value = self.cleaned_data.get(name) or ""
        return self.named[name].resolve(value) if value else None

    def clean_body(self):
        return self._named("body")

    def clean_person(self):
        return self._named("person")

    def full_clean(self) -> None:
        super().full_clean()
        self._show_named()

    def _show_named(self) -> None:
        """The body and person filters are selects of their choices when these are few (or when a typed name
        matched several), else search boxes; a chosen one shows as its option, or its name in the box."""
        for name, named in self.named.items():
            field = self.fields[name]
            field.widget = (
                forms.Select(choices=named.choices()) if named.listed
                else forms.TextInput(attrs={"type": "search", "maxlength": field.max_length})  # type: ignore[attr-defined]
            )
            field.help_text = "" if named.listed else gettext_lazy("Type part of the name.")
            chosen = getattr(self, "cleaned_data", {}).get(name)
            if chosen is not None:
                self.data = {**self.data, name: str(chosen.pk) if named.listed else named.label(chosen)}

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


def _meeting_choices(scope: Q, asked: str) -> list[tuple[int, str]]:
    """The meetings of the latest entries the user may read (at most MEETING_CHOICES, whatever the log holds),
    and the one asked for if the user may read an entry about it; each by the label of its latest entry:
    committee sits below meetings and names a meeting only as the audit log recorded it."""
    about_meetings = AuditEntry.objects.filter(
        scope, target_type=ContentType.objects.get_by_natural_key("meetings", "meeting"), meeting_id__isnull=False
    ).order_by("-id")
    choices: dict[int, str] = {}
    for meeting_id, label in about_meetings.values_list("meeting_id", "target_label")[:MEETING_SCAN]:
        if meeting_id is not None:
            choices.setdefault(meeting_id, label)
        if len(choices) == MEETING_CHOICES:
            break
    if asked.isdigit() and int(asked) not in choices:
        named = about_meetings.filter(meeting_id=int(asked)).values_list("target_label", flat=True).first()
        if named is not None:
            choices[int(asked)] = named
    return list(choices.items())


def _person_text_q(word: str) -> Q:
    """A word of a person's name or of its reading (stored in hiragana; typed in katakana too)."""
    reading = kana.to_hiragana(word)
    return (Q(family_name__icontains=word) | Q(given_name__icontains=word)
            | Q(family_name_kana__icontains=reading) | Q(given_name_kana__icontains=reading))


def _person_exact_q(text: str) -> Q:
    """The whole name as shown (family and given name with a space), or the family name alone."""
    family, _space, given = text.partition(" ")
    return Q(family_name=family, given_name=given.strip()) if given.strip() else Q(family_name=family, given_name="")


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
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action=AuditAction.AUDIT_EXPORTED, ip_address=client_ip(request),
                     data={"filters": {k: v for k, v in request.GET.items() if k != "format"}})
        every = list(entries)
        return _csv(request, _rows(every, _body_names(request.user, every)))
    page, more = _page(entries, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "committee/audit_log.html", {
        "form": form, "page": page, "more": more, "query": query.urlencode(),
        "rows": _rows(page.object_list, _body_names(request.user, page.object_list)),
    })


def _body_names(user, entries) -> dict[int, str]:
    """The names of the bodies the entries name (of those the user serves): rows are labelled by these only."""
    ids = {entry.body_id for entry in entries if entry.body_id}
    return dict(bodies_managed_by(user).filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _page(entries: QuerySet[AuditEntry], asked: str | None) -> tuple[Page, int]:
    """The page asked for, with the entries counted only up to COUNT_CAP or the end of that page (the log
    only grows; counting all of it would cost more with every entry); `more` is the number counted when the
    count stopped short of the end, else 0."""
    try:
        number = max(1, int(asked or 1))
    except ValueError:
        number = 1
    limit = max(COUNT_CAP, number * PAGE_SIZE) + 1
    counted = entries.order_by()[:limit].count()
    paginator = Paginator(entries, PAGE_SIZE)
    paginator.__dict__["count"] = counted  # the cached_property, known already
    page = paginator.get_page(number)
    page.object_list = list(page.object_list)
    return page, counted - 1 if counted == limit else 0

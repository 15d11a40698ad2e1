"""Reading notices: who receives them, who cannot, what each delivery's state is."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, DateTimeField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from committee.models import Appointment, Body, Person
from meetings import selectors as meeting_selectors
from meetings.models import Attendance, Meeting, MinutesConfirmation

from .models import Delivery, Notice, NotificationPreference


@dataclass(frozen=True)
class Recipient:
    person: Person
    email: str
    name: str
    copy_to: str = ""


def person_email(person: Person | None) -> str:
    """The address notices go to: the roster's contact email, else the login account's."""
    if person is None:
        return ""
    if person.email:
        return person.email.strip()
    user = person.user if person.user_id else None
    return (user.email or "").strip() if user is not None else ""


def _invitees(
    meeting: Meeting, members: list[Appointment] | None = None
) -> list[tuple[Person | None, str, Appointment | None]]:
    """Members in office on the meeting day (`members` when the caller has them), then invited attendees
    registered as people."""
    rows: list[tuple[Person | None, str, Appointment | None]] = []
    if members is None:
        members = meeting_selectors.invited_members(meeting, affiliations=False)
    for appointment in members:
        rows.append((appointment.person, appointment.holder_name, appointment))
    for attendee in meeting.attendees.filter(person__isnull=False).select_related("person__user"):
        rows.append((attendee.person, attendee.display_name, None))
    return rows


def _unanswered(meeting: Meeting, kind: str) -> set[int] | None:
    """For a reminder to answer, the people who have not answered; for the 議事録確認のお願い, the members
    asked to confirm the draft minutes (those who attended) who have not answered yet; None for every other
    kind (everyone invited)."""
    if kind == Notice.Kind.MINUTES:
        return set(
            MinutesConfirmation.objects.filter(
                minutes__meeting=meeting, state=MinutesConfirmation.State.PENDING
            ).values_list("appointment__person_id", flat=True)
        )
    if kind != Notice.Kind.ANSWER_REMINDER:
        return None
    return set(
        meeting.attendances.filter(reply="", appointment__person__isnull=False).values_list(
            "appointment__person_id", flat=True
        )
    )


def _account_emails(people: dict[int, Person]) -> dict[int, str]:
    """The login account's address, for people without one of their own (by user id)."""
    from core.models import User

    accounts = [p.user_id for p in people.values() if not (p.email or "").strip() and p.user_id]
    return dict(User.objects.filter(pk__in=accounts).values_list("pk", "email")) if accounts else {}


def _copy_address(preference: NotificationPreference | None, email: str) -> str:
    copy_to = (preference.copy_to or "").strip() if preference is not None else ""
    return "" if copy_to.lower() == email.lower() else copy_to


def recipients(
    meeting: Meeting, *, kind: str = Notice.Kind.CONVOCATION, members: list[Appointment] | None = None
) -> list[Recipient]:
    """Everyone with an address, once each (by person and by address). A reminder to answer goes only
    to members who have not answered, the 議事録確認のお願い only to the members asked to confirm the draft
    who have not answered yet. The optional kinds (reminders, 資料掲載のお知らせ) skip those who
    turned them off; each recipient's copy address comes along. A fixed number of queries. `members`: the
    meeting's invited members (meetings.selectors.invited_members) when the caller has them already."""
    unanswered = _unanswered(meeting, kind)
    invitees = _invitees(meeting, members)
    people = {p.pk: p for p, _n, _a in invitees if p is not None}
    preferences = {p.person_id: p for p in NotificationPreference.objects.filter(person_id__in=list(people))}
    account_email = _account_emails(people)
    seen_people: set[int] = set()
    seen_addresses: set[str] = set()
    result = []
    for person, name, _appointment in invitees:
        if person is None or person.pk in seen_people or (unanswered is not None and person.pk not in unanswered):
            continue
        email = (person.email or "").strip()
        if not email and person.user_id is not None:
            email = (account_email.get(person.user_id) or "").strip()
        preference = preferences.get(person.pk)
        if not email or email.lower() in seen_addresses or (preference is not None and not preference.wants(kind)):
            continue
        seen_people.add(person.pk)
        seen_addresses.add(email.lower())
        result.append(Recipient(person=person, email=email, name=name, copy_to=_copy_address(preference, email)))
    return result


def recipients_token(meeting: Meeting, kind: str, found: list[Recipient]) -> str:
    """A fingerprint of who would receive a notice (people and addresses): the confirmation page carries
    it, and sending refuses when the set changed since the secretariat looked at it."""
    lines = sorted(f"{r.person.pk}:{r.email.lower()}:{r.copy_to.lower()}" for r in found)
    return hashlib.sha256("\n".join([str(meeting.pk), kind, *lines]).encode()).hexdigest()


def recipients_without_email(meeting: Meeting) -> list[Appointment]:
    """Members invited who have no address at all: the secretariat posts them the printed letter."""
    from core.models import User

    members = meeting_selectors.invited_members(meeting, affiliations=False)
    user_ids = [p.user_id for a in members if (p := a.person) is not None and not p.email and p.user_id]
    with_account_email = set(User.objects.filter(pk__in=user_ids).exclude(email="").values_list("pk", flat=True))
    return [
        a for a in members
        if (p := a.person) is None or not (p.email.strip() or p.user_id in with_account_email)
    ]


def secretariat_email(meeting: Meeting) -> str:
    return (meeting.body.secretariat.email or "").strip()


def notices_of(meeting: Meeting) -> list[Notice]:
    """The meeting's notices, newest first, each with its deliveries (recipients first, then the copies)
    and how many failed (`failed_count`). Three queries."""
    deliveries = Delivery.objects.select_related("person").order_by("-role", "id")
    return list(
        Notice.objects.filter(meeting=meeting)
        .annotate(failed_count=Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED)))
        .select_related("created_by")
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .order_by("-created_at", "-id")
    )


def attendance_of(meeting: Meeting, person: Person | None) -> Attendance | None:
    """The person's attendance row for the meeting (as a member, else as another attendee)."""
    if person is None:
        return None
    return (
        Attendance.objects.filter(meeting=meeting)
        .filter(Q(appointment__person=person) | Q(attendee__person=person))
        .order_by("appointment_id")
        .first()
    )


def failed_deliveries(notice: Notice) -> QuerySet[Delivery]:
    """The deliveries of `notice` that failed, for the secretariat to resend."""
    return notice.deliveries.filter(state=Delivery.State.FAILED).select_related("person").order_by("id")


# --- calendar feeds ----------------------------------------------------------------------------------


def _latest(history: QuerySet[Any]) -> Subquery:
    """The latest history_date of these historical records (simple-history), as a subquery."""
    return Subquery(history.order_by("-history_date").values("history_date")[:1], output_field=DateTimeField())


def with_revision(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Each meeting with `revised_at`: its last change, from its history (its creation when it has none).
    A feed's DTSTAMP (notices.calendar.feed_ics)."""
    history = Meeting.history.model.objects.filter(id=OuterRef("pk"))
    return meetings.annotate(revised_at=Coalesce(_latest(history), "created_at"))


def body_feed_modified(body: Body) -> dt.datetime | None:
    """The last change to what the body's public feed is made of, from the history in one query: the body
    (its names) and every meeting of it, a deleted one too, so that Last-Modified never goes back."""
    meetings = Meeting.history.model.objects.filter(body_id=OuterRef("pk"))
    bodies = Body.history.model.objects.filter(id=OuterRef("pk"))
    found = (
        Body.objects.filter(pk=body.pk)
        .annotate(meetings_at=_latest(meetings), body_at=_latest(bodies))
        .values_list("meetings_at", "body_at")
        .first()
    )
    return max((at for at in found or () if at is not None), default=None)

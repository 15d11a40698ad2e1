"""Every change to the roster goes through these functions: they lock, check, save and audit."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import kana
from core.audit import AuditAction, audit_record
from core.types import AnyUser
from core.validation import local_date
from core.wareki import fiscal_year_bounds, fiscal_year_of

from .models import Affiliation, Appointment, Body, Guideline, GuidelineArticle, OfficerTerm, Person
from .selectors import appointment_histories, guideline_in_force, is_secretariat_of_body, officers_on


class RosterError(ValidationError):
    """A roster change the guidelines or the current state do not allow; the message says why."""


# --- terms -------------------------------------------------------------------------------------


def term_end_for(
    *, guideline: Guideline | None, term_start: dt.date, predecessor: Appointment | None = None
) -> dt.date | None:
    """The last day of a term starting on `term_start` under `guideline`.

    A successor serves the predecessor's remaining term where the guidelines say so (第5-2).
    """
    if guideline is None:
        return None
    if predecessor is not None and guideline.successor_serves_remainder:
        return predecessor.term_end
    rule = guideline.term_rule
    if rule == Guideline.TermRule.FIXED_DATE:
        return guideline.term_fixed_end
    if rule in (Guideline.TermRule.YEARS, Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END):
        if guideline.term_years is None:  # a check constraint forbids it on saved guidelines
            raise RosterError(_("Give the length of a term in years."))
        end = _years_end(term_start, guideline.term_years)
        return end if rule == Guideline.TermRule.YEARS else fiscal_year_bounds(fiscal_year_of(end))[1]
    return None


def _years_end(term_start: dt.date, years: int) -> dt.date:
    """The last day of `years` years counted from `term_start` (民法第143条).

    The term ends the day before the anniversary; a term starting on 29 February has no anniversary
    in a common year, so it ends on the last day of February.
    """
    anniversary = term_start + relativedelta(years=years)  # 29 Feb clips to 28 Feb
    if anniversary.day != term_start.day:
        return anniversary
    return anniversary - dt.timedelta(days=1)


def _consecutive_terms(previous: list[Appointment], term_start: dt.date) -> int:
    """How many terms in a row end the day before `term_start` (gaps of a day or less count as in a row)."""
    count, start = 0, term_start
    for appointment in sorted(previous, key=lambda a: a.term_start, reverse=True):
        end = appointment.effective_end
        if end is None or (start - end).days > 1:
            break
        count, start = count + 1, appointment.term_start
    return count


def _check_overlap(others: list[Appointment], person: Person, term_start: dt.date, term_end: dt.date | None) -> None:
    """One person holds one appointment on a body at a time."""
    for other in others:
        if other.is_active_on(term_start) or (
            other.term_start >= term_start and (term_end is None or other.term_start <= term_end)
        ):
            raise RosterError(
                _("%(name)s already holds an appointment on this body from %(start)s; terms may not overlap.")
                % {"name": person.full_name, "start": local_date(other.term_start)}
            )


def _check_reappointment(earlier: list[Appointment], guideline: Guideline, term_start: dt.date) -> None:
    """再任: allowed at all, and within the guidelines' limit of consecutive terms."""
    if not guideline.reappointment_allowed:
        raise RosterError(_("The guidelines do not allow reappointment (再任)."))
    limit = guideline.max_consecutive_terms
    if limit and _consecutive_terms(earlier, term_start) + 1 > limit:
        raise RosterError(_("The guidelines allow at most %(limit)d consecutive terms.") % {"limit": limit})


def _check_predecessor(predecessor: Appointment, body: Body, term_start: dt.date) -> None:
    """A successor (第5-2) sits on the same body, after the predecessor left office, and only once."""
    if predecessor.body_id != body.pk:
        raise RosterError(_("A successor must sit on the same body as the predecessor."))
    if hasattr(predecessor, "successor"):
        raise RosterError(_("%(name)s already has a successor.") % {"name": predecessor.holder_name})
    end = predecessor.effective_end
    if predecessor.ended_on is None:
        raise RosterError(_("Record how the predecessor's appointment ended before appointing a successor."))
    if end is not None and term_start <= end:
        raise RosterError(_("The successor's term must start after the predecessor left office."))


def _check_appointment(
    *,
    body: Body,
    person: Person | None,
    guideline: Guideline | None,
    term_start: dt.date,
    term_end: dt.date | None,
    predecessor: Appointment | None,
) -> None:
    if person is not None:
        others = list(Appointment.objects.filter(body=body, person=person))
        _check_overlap(others, person, term_start, term_end)
        earlier = [a for a in others if a.term_start < term_start and predecessor is None]
        if earlier and guideline is not None:
            _check_reappointment(earlier, guideline, term_start)
    if predecessor is not None:
        _check_predecessor(predecessor, body, term_start)


def _term_for(
    *, body: Body, person: Person | None, term_start: dt.date, term_end: dt.date | None,
    predecessor: Appointment | None, guideline: Guideline | None = None,
) -> tuple[Guideline | None, dt.date | None]:
    """The guidelines that apply and the term's last day, after every check; raises RosterError.

    `guideline` names the version to apply (a renewal chooses it); by default the one in force on `term_start`.
    """
    if guideline is None:
        guideline = guideline_in_force(body=body, day=term_start)
    else:
        _check_guideline_version(body, guideline, term_start)
    allowed_end = term_end_for(guideline=guideline, term_start=term_start, predecessor=predecessor)
    if term_end is None:
        term_end = allowed_end
    elif allowed_end is not None and term_end > allowed_end:
        raise RosterError(
            _("The term may not run past %(end)s under the guidelines in force.") % {"end": local_date(allowed_end)}
        )
    if term_end is not None and term_end < term_start:
        if guideline is not None and term_end == allowed_end:
            # A fixed end date (第5: 令和6年3月31日まで) is the usual cause: the 要綱 needs its amendment first.
            raise RosterError(
                _("Under the guidelines in force on %(start)s, terms end on %(end)s: amend the guidelines "
                  "from %(start)s first.") % {"start": term_start.isoformat(), "end": term_end.isoformat()}
            )
        raise RosterError(_("The term would end before it starts; check the dates."))
    _check_appointment(
        body=body, person=person, guideline=guideline, term_start=term_start, term_end=term_end, predecessor=predecessor
    )
    return guideline, term_end


def _check_guideline_version(body: Body, guideline: Guideline, term_start: dt.date) -> None:
    """A term is governed by a version of the body's own guidelines that took effect by its first day."""
    if guideline.body_id != body.pk:
        raise RosterError(_("Choose a version of this body's guidelines."))
    if guideline.effective_on > term_start:
        raise RosterError(
            _("The guidelines version of %(effective)s is not yet in force on %(start)s.")
            % {"effective": guideline.effective_on.isoformat(), "start": term_start.isoformat()}
        )


def appointment_check(
    *,
    body: Body,
    appointed_on: dt.date,
    person: Person | None = None,
    term_start: dt.date | None = None,
    term_end: dt.date | None = None,
    predecessor: Appointment | None = None,
) -> dt.date | None:
    """Validate an appointment before it is made (for forms); returns the term's last day.

    `appointment_create` repeats the checks under a lock.
    """
    _guideline, end = _term_for(
        body=body, person=person, term_start=term_start or appointed_on, term_end=term_end, predecessor=predecessor
    )
    return end


@transaction.atomic
def appointment_create(
    *,
    actor: AnyUser | None,
    body: Body,
    appointed_on: dt.date,
    person: Person | None = None,
    post_title: str = "",
    category: str = Appointment.Category.MEMBER,
    term_start: dt.date | None = None,
    term_end: dt.date | None = None,
    affiliation: str = "",
    appointed_by: str | None = None,
    predecessor: Appointment | None = None,
    role_label: str = "",
    display_order: int = 100,
    note: str = "",
    guideline: Guideline | None = None,
) -> Appointment:
    """委嘱: appoint a person (or a post) to a body; the term follows the guidelines in force.

    An explicit `term_end` may shorten the term but never pass what the guidelines allow; `guideline`
    names the version applied (one in force by `term_start`), by default the newest in force then.
    """
    # One person's appointments on one body are checked for overlap under a lock on the body,
    # so two concurrent appointments of the same person cannot both pass the check.
    body = Body.objects.select_for_update().get(pk=body.pk)
    if predecessor is not None:
        predecessor = Appointment.objects.select_for_update().get(pk=predecessor.pk)
    term_start = term_start or appointed_on
    guideline, term_end = _term_for(
        body=body, person=person, term_start=term_start, term_end=term_end, predecessor=predecessor,
        guideline=guideline,
    )
    appointment = Appointment(
        body=body,
        person=person,
        post_title=post_title,
        category=category,
        role_label=role_label,
        guideline=guideline,
        appointed_on=appointed_on,
        appointed_by=(
            appointed_by if appointed_by is not None else (guideline.appointing_authority if guideline else "")
        ),
        term_start=term_start,
        term_end=term_end,
        predecessor=predecessor,
        display_order=display_order,
        note=note,
    )
    appointment.full_clean()
    appointment.save()
    if affiliation:
        Affiliation.objects.create(appointment=appointment, text=affiliation.strip(), valid_from=term_start)
    audit_record(
        actor=actor,
        action=AuditAction.APPOINTMENT_CREATED,
        target=appointment,
        data={"term_start": term_start.isoformat(), "term_end": term_end.isoformat() if term_end else None},
    )
    return appointment


@transaction.atomic
def appointment_reappoint(
    *, actor: AnyUser | None, appointment: Appointment, appointed_on: dt.date | None = None
) -> Appointment:
    """再任: a new term for the same person on the same body, starting the day after the last ended."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)  # the caller's copy may be stale
    end = appointment.effective_end
    if end is None:
        raise RosterError(_("This appointment has no end; there is nothing to renew."))
    start = end + dt.timedelta(days=1)
    return appointment_create(
        actor=actor,
        body=appointment.body,
        person=appointment.person,
        post_title=appointment.post_title,
        category=appointment.category,
        appointed_on=appointed_on or start,
        term_start=start,
        affiliation=appointment.affiliation_on(end),
        role_label=appointment.role_label,
        display_order=appointment.display_order,
    )


@transaction.atomic
def appointment_end(*, actor: AnyUser | None, appointment: Appointment, ended_on: dt.date, reason: str) -> Appointment:
    """End an appointment early (辞任, 解嘱, 死亡) or record its expiry. Officer posts it held end with it."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if reason not in Appointment.EndReason.values:
        raise RosterError(_("Choose how the appointment ended."))
    if appointment.ended_on is not None:
        if appointment.ended_on == ended_on and appointment.end_reason == reason:
            return appointment  # recorded already: doing it twice is harmless
        raise RosterError(_("This appointment already ended on %(day)s.") % {"day": local_date(appointment.ended_on)})
    if ended_on < appointment.term_start:
        raise RosterError(_("An appointment cannot end before its term started."))
    if appointment.term_end is not None and ended_on > appointment.term_end:
        raise RosterError(_("The term already ends on %(day)s.") % {"day": local_date(appointment.term_end)})
    if reason == Appointment.EndReason.EXPIRED and ended_on != appointment.term_end:
        raise RosterError(_("A term expires on its last day; for an earlier end choose resignation or dismissal."))
    appointment.ended_on, appointment.end_reason = ended_on, reason
    appointment.full_clean()
    appointment.save(update_fields=["ended_on", "end_reason"])
    # A chair who resigns leaves the post vacant from the next day (第3-6: the vice chair acts).
    for term in appointment.officer_terms.select_for_update().filter(Q(end_on__isnull=True) | Q(end_on__gt=ended_on)):
        term.end_on = max(ended_on, term.start_on)
        term.save(update_fields=["end_on"])
    audit_record(
        actor=actor,
        action=AuditAction.APPOINTMENT_ENDED,
        target=appointment,
        data={"ended_on": ended_on.isoformat(), "reason": reason},
    )
    return appointment


@transaction.atomic
def person_create(
    *,
    actor: AnyUser | None,
    family_name: str,
    family_name_kana: str,
    given_name: str = "",
    given_name_kana: str = "",
    email: str = "",
    gender: str = "",
) -> Person:
    """A new person on the roster; readings are normalised to hiragana (読み, required for 五十音順)."""
    person = Person(
        family_name=family_name.strip(),
        given_name=given_name.strip(),
        family_name_kana=kana.normalise_reading(family_name_kana, required=True),
        given_name_kana=kana.normalise_reading(given_name_kana, required=False),
        email=email.strip(),
        gender=gender,
    )
    person.full_clean()
    person.save()
    audit_record(actor=actor, action=AuditAction.PERSON_CREATED, target=person, data={})
    return person


@transaction.atomic
def appointment_succeed(
    *, actor: AnyUser | None, predecessor: Appointment, person: Person, appointed_on: dt.date, affiliation: str = ""
) -> Appointment:
    """後任の委嘱 (第5-2): the successor of an appointment that ended early serves the remaining term,
    from the day after the predecessor left (or the day of appointment, if later), in the same seat."""
    predecessor = Appointment.objects.select_for_update().get(pk=predecessor.pk)
    if predecessor.ended_on is None:
        raise RosterError(_("Record how the predecessor's appointment ended before appointing a successor."))
    start = max(appointed_on, predecessor.ended_on + dt.timedelta(days=1))
    return appointment_create(
        actor=actor,
        body=predecessor.body,
        person=person,
        appointed_on=appointed_on,
        term_start=start,
        category=predecessor.category,
        affiliation=affiliation,
        predecessor=predecessor,
        role_label=predecessor.role_label,
        display_order=predecessor.display_order,
    )


@transaction.atomic
def affiliation_change(
    *, actor: AnyUser | None, appointment: Appointment, text: str, valid_from: dt.date
) -> Affiliation:
    """Record a new 所属・役職 from `valid_from`; earlier documents keep showing the old one."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    text = text.strip()
    if not text:
        raise RosterError(_("Enter the affiliation."))
    if not appointment.is_active_on(valid_from) and valid_from != appointment.term_start:
        raise RosterError(_("The date must fall within the term of office."))
    record, created = Affiliation.objects.update_or_create(
        appointment=appointment, valid_from=valid_from, defaults={"text": text}
    )
    audit_record(
        actor=actor,
        action=AuditAction.AFFILIATION_CHANGED,
        target=appointment,
        data={"valid_from": valid_from.isoformat(), "text": text},
    )
    return record


# --- officers ----------------------------------------------------------------------------------


def _check_officer_candidate(body: Body, appointment: Appointment, day: dt.date) -> None:
    if appointment.body_id != body.pk:
        raise RosterError(_("Only a member of this body can hold its posts."))
    if not appointment.is_member or not appointment.is_active_on(day):
        raise RosterError(
            _("%(name)s is not a member in office on %(day)s.")
            % {"name": appointment.holder_name, "day": local_date(day)}
        )


def _selection_for(body: Body, role: str, day: dt.date) -> str:
    guideline = guideline_in_force(body=body, day=day)
    if role == OfficerTerm.Role.CHAIR:
        selected_by = guideline.chair_selection if guideline else Guideline.Selection.MUTUAL_ELECTION
        if selected_by == Guideline.Selection.NONE:
            raise RosterError(_("The guidelines of this body provide for no chair."))
        return selected_by
    selected_by = guideline.vice_chair_selection if guideline else Guideline.Selection.NOMINATED_BY_CHAIR
    if selected_by == Guideline.Selection.NONE:
        raise RosterError(_("The guidelines of this body provide for no vice chair."))
    if selected_by == Guideline.Selection.NOMINATED_BY_CHAIR and officers_on(body=body, day=day).chair is None:
        raise RosterError(_("The vice chair is nominated by the chair; choose the chair first."))
    return selected_by


def officer_check(*, body: Body, role: str, appointment: Appointment, selected_on: dt.date, start_on: dt.date) -> str:
    """Validate choosing `appointment` for `role` (for forms); returns how the guidelines say it is chosen."""
    if role not in OfficerTerm.Role.values:
        raise RosterError(_("Choose the post."))
    selected_by = _selection_for(body, role, selected_on)
    _check_officer_candidate(body, appointment, start_on)
    other_role = OfficerTerm.Role.VICE_CHAIR if role == OfficerTerm.Role.CHAIR else OfficerTerm.Role.CHAIR
    other = getattr(officers_on(body=body, day=start_on), other_role)
    if other is not None and other.appointment_id == appointment.pk:
        raise RosterError(_("The same person cannot be chair and vice chair at once."))
    return selected_by


@transaction.atomic
def _officer_take_post(
    *, actor: AnyUser | None, body: Body, role: str, appointment: Appointment, selected_on: dt.date, start_on: dt.date,
    meeting_label: str,
) -> OfficerTerm:
    body = Body.objects.select_for_update().get(pk=body.pk)  # serialises elections on one body
    # Re-read: the caller's copy may predate a resignation, and the term ends with the 委嘱.
    appointment = Appointment.objects.select_related("person").get(pk=appointment.pk)
    officers = officers_on(body=body, day=start_on)
    current = officers.chair if role == OfficerTerm.Role.CHAIR else officers.vice_chair
    if current is not None and current.appointment_id == appointment.pk:
        return current  # already holds the post: choosing twice changes nothing
    selected_by = officer_check(
        body=body, role=role, appointment=appointment, selected_on=selected_on, start_on=start_on
    )
    if current is not None:
        if start_on <= current.start_on:
            raise RosterError(_("The post changed hands on the same day; end the earlier term first."))
        current.end_on = start_on - dt.timedelta(days=1)
        current.save(update_fields=["end_on"])
    term = OfficerTerm(
        body=body,
        role=role,
        appointment=appointment,
        selected_by=selected_by,
        selected_on=selected_on,
        start_on=start_on,
        end_on=appointment.effective_end,
        meeting_label=meeting_label,
    )
    term.full_clean()
    term.save()
    chair = role == OfficerTerm.Role.CHAIR
    audit_record(
        actor=actor,
        action=AuditAction.OFFICER_CHAIR_CHOSEN if chair else AuditAction.OFFICER_VICE_CHAIR_CHOSEN,
        target=term,
        data={"start_on": start_on.isoformat(), "selected_by": selected_by},
    )
    return term


def officer_elect_chair(
    *, actor: AnyUser | None, body: Body, appointment: Appointment, selected_on: dt.date,
    start_on: dt.date | None = None, meeting_label: str = "",
) -> OfficerTerm:
    """委員長の選任, as the guidelines say (usually 互選 of the members)."""
    return _officer_take_post(
        actor=actor, body=body, role=OfficerTerm.Role.CHAIR, appointment=appointment,
        selected_on=selected_on, start_on=start_on or selected_on, meeting_label=meeting_label,
    )


def officer_nominate_vice_chair(
    *, actor: AnyUser | None, body: Body, appointment: Appointment, selected_on: dt.date,
    start_on: dt.date | None = None, meeting_label: str = "",
) -> OfficerTerm:
    """副委員長の指名: where the guidelines say the chair nominates, a chair must be in office."""
    return _officer_take_post(
        actor=actor, body=body, role=OfficerTerm.Role.VICE_CHAIR, appointment=appointment,
        selected_on=selected_on, start_on=start_on or selected_on, meeting_label=meeting_label,
    )


@transaction.atomic
def officer_end(*, actor: AnyUser | None, officer_term: OfficerTerm, end_on: dt.date, note: str = "") -> OfficerTerm:
    """End an officer's term (the post becomes vacant from the next day)."""
    term = OfficerTerm.objects.select_for_update().get(pk=officer_term.pk)
    if term.end_on is not None and term.end_on <= end_on:
        return term
    if end_on < term.start_on:
        raise RosterError(_("The post cannot end before it started."))
    term.end_on = end_on
    if note:
        term.note = note
    term.save(update_fields=["end_on", "note"])
    audit_record(actor=actor, action=AuditAction.OFFICER_ENDED, target=term, data={"end_on": end_on.isoformat()})
    return term


# --- guidelines --------------------------------------------------------------------------------


@transaction.atomic
def guideline_amend(
    *, actor: AnyUser | None, guideline: Guideline, effective_on: dt.date, amendment_note: str, **changes: object
) -> Guideline:
    """改正: a new version of the guidelines from `effective_on`, copied with its articles; the old stays readable."""
    current = Guideline.objects.select_for_update().get(pk=guideline.pk)
    if effective_on <= current.effective_on:
        raise RosterError(_("An amendment takes effect after the version it amends."))
    if Guideline.objects.filter(body=current.body, effective_on=effective_on).exists():
        raise RosterError(_("A version taking effect on that day exists already."))
    articles = list(current.articles.all())
    new = Guideline.objects.get(pk=current.pk)
    new.pk = None
    new.id = None
    new._state.adding = True
    new.effective_on = effective_on
    new.amendment_note = amendment_note
    for field, value in changes.items():
        setattr(new, field, value)
    new.full_clean()
    new.save()
    GuidelineArticle.objects.bulk_create(
        GuidelineArticle(
            guideline=new, position=a.position, kind=a.kind, number=a.number, heading=a.heading, text=a.text
        )
        for a in articles
    )
    audit_record(
        actor=actor, action=AuditAction.GUIDELINE_AMENDED, target=new, data={"effective_on": effective_on.isoformat()}
    )
    return new


# --- renewal (改選) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewMember:
    """A member a renewal adds: a person already on the roster, or a new one by name and reading (読み)."""

    person: Person | None = None
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    gender: str = ""
    email: str = ""
    affiliation: str = ""
    category: str = Appointment.Category.MEMBER
    role_label: str = ""

    @property
    def name(self) -> str:
        return self.person.full_name if self.person is not None else f"{self.family_name} {self.given_name}".strip()


def renewal_guideline(*, body: Body, term_start: dt.date, guideline: Guideline | None = None) -> Guideline:
    """The guidelines version a new term follows: the chosen one (in force by `term_start`) or the newest then."""
    if guideline is None:
        guideline = guideline_in_force(body=body, day=term_start)
        if guideline is None:
            raise RosterError(_("No guidelines of this body are in force on the first day of the term."))
        return guideline
    _check_guideline_version(body, guideline, term_start)
    return guideline


def renewal_continuation_problem(
    *, appointment: Appointment, history: list[Appointment], guideline: Guideline, term_start: dt.date
) -> str:
    """Why `appointment`'s holder cannot serve the new term ('' if they can); `history` is every appointment
    of that person on the body (the caller fetches them for all members at once)."""
    if appointment.ended_on is not None and appointment.end_reason != Appointment.EndReason.EXPIRED:
        return _("Left office early (%(reason)s).") % {"reason": appointment.get_end_reason_display()}
    if not appointment.is_member:
        return _("Not a member seat.")
    person = appointment.person
    if person is None:  # a seat held by a post: the post continues, there is no term to count
        return ""
    term_end = term_end_for(guideline=guideline, term_start=term_start)
    try:
        _check_overlap(history, person, term_start, term_end)
        earlier = [a for a in history if a.term_start < term_start]
        if earlier:
            _check_reappointment(earlier, guideline, term_start)
    except RosterError as exc:
        return " ".join(exc.messages)
    return ""


def renewal_seat_problem(*, body: Body, count: int) -> str:
    """The refusal when a renewal would seat more members than the 定数 ('' within it)."""
    if body.seats and count > body.seats:
        return _(
            "The body has %(seats)d seats (定数) but the new term would have %(count)d members, "
            "%(over)d too many. Leave out members or add fewer."
        ) % {"seats": body.seats, "count": count, "over": count - body.seats}
    return ""


def renewal_problems(
    *, body: Body, term_start: dt.date, guideline: Guideline, continuing: list[Appointment],
    new_members: list[NewMember],
) -> list[str]:
    """Everything that stops this renewal, one sentence each (empty: it may go ahead). Reads a fixed
    number of queries however many members there are, so the preview can call it."""
    problems: list[str] = []
    people = [a.person_id for a in continuing if a.person_id] + [m.person.pk for m in new_members if m.person]
    if len(people) != len(set(people)):
        problems.append(_("The same person is listed twice."))
    histories = appointment_histories(body=body, person_ids={p for p in people if p})
    for appointment in continuing:
        if appointment.body_id != body.pk:
            problems.append(_("%(name)s is not on this body.") % {"name": appointment.holder_name})
            continue
        history = histories.get(appointment.person_id or 0, [])
        problem = renewal_continuation_problem(
            appointment=appointment, history=history, guideline=guideline, term_start=term_start
        )
        if problem:
            problems.append(f"{appointment.holder_name}: {problem}")
    term_end = term_end_for(guideline=guideline, term_start=term_start)
    if term_end is not None and term_end < term_start:
        problems.append(
            _("Under the guidelines chosen, terms end on %(end)s, before the new term starts; choose the version "
              "in force or amend the guidelines first.") % {"end": term_end.isoformat()}
        )
    for member in new_members:
        if member.person is None:
            if not member.family_name.strip() or not member.family_name_kana.strip():
                problems.append(_("Give the family name and its reading of every new member."))
            continue
        try:
            history = histories.get(member.person.pk, [])
            _check_overlap(history, member.person, term_start, term_end)
            earlier = [a for a in history if a.term_start < term_start]
            if earlier:
                _check_reappointment(earlier, guideline, term_start)
        except RosterError as exc:
            problems.append(f"{member.name}: {' '.join(exc.messages)}")
    already = Appointment.objects.filter(body=body).members().active_on(term_start).exclude(
        person_id__in=[p for p in people if p]
    ).count()
    members = sum(a.is_member for a in continuing) + sum(
        m.category in Appointment.MEMBER_CATEGORIES for m in new_members
    )
    seat_problem = renewal_seat_problem(body=body, count=already + members)
    if seat_problem:
        problems.append(seat_problem)
    return problems


@transaction.atomic
def body_renew(
    *,
    actor: AnyUser | None,
    body: Body,
    term_start: dt.date,
    guideline: Guideline | None = None,
    continuing: list[Appointment],
    new_members: list[NewMember],
    appointed_on: dt.date | None = None,
) -> list[Appointment]:
    """改選: a new term for the whole body at once. The `continuing` members are reappointed (再任) and the
    `new_members` appointed, all from `term_start` under `guideline` (a version in force by then; by
    default the newest), or none of them. Officers are not carried over: the first meeting elects them.
    """
    # The body's lock serialises this with every other appointment on it (see appointment_create).
    body = Body.objects.select_for_update().get(pk=body.pk)
    guideline = renewal_guideline(body=body, term_start=term_start, guideline=guideline)
    continuing = list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk__in=[a.pk for a in continuing])
        .order_by("pk")
    )
    problems = renewal_problems(
        body=body, term_start=term_start, guideline=guideline, continuing=continuing, new_members=new_members
    )
    if problems:
        raise RosterError(problems)
    appointed_on = appointed_on or term_start
    created = [
        appointment_create(
            actor=actor, body=body, person=a.person, post_title=a.post_title, category=a.category,
            appointed_on=appointed_on, term_start=term_start,
            affiliation=a.affiliation_on(a.effective_end or term_start),
            role_label=a.role_label, display_order=a.display_order, guideline=guideline,
        )
        for a in continuing
    ]
    for member in new_members:
        person = member.person or person_create(
            actor=actor, family_name=member.family_name, given_name=member.given_name,
            family_name_kana=member.family_name_kana, given_name_kana=member.given_name_kana,
            email=member.email, gender=member.gender,
        )
        created.append(
            appointment_create(
                actor=actor, body=body, person=person, category=member.category, appointed_on=appointed_on,
                term_start=term_start, affiliation=member.affiliation, role_label=member.role_label,
                guideline=guideline,
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.BODY_RENEWED,
        target=body,
        data={
            "term_start": term_start.isoformat(),
            "guideline": guideline.pk,
            "guideline_effective_on": guideline.effective_on.isoformat(),
            "continuing": [a.pk for a in continuing],
            "appointments": [a.pk for a in created],
        },
    )
    return created


# --- the body's own details ---------------------------------------------------------------------

# What the secretariat may change in the site; the address (slug) and the secretariat unit stay the admin's.
BODY_EDITABLE = (
    "name", "short_name", "kind", "parent", "has_external_members", "established_on", "dissolved_on", "seats",
    "is_public", "display_order", "minutes_publish_days", "convener_account",
)


def _descendant_ids(body: Body) -> set[int]:
    """The bodies under `body`, at any depth (one query per level; body trees are shallow)."""
    found: set[int] = set()
    level = {body.pk}
    while level:
        level = set(Body.objects.filter(parent_id__in=level).values_list("pk", flat=True)) - found - {body.pk}
        found |= level
    return found


def _check_parent(actor: AnyUser, body: Body, parent: object) -> None:
    if parent is None:
        return
    if not isinstance(parent, Body):
        raise RosterError({"parent": _("Choose the parent body from the list.")})
    if parent.pk == body.pk or parent.pk in _descendant_ids(body):
        raise RosterError({"parent": _("The parent body cannot be the body itself or one of the bodies under it.")})
    if not is_secretariat_of_body(actor, parent):
        raise RosterError({"parent": _("The parent body must be one your secretariat serves.")})


@transaction.atomic
def body_update(*, actor: AnyUser, body: Body, **changes: object) -> Body:
    """The secretariat changes the body's own details (name, 定数, dates, parent …); only the fields of
    BODY_EDITABLE, checked by the model's rules; saves and audits only what changed."""
    unknown = sorted(set(changes) - set(BODY_EDITABLE))
    if unknown:
        raise RosterError(_("These details cannot be changed here: %(fields)s.") % {"fields": ", ".join(unknown)})
    # The lock keeps two editors (or an edit and a renewal reading the 定数) from overwriting each other.
    body = Body.objects.select_for_update().get(pk=body.pk)
    if "parent" in changes:
        _check_parent(actor, body, changes["parent"])
    attnames = {f.name: f.attname for f in Body._meta.concrete_fields if f.name in changes}
    before = {name: getattr(body, attname) for name, attname in attnames.items()}
    for name, value in changes.items():
        setattr(body, name, value)
    changed = [name for name, attname in attnames.items() if getattr(body, attname) != before[name]]
    if not changed:
        return body
    body.full_clean()
    body.save(update_fields=changed)
    audit_record(actor=actor, action=AuditAction.BODY_UPDATED, target=body, data={"fields": changed})
    return body

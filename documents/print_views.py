"""The documents the secretariat prints, as HTML print views and PDFs: 次第, 出席者名簿, 席図, 開催通知,
委嘱状 and 会議資料一式.

They are Japanese documents whatever the UI language: their fixed headings are written in Japanese in
the templates, and dates are 和暦 from core.wareki (not the language-dependent template filters).
Who may see what is decided here with the same selectors as the meeting pages (404 when refused).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import logging
import re
import unicodedata
from contextlib import ExitStack
from typing import overload
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from committee import selectors as committee_selectors
from committee.access import appointment_for, body_for
from committee.models import Appointment, Body
from core import wareki
from core.http import client_ip
from core.middleware import CSP
from core.models import AuditAction, AuditEntry
from meetings import selectors as meeting_selectors
from meetings import services as meeting_services
from meetings.access import Access, MeetingPurpose, meeting_for, visible_agenda
from meetings.models import Attendance, Attendee, Meeting, Seat

from . import delivery, services
from .access import materials_visible_to
from .models import Material
from .pdf import Part, compile_pdfs, print_css, render_pdf

logger = logging.getLogger(__name__)

RESTRICTION: dict[str, str] = {Material.Visibility.MEMBERS: "委員限り", Material.Visibility.SECRETARIAT: "事務局のみ"}
ROLE_NAMES: dict[str, str] = {
    Attendee.Role.EXPLAINER: "説明員",
    Attendee.Role.WITNESS: "参考人",
    Attendee.Role.OBSERVER: "オブザーバー",
    Attendee.Role.SECRETARIAT: "事務局",
}
CATEGORY_NAMES: dict[str, str] = {
    Appointment.Category.OBSERVER: "オブザーバー",
    Appointment.Category.SECRETARIAT: "事務局",
}
BUSINESS_TITLES = ("議事", "議題")
CEREMONY_TITLES = ("開会", "閉会")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


# --- shared pieces -------------------------------------------------------------------------------


def _parse_datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def when_line(start: dt.datetime | None, end: dt.datetime | None = None, *, month: dt.date | None = None,
              time_undecided: bool = False) -> str:
    """令和5年5月10日(水)14:00～16:00 as the seed prints it; the month only while the day is 未定."""
    if start is not None:
        local = timezone.localtime(start)
        text = wareki.format_date(local)
        if time_undecided:
            return f"{text} 時刻未定"
        text += f"{local:%H:%M}"
        return text + (f"～{timezone.localtime(end):%H:%M}" if end is not None else "")
    if month is not None:
        return wareki.format_month(month.year, month.month) + "(日程未定)"
    return ""


def meeting_when(meeting: Meeting) -> str:
    return when_line(meeting.start_at, meeting.end_at, month=meeting.planned_month,
                     time_undecided=meeting.time_undecided)


def title_line(meeting: Meeting) -> str:
    """第1回「(仮称)青森県DX推進プラン」策定委員会."""
    return f"{meeting.label}{meeting.title}"


def venue_line(meeting: Meeting) -> str:
    return " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v)


def material_line(material: Material, *, mark_restricted: bool = True) -> dict:
    """資料1 「…」設置要綱, with (委員限り) where the viewer sees more than the public does."""
    return {
        "text": f"{material.label} {material.title}".strip(),
        "restriction": RESTRICTION.get(material.visibility, "") if mark_restricted else "",
    }


# --- 次第 -----------------------------------------------------------------------------------------


def _agenda_item(item: dict) -> dict:
    depth = min(int(item["depth"]), 2)
    return {
        "number": f"{item['number']}." if depth == 0 else item["number"],
        "depth": depth,
        "title": item["title"],
        "detail": item.get("detail", ""),
        "presenter": item.get("presenter", ""),
        "time": item.get("time", ""),
        "closed": not item.get("public", True),
    }


def agenda_context(meeting: Meeting, *, user, access: Access, draft: bool = False) -> dict | None:
    """The 次第 as this user may read it: the approved version (public items only for the public), or
    the live draft for the secretariat's preview. None when there is nothing the user may read."""
    if draft:
        agenda = getattr(meeting, "agenda", None)
        snapshot = meeting_services.agenda_snapshot(agenda) if agenda is not None else None
    else:
        snapshot = visible_agenda(meeting, access)
    if snapshot is None:
        return None
    particulars = snapshot["meeting"]
    materials = [m for m in materials_visible_to(user, meeting, access) if not m.is_withdrawn]
    line = f"{particulars['label']}{particulars['title']}"
    return {
        "meeting": meeting,
        "document_title": f"{line} 次第",
        "title_line": line,
        "when": when_line(
            _parse_datetime(particulars.get("start_at")), _parse_datetime(particulars.get("end_at")),
            month=_parse_date(particulars.get("planned_month")), time_undecided=meeting.time_undecided,
        ),
        "venue": particulars.get("venue", ""),
        "items": [_agenda_item(item) for item in snapshot["items"]],
        "note": snapshot.get("note", ""),
        "materials": [material_line(m) for m in materials],
        "draft": draft,
    }


# --- 出席者名簿 -------------------------------------------------------------------------------------


def _absent(row: Attendance) -> bool:
    if row.actual:
        return row.actual == Attendance.Actual.ABSENT
    return row.reply == Attendance.Reply.ABSENT


def _mode(row: Attendance) -> str:
    """会場 or オンライン: as recorded after the meeting, as answered before it."""
    if _absent(row):
        return ""
    return row.actual_mode if row.actual else row.reply


def _attendee_of(row: Attendance) -> Attendee:
    """The other attendee of a row that is no member's (the database's check allows no third kind)."""
    if row.attendee is None:
        raise ValueError(f"Attendance {row.pk} has neither an appointment nor an attendee.")
    return row.attendee


def _other_group_and_line(row: Attendance, day: dt.date) -> tuple[str, str]:
    appointment = row.appointment
    if appointment is not None:
        affiliation = appointment.affiliation_on(day) if appointment.person_id else ""
        group = CATEGORY_NAMES.get(appointment.category, "その他")
        return group, " ".join(v for v in (affiliation, appointment.holder_name) if v)
    attendee = _attendee_of(row)
    name = attendee.person.full_name if attendee.person is not None else attendee.name
    group = settings.DXPLAN_ORGANISATION_NAME if attendee.role == Attendee.Role.OFFICIAL else ROLE_NAMES[attendee.role]
    return group, " ".join(v for v in (attendee.title, name) if v)


def attendance_context(meeting: Meeting) -> dict:
    """出席者名簿 in the seed's format: members 五十音順 with ○ for 会場 / オンライン, then the others by group."""
    day = meeting.reference_date
    members: list[dict[str, object]] = []
    others: dict[str, list[str]] = {}
    for row in meeting_selectors.attendance_rows(meeting):
        appointment = row.appointment
        if appointment is not None and appointment.is_member:
            mode = _mode(row)
            members.append({
                "name": row.holder_name, "affiliation": appointment.affiliation_on(day),
                "venue": mode == Attendance.Mode.VENUE, "online": mode == Attendance.Mode.ONLINE,
            })
        elif not _absent(row):
            group, line = _other_group_and_line(row, day)
            others.setdefault(group, []).append(line)
    order = [settings.DXPLAN_ORGANISATION_NAME, *ROLE_NAMES.values(), "その他"]
    line = title_line(meeting)
    return {
        "meeting": meeting,
        "document_title": f"{line}出席者名簿",
        "title_line": line,
        "members": members,
        "others": sorted(others.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)),
    }


# --- 席図 ------------------------------------------------------------------------------------------


def _seat_label(seat: Seat, presiding: meeting_selectors.Approver | None) -> dict:
    row = seat.attendance
    appointment = row.appointment
    if appointment is not None:
        if presiding is not None and appointment.person_id and appointment.person_id == presiding.person_id:
            role = presiding.title
        else:
            role = "委員" if appointment.is_member else CATEGORY_NAMES.get(appointment.category, "")
        return {"name": appointment.holder_name, "role": role}
    attendee = _attendee_of(row)
    name = attendee.person.full_name if attendee.person is not None else attendee.name
    group = settings.DXPLAN_ORGANISATION_NAME if attendee.role == Attendee.Role.OFFICIAL else ROLE_NAMES[attendee.role]
    if not name:
        return {"name": attendee.title or group, "role": group if attendee.title else ""}
    return {"name": name, "role": attendee.title or group}


def seating_context(meeting: Meeting) -> dict:
    """席図 from the meeting's seats: the presiding officer at the head, members on both sides of the table,
    the secretariat at the foot, observers and online participants listed apart."""
    seats = list(
        meeting.seats.select_related("attendance__appointment__person", "attendance__attendee__person")
        .order_by("zone", "position")
    )
    presiding = meeting_selectors.approver_for(meeting, allow_convener=False) if seats else None
    zones: dict[str, list[dict]] = {zone: [] for zone in Seat.Zone.values}
    for seat in seats:
        zones[seat.zone].append(_seat_label(seat, presiding))
    line = title_line(meeting)
    return {
        "meeting": meeting,
        "document_title": f"{line} 席図",
        "title_line": line,
        "when": meeting_when(meeting),
        "venue": venue_line(meeting),
        "zones": zones,
        "sides": list(itertools.zip_longest(zones[Seat.Zone.LEFT], zones[Seat.Zone.RIGHT])),
        "empty": not seats,
    }


# --- 開催通知 ----------------------------------------------------------------------------------------


def business_items(items: list[dict]) -> list[dict]:
    """議題 of a notice: the items under 議事 (the seed's 4 議事 → (1), (2)); without such an item, the
    top-level items other than 開会 and 閉会."""
    collected, inside = [], False
    for item in items:
        if item["depth"] == 0:
            inside = item["title"].strip() in BUSINESS_TITLES
        elif inside:
            collected.append({"number": item["number"], "title": item["title"], "detail": item.get("detail", ""),
                              "indent": item["depth"] > 1, "closed": not item.get("public", True)})
    if collected:
        return collected
    top = [item for item in items if item["depth"] == 0 and item["title"].strip() not in CEREMONY_TITLES]
    return [{"number": f"({i})", "title": item["title"], "detail": item.get("detail", ""), "indent": False,
             "closed": not item.get("public", True)} for i, item in enumerate(top, start=1)]


def _notice_agenda(meeting: Meeting) -> tuple[list[dict], bool]:
    """The approved 次第's items, or the draft's (the letter is then marked 案)."""
    agenda = getattr(meeting, "agenda", None)
    if agenda is None:
        return [], True
    if agenda.approved_version_id is not None:
        return agenda.approved_version.snapshot["items"], False
    return meeting_services.agenda_snapshot(agenda)["items"], True


ONLINE_SENTENCE = "Web会議システムによるオンライン出席も可能です。"


def online_line(meeting: Meeting) -> str:
    """The letter's one line on online attendance: the secretariat's note when it already says so (the
    demo's 「Web会議システムによるオンライン出席を併用」), else the standard sentence with the note after it."""
    note = " ".join(meeting.online_note.split())
    if not note and not meeting.online_url:
        return ""
    if "オンライン" in note or "Web会議" in note:
        return f"※{note}"
    return f"※{ONLINE_SENTENCE}" + (f"（{note}）" if note else "")


def notice_common(meeting: Meeting, *, letter_date: dt.date, deadline: dt.date | None) -> dict:
    """What every member's 開催通知 of a meeting shares: sender, particulars, 議題, contact."""
    unit = meeting.body.secretariat
    # Sender and 問合せ先 from one dated view of the organisation (the letter's date).
    office = committee_selectors.secretariat_on(body=meeting.body, days=[letter_date, meeting.reference_date])
    items, draft = _notice_agenda(meeting)
    return {
        "draft": draft,
        "date_line": wareki.format_date(letter_date, weekday=False),
        "sender": office.convener,
        "subject": f"{title_line(meeting)}の開催について（通知）",
        "when": meeting_when(meeting),
        "venue_lines": [v for v in (venue_line(meeting), meeting.venue_address) if v],
        "online": online_line(meeting),
        "online_url": meeting.online_url,
        "items": business_items(items),
        "deadline": wareki.format_date(deadline) if deadline else "",
        "answer_url": settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk]),
        "secretariat": office.name,
        "secretariat_note": "事務局",
        "phone": unit.phone,
        "email": unit.email,
    }


def notice_letter(common: dict, appointment: Appointment, *, letter_date: dt.date) -> dict:
    """One member's letter: the shared text addressed to them (氏名 様, with their affiliation). Only a member
    with an account is pointed to the page where they can answer after logging in; the others (a letter is
    what reaches members without an address) answer the secretariat by phone or mail."""
    affiliation = appointment.affiliation_on(letter_date) if appointment.person_id else ""
    can_log_in = appointment.person is not None and appointment.person.user_id is not None
    return {**common, "addressee": appointment.holder_name, "affiliation": affiliation, "can_log_in": can_log_in}


@overload
def _date_param(request, name: str, default: dt.date) -> dt.date: ...


@overload
def _date_param(request, name: str, default: None) -> dt.date | None: ...


def _date_param(request, name: str, default: dt.date | None) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(_("Give dates as YYYY-MM-DD.")) from None
    if value < dt.date(1873, 1, 1):  # no 和暦 before the Gregorian calendar was adopted
        raise BadRequest(_("Give dates as YYYY-MM-DD."))
    return value


class LetterDateError(ValueError):
    """A reply deadline before the letter's date: the letter is refused, with the reason."""


def reply_deadline(meeting: Meeting, letter_date: dt.date) -> dt.date | None:
    """The 出欠 deadline a letter proposes: a week before the meeting, but never before the letter itself
    (a late letter asks for an answer by the day before the meeting, or by its own date). None when the
    day is not fixed or the meeting is not after the letter."""
    day = meeting.date
    if day is None or day <= letter_date:
        return None
    week_before = day - dt.timedelta(days=7)
    if week_before >= letter_date:
        return week_before
    return min(day - dt.timedelta(days=1), letter_date + dt.timedelta(days=3))


def _letter_dates(request, meeting: Meeting) -> tuple[dt.date, dt.date | None]:
    letter_date = _date_param(request, "date", timezone.localdate())
    asked = _date_param(request, "deadline", None)
    if asked is None:
        return letter_date, reply_deadline(meeting, letter_date)
    if asked < letter_date:
        raise LetterDateError(
            _("The reply deadline (%(deadline)s) is before the letter's date (%(date)s). Give a deadline on or "
              "after the letter's date.")
            % {"deadline": wareki.format_date(asked), "date": wareki.format_date(letter_date)}
        )
    return letter_date, asked


def _deadline_moved(meeting: Meeting, letter_date: dt.date, deadline: dt.date | None) -> str:
    """The toolbar's word when the usual deadline (a week before the meeting) was not possible (none was
    asked for)."""
    if meeting.date is None or deadline == meeting.date - dt.timedelta(days=7):
        return ""
    if deadline is None:
        return _("No reply deadline is printed: the meeting is not after the letter's date.")
    return _("The reply deadline is %(deadline)s: a week before the meeting would be before the letter's date.") % {
        "deadline": wareki.format_date(deadline)}


def _letter_refused(request, meeting: Meeting, exc: LetterDateError) -> HttpResponse:
    response = render(request, "documents/letter_refused.html",
                      {"meeting": meeting, "reason": str(exc)}, status=400)
    response["Cache-Control"] = "private, no-store"
    return response


# --- 委嘱状 ------------------------------------------------------------------------------------------


def commission_context(appointment: Appointment) -> dict:
    """委嘱状: name 様, 「{body}委員に委嘱します」, the term in 和暦, the date of 委嘱 and who appointed."""
    appointed_by = appointment.appointed_by
    if not appointed_by and appointment.guideline is not None:
        # The 要綱's 委嘱者 under the organisation's names of the day of 委嘱 (a renamed 部's head).
        appointed_by = committee_selectors.official_on(
            body=appointment.body, title=appointment.guideline.appointing_authority, day=appointment.appointed_on
        )
    return {
        "document_title": f"委嘱状 {appointment.holder_name}",
        "name": appointment.holder_name,
        "body_name": appointment.body.name,
        "post": "委員",
        "term_start": wareki.format_date(appointment.term_start, weekday=False),
        "term_end": wareki.format_date(appointment.term_end, weekday=False) if appointment.term_end else "",
        "appointed_on": wareki.format_date(appointment.appointed_on, weekday=False),
        "appointed_by": appointed_by,
    }


# --- 会議資料一式 ----------------------------------------------------------------------------------


def materials_context(meeting: Meeting, materials: list[Material]) -> dict:
    unit = meeting.body.secretariat
    line = title_line(meeting)
    return {
        "document_title": f"{line} 資料一式",
        "title_line": line,
        "when": meeting_when(meeting),
        "restricted": any(m.visibility != Material.Visibility.PUBLIC for m in materials),
        "secretariat": unit.full_name_on(meeting.reference_date) or str(unit),
    }


def _part(material: Material, files: ExitStack) -> Part:
    version = material.current_version
    if version is None:  # the caller keeps only the materials with a file
        raise ValueError(f"Material {material.pk} has no file to compile.")
    if version.extension != "pdf":
        return Part(material.label, material.title, None, version.extension)
    try:
        handle = files.enter_context(version.file.storage.open(version.file.name, "rb"))
    except OSError:
        logger.warning("The file of material %s is missing from storage.", material.pk)
        handle = b""  # listed as unreadable
    return Part(material.label, material.title, handle, "pdf")


# --- responses -----------------------------------------------------------------------------------


def safe_filename(*parts: str, extension: str = "pdf") -> str:
    stem = "_".join(p for p in parts if p)
    stem = _UNSAFE.sub("_", unicodedata.normalize("NFC", stem)).strip(" ._") or "document"
    return f"{stem[:150]}.{extension}"


def pdf_response(data: bytes, filename: str, fallback: str, *, private: bool) -> HttpResponse:
    """An attachment that no title can break out of (RFC 5987), never sniffed or run as a page."""
    response = HttpResponse(data, content_type="application/pdf")
    encoded = quote(filename, safe="")
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    # A public document may stop being public (a meeting closed, a material withdrawn): revalidate always.
    response["Cache-Control"] = "private, no-store" if private else "no-cache"
    return response


def _csp_allowing(css: str) -> str:
    # The print stylesheet is inline (one template for the page and the PDF); allow exactly it by hash.
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return CSP.replace("style-src 'self'", f"style-src 'self' 'sha256-{digest}'", 1)


def _respond(template: str, context: dict, *, fmt: str, filename: str, fallback: str, private: bool) -> HttpResponse:
    css = print_css()
    context = {**context, "print_css": css}
    if fmt == "pdf":
        return pdf_response(render_pdf(template, context), filename, fallback, private=private)
    response = HttpResponse(render_to_string(template, {**context, "pdf": False}))
    response["Content-Security-Policy"] = _csp_allowing(css)
    if private:
        response["Cache-Control"] = "private, no-store"
    return response


def _links(name: str, args: list, *, back: str | None = None, query: str = "") -> dict:
    """The HTML view's links: its PDF, and back to the meeting page (or `back`)."""
    back = back or reverse("meetings:detail", args=args[:1])
    return {"pdf_url": reverse(f"print:{name}_pdf", args=args) + query, "back_url": back}


def _meeting_for(request, pk: int, *, to: MeetingPurpose = "view") -> tuple[Meeting, Access]:
    return meeting_for(request.user, pk, to=to, queryset=Meeting.objects.select_related("body__secretariat"))


# --- views ---------------------------------------------------------------------------------------


@require_GET
def agenda(request, pk: int, fmt: str):
    """次第: public once approved and notices are out; members read it once approved; the secretariat
    may preview the draft with ?draft=1."""
    meeting, access = _meeting_for(request, pk)
    draft = access.manage and request.GET.get("draft") == "1"
    context = agenda_context(meeting, user=request.user, access=access, draft=draft)
    if context is None:
        raise Http404
    context |= _links("agenda", [meeting.pk], query="?draft=1" if draft else "")
    name = safe_filename(meeting.body.short_name, meeting.label, "次第(案)" if draft else "次第")
    return _respond("documents/print/agenda.html", context, fmt=fmt, filename=name,
                    fallback=f"meeting-{meeting.pk}-agenda.pdf", private=access.sees_private)


@require_GET
def attendance(request, pk: int, fmt: str):
    """出席者名簿: members and the secretariat before the meeting, everyone once it was held."""
    meeting, access = _meeting_for(request, pk, to="attendance")
    context = attendance_context(meeting) | _links("attendance", [meeting.pk])
    return _respond("documents/print/attendance.html", context, fmt=fmt,
                    filename=safe_filename(meeting.body.short_name, meeting.label, "出席者名簿"),
                    fallback=f"meeting-{meeting.pk}-attendance.pdf", private=access.sees_private)


@require_GET
def seating(request, pk: int, fmt: str):
    """席図: for the members and the secretariat."""
    meeting, access = _meeting_for(request, pk, to="private")
    context = seating_context(meeting) | _links("seating", [meeting.pk])
    return _respond("documents/print/seating.html", context, fmt=fmt,
                    filename=safe_filename(meeting.body.short_name, meeting.label, "席図"),
                    fallback=f"meeting-{meeting.pk}-seating.pdf", private=True)


@login_required
@require_GET
def notice(request, pk: int, appointment_pk: int, fmt: str):
    """開催通知 to one member invited to the meeting (?date= the letter's date, ?deadline= for answers)."""
    meeting, _access = _meeting_for(request, pk, to="manage")
    appointment = next((a for a in meeting_selectors.invited_members(meeting) if a.pk == appointment_pk), None)
    if appointment is None:
        raise Http404
    try:
        letter_date, deadline = _letter_dates(request, meeting)
    except LetterDateError as exc:
        return _letter_refused(request, meeting, exc)
    common = notice_common(meeting, letter_date=letter_date, deadline=deadline)
    query = request.GET.urlencode()
    context = {
        "document_title": f"{common['subject']} {appointment.holder_name}",
        "letters": [notice_letter(common, appointment, letter_date=letter_date)],
        "deadline_moved": "" if request.GET.get("deadline") else _deadline_moved(meeting, letter_date, deadline),
        **_links("notice", [meeting.pk, appointment.pk], back=reverse("meetings:manage", args=[meeting.pk]),
                 query=f"?{query}" if query else ""),
    }
    return _respond("documents/print/notices.html", context, fmt=fmt,
                    filename=safe_filename(meeting.body.short_name, meeting.label, "開催通知", appointment.holder_name),
                    fallback=f"meeting-{meeting.pk}-notice-{appointment.pk}.pdf", private=True)


@login_required
@require_GET
def notices(request, pk: int):
    """開催通知 to every member invited, one letter a page, to print and post."""
    meeting, _access = _meeting_for(request, pk, to="manage")
    try:
        letter_date, deadline = _letter_dates(request, meeting)
    except LetterDateError as exc:
        return _letter_refused(request, meeting, exc)
    common = notice_common(meeting, letter_date=letter_date, deadline=deadline)
    letters = [notice_letter(common, a, letter_date=letter_date) for a in meeting_selectors.invited_members(meeting)]
    if not letters:
        raise Http404
    context = {"document_title": common["subject"], "letters": letters}
    return _respond("documents/print/notices.html", context, fmt="pdf",
                    filename=safe_filename(meeting.body.short_name, meeting.label, "開催通知"),
                    fallback=f"meeting-{meeting.pk}-notices.pdf", private=True)


@login_required
@require_GET
def commission(request, pk: int, fmt: str):
    """委嘱状 for an appointment of a person, for the secretariat of its body."""
    appointment = appointment_for(request.user, pk)
    back = reverse("committee:body_detail", args=[appointment.body.slug])
    context = commission_context(appointment) | _links("commission", [appointment.pk], back=back)
    return _respond("documents/print/commission.html", context, fmt=fmt,
                    filename=safe_filename("委嘱状", appointment.body.short_name, appointment.holder_name),
                    fallback=f"appointment-{appointment.pk}-commission.pdf", private=True)


def _renewal_appointments(body: Body, request) -> tuple[str, list[Appointment]]:
    """The appointments of one renewal: ?renewal=<its audit entry> or every one from ?term_start=."""
    appointments = Appointment.objects.filter(body=body, person__isnull=False).members()
    renewal = request.GET.get("renewal", "")
    if renewal:
        entry = AuditEntry.objects.filter(
            pk=int(renewal) if renewal.isdigit() else 0, action=AuditAction.BODY_RENEWED,
            target_type=ContentType.objects.get_for_model(Body), target_id=str(body.pk),
        ).first()
        if entry is None:
            raise Http404
        appointments = appointments.filter(pk__in=entry.data.get("appointments", []))
        label = str(entry.data.get("term_start", renewal))
    else:
        term_start = _date_param(request, "term_start", None)
        if term_start is None:
            raise Http404
        appointments = appointments.filter(term_start=term_start)
        label = term_start.isoformat()
    return label, list(
        appointments.select_related("body", "person", "guideline").order_by("person__sort_key", "display_order", "id")
    )


@login_required
@require_GET
def renewal_letters(request, slug: str):
    """Every 委嘱状 of a body's new term, one a page, for its secretariat: those of one renewal
    (?renewal=<its audit entry>) or of every appointment starting on ?term_start=YYYY-MM-DD."""
    body = body_for(request.user, slug, to="manage").body
    label, appointments = _renewal_appointments(body, request)
    if not appointments:
        raise Http404
    context = {"document_title": f"委嘱状 {body.name}", "letters": [commission_context(a) for a in appointments]}
    return _respond("documents/print/commissions.html", context, fmt="pdf",
                    filename=safe_filename("委嘱状", body.short_name, label),
                    fallback=f"{body.slug}-{label}-commissions.pdf", private=True)


@require_GET
def materials(request, pk: int):
    """会議資料一式 (PDF): cover, contents, then every PDF material this user may see, in label order."""
    meeting, access = _meeting_for(request, pk)
    visible = [m for m in materials_visible_to(request.user, meeting, access)
               if m.current_version_id and not m.is_withdrawn]
    if not visible:
        raise Http404
    context = materials_context(meeting, visible) | {"print_css": print_css()}
    cover = render_pdf("documents/print/materials_cover.html", context)
    with ExitStack() as files:
        data, entries = compile_pdfs(cover, [_part(m, files) for m in visible], context=context)
    # A members-only material in the compiled PDF is a download like one in the ZIP: logged the same way.
    included = [m for m, entry in zip(visible, entries, strict=True) if entry.included]
    services.downloads_record(user=request.user, materials=included, via_zip=True,
                              ip_address=client_ip(request))
    filename = safe_filename(meeting.body.short_name, meeting.label, "資料一式")
    fallback = f"meeting-{meeting.pk}-materials.pdf"
    stored = delivery.generated_redirect(data, content_type="application/pdf", filename=filename, fallback=fallback)
    return stored or pdf_response(data, filename, fallback, private=access.sees_private)

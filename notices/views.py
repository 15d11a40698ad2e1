"""Notice pages: the secretariat's status page, sending and preview; answers by link; calendar feeds."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, set_response_etag
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from committee.access import body_for
from core import wareki
from core.exports import conditional, rate_limited, set_last_modified
from core.http import post_only
from core.pagecache import remembered
from core.wareki import fiscal_year_bounds, fiscal_year_of
from meetings import services as meeting_services
from meetings.access import attendee_for_token, guest_access, meeting_for, viewer_for, visible_agenda
from meetings.models import Attendance, Attendee, Meeting

from . import selectors, services
from .calendar import feed_ics
from .email import build_message
from .models import Delivery, Notice
from .tokens import TokenExpiredError, TokenInvalidError, feed_token, read_answer_token, read_feed_token


def _managed_meeting(request, pk: int) -> Meeting:
    """A meeting whose notices this user manages (its body's secretariat); else 404."""
    managed = Meeting.objects.select_related("body__secretariat")
    return meeting_for(request.user, pk, to="manage", queryset=managed)[0]


@login_required
@require_GET
def status(request, pk: int):
    meeting = _managed_meeting(request, pk)
    return render(
        request,
        "notices/status.html",
        {
            "meeting": meeting,
            "notices": selectors.notices_of(meeting),
            "without_email": selectors.recipients_without_email(meeting),
            "kinds": [(v, label) for v, label in Notice.Kind.choices if v != Notice.Kind.INVITATION],
            "cc": selectors.secretariat_email(meeting),
        },
    )


def _confirm(request, meeting: Meeting, kind: str, note: str, *, changed: bool = False):
    """The step before sending: how many and who will get the notice, who will not (no address) and why,
    with the fingerprint of that set of recipients for the confirm button. Nothing is written."""
    recipients = selectors.recipients(meeting, kind=kind)
    already = (
        kind in services.ONCE_PER_REVISION
        and Notice.objects.filter(meeting=meeting, kind=kind, sequence=meeting.sequence).exists()
    )
    context = {
        "meeting": meeting,
        "kind": kind,
        "kind_label": Notice.Kind(kind).label,
        "note": note,
        "recipients": recipients,
        "count": len(recipients),
        "token": selectors.recipients_token(meeting, kind, recipients),
        "without_email": selectors.recipients_without_email(meeting),
        "already_sent": already,
        "changed": changed,
        "printable": kind == Notice.Kind.CONVOCATION,
    }
    return render(request, "notices/confirm.html", context)


@login_required
@post_only(lambda pk: reverse("notices:status", args=[pk]))
def send(request, pk: int):
    """Two steps: without the recipients' fingerprint, show who would get the notice (nothing is sent);
    with it, send, unless the recipients changed meanwhile (then show them again)."""
    meeting = _managed_meeting(request, pk)
    kind = request.POST.get("kind", "")
    note = request.POST.get("note", "")[:1000]
    token = request.POST.get("recipients", "")
    try:
        if not token:
            services.notice_check(meeting=meeting, kind=kind)
            return _confirm(request, meeting, kind, note)
        notice = services.notice_send(
            actor=request.user, meeting=meeting, kind=kind, note=note, expected_recipients=token
        )
    except services.RecipientsChangedError as exc:
        messages.warning(request, " ".join(exc.messages))
        return _confirm(request, meeting, kind, note, changed=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(kind)s: %(n)d messages are being sent.")
            % {"kind": notice.get_kind_display(), "n": notice.deliveries.count()},
        )
    return redirect("notices:status", pk=meeting.pk)


@login_required
@require_POST
def resend_failed(request, pk: int):
    """失敗分をすべて再送: every failed delivery of one notice, one button, one audit entry."""
    notice = get_object_or_404(Notice.objects.only("pk", "meeting_id"), pk=pk)
    meeting = _managed_meeting(request, notice.meeting_id)
    try:
        count = services.notice_resend_failed(actor=request.user, notice=notice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)d failed messages are being sent again.") % {"n": count})
    return redirect("notices:status", pk=meeting.pk)


@login_required
@require_POST
def resend(request, pk: int):
    delivery = get_object_or_404(Delivery.objects.select_related("notice"), pk=pk)
    meeting = _managed_meeting(request, delivery.notice.meeting_id)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message is being sent again."))
    return redirect("notices:status", pk=meeting.pk)


@login_required
@require_GET
def preview(request, pk: int, kind: str):
    """The message as the first recipient would get it, rendered with real data; nothing is saved or sent."""
    meeting = _managed_meeting(request, pk)
    if kind not in Notice.Kind.values:
        raise Http404
    recipients = selectors.recipients(meeting, kind=kind)
    notice = Notice(meeting=meeting, kind=kind, sequence=meeting.sequence, cc=selectors.secretariat_email(meeting))
    recipient = recipients[0] if recipients else None
    delivery = Delivery(notice=notice, person=recipient.person if recipient else None,
                        email=recipient.email if recipient else "preview@example.invalid")
    message = build_message(delivery)
    html = next((content for content, mimetype in message.alternatives if mimetype == "text/html"), "")
    return render(
        request,
        "notices/preview.html",
        {
            "meeting": meeting,
            "kind": kind,
            "kind_label": Notice.Kind(kind).label,
            "message": message,
            "html": html,
            "recipient": recipient,
            "count": len(recipients),
            "has_ics": any(not isinstance(a, tuple) for a in message.attachments),
        },
    )


# --- answer by link -------------------------------------------------------------------------------


def _refused(request, reason: str, status_code: int):
    return render(request, "notices/answer_refused.html", {"reason": reason}, status=status_code)


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """Answer 会場 / オンライン / 欠席 without logging in; the signed link names one attendance of one meeting."""
    try:
        attendance_pk, meeting_pk = read_answer_token(token)
    except TokenExpiredError:
        return _refused(request, "expired", 400)
    except TokenInvalidError:
        return _refused(request, "invalid", 400)
    attendance = (
        Attendance.objects.select_related("meeting__body", "appointment__person__user", "attendee__person__user")
        .filter(pk=attendance_pk, meeting_id=meeting_pk)
        .first()
    )
    if attendance is None:
        return _refused(request, "unknown", 404)
    meeting = attendance.meeting
    if meeting.is_past or meeting.status not in (
        Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED
    ):
        return _refused(request, "closed", 400)
    person = attendance.person
    if request.method == "POST":
        user = person.user if person is not None and person.user_id else None
        try:
            attendance = meeting_services.attendance_reply(
                actor=user,
                attendance=attendance,
                reply=request.POST.get("reply", ""),
                note=request.POST.get("note", "")[:250],
                on_behalf=user is None,
                via=Attendance.ReplyVia.LINK,  # whoever holds the link: never counts as the member's own word
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you. Your answer is recorded: %(reply)s") % {
                "reply": attendance.get_reply_display()})
        return redirect("notices:answer", token=token)
    online = bool(meeting.online_url or meeting.online_note)
    choices = [(v, label) for v, label in Attendance.Reply.choices if online or v != Attendance.Reply.ONLINE]
    return render(
        request,
        "notices/answer.html",
        {"meeting": meeting, "attendance": attendance, "name": person.full_name if person else "", "choices": choices},
    )


# --- other attendees: the invitation, and their own page by link ------------------------------------


@login_required
@require_POST
def attendee_invite(request, pk: int, attendee_pk: int):
    """Send one other attendee the invitation (出席依頼) with their own link."""
    meeting = _managed_meeting(request, pk)
    attendee = get_object_or_404(Attendee, pk=attendee_pk, meeting=meeting)
    try:
        services.attendee_invite(actor=request.user, attendee=attendee)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The invitation to %(name)s is being sent.") % {"name": attendee.display_name})
    return redirect("meetings:attendees", pk=meeting.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def guest(request, token: str):
    """An invited attendee's own page, without an account: the meeting's members' side (details, the
    approved 次第, the members' materials of this meeting only) and their answer. meetings.access decides
    who the link names (404 when altered or revoked); documents.access which materials it shows."""
    from documents.access import materials_visible_to_guest

    attendee = attendee_for_token(token)
    meeting = attendee.meeting
    if request.method == "POST":
        try:
            attendance = meeting_services.attendee_reply(
                attendee=attendee, reply=request.POST.get("reply", ""), note=request.POST.get("note", "")[:250]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you. Your answer is recorded: %(reply)s") % {
                "reply": attendance.get_reply_display()})
        return redirect("notices:guest", token=token)
    access = guest_access(attendee)
    row = Attendance.objects.filter(attendee=attendee).first()
    online = bool(meeting.online_url or meeting.online_note)
    choices = [(v, label) for v, label in Attendance.Reply.choices if online or v != Attendance.Reply.ONLINE]
    may_answer = meeting.status in (
        Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED
    ) and not meeting.is_past
    return render(
        request,
        "notices/guest.html",
        {
            "token": token,
            "attendee": attendee,
            "meeting": meeting,
            "attendance": row,
            "agenda": visible_agenda(meeting, access),
            "materials": list(materials_visible_to_guest(attendee)),
            "choices": choices,
            "may_answer": may_answer,
        },
    )


# --- calendar feeds -------------------------------------------------------------------------------


def _ics_response(content: bytes, *, private: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["Cache-Control"] = "private, no-store" if private else "public, max-age=900"
    return response


def _too_many(request, seconds: int) -> HttpResponse:
    """429 for a calendar client: plain text in the visitor's language (the page cache may answer it before
    anything a page needs has run), and when to ask again."""
    text = ngettext(
        "Too many requests: this address has asked for calendars too often in a short time. "
        "Please wait %(seconds)s second and try again.",
        "Too many requests: this address has asked for calendars too often in a short time. "
        "Please wait %(seconds)s seconds and try again.",
        seconds,
    ) % {"seconds": seconds}
    response = HttpResponse(text, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    patch_cache_control(response, no_store=True)
    return response


# Calendar feeds are exports like the open data (issue 16): counted per client address at the same rate,
# each answering If-None-Match (the ETag of its bytes, stable since DTSTAMP is) with 304.
calendar_limited = rate_limited(group="calendar", refuse=_too_many)


FEED_YEARS = 2  # a feed carries the current 年度 and the one before (and whatever is planned after)


def _feed_window(request, meetings: QuerySet[Meeting]) -> QuerySet[Meeting] | HttpResponse:
    """The dated meetings of a calendar feed, bounded by 年度 so that it does not grow with the years: by
    default from the first day of the previous 年度 on; ?year=2023 gives that 年度 alone (令和5年度,
    2023-04-01 to 2024-03-31). A year that is not one answers 400 with the reason."""
    meetings = meetings.filter(start_at__isnull=False)
    asked = request.GET.get("year")
    zone = timezone.get_current_timezone()
    if asked is None:
        first, _last = fiscal_year_bounds(fiscal_year_of(timezone.localdate()) - (FEED_YEARS - 1))
        return meetings.filter(start_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone))
    if not (asked.isdigit() and wareki.ERAS[-1][0].year <= int(asked) <= 2999):  # noqa: PLR2004
        return HttpResponseBadRequest(
            _("The year must be a 年度 written as a western year, such as 2024 for 令和6年度."),
            content_type="text/plain; charset=utf-8",
        )
    first, last = fiscal_year_bounds(int(asked))
    return meetings.filter(
        start_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone),
        start_at__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def _feed_modified(request, body) -> dt.datetime | None:
    """Last-Modified of a body's feed: its last change (selectors.body_feed_modified), or, for the default
    window, the start of the current 年度 if later (the window moved on then and dropped a year)."""
    changed = selectors.body_feed_modified(body)
    if "year" not in request.GET:
        first, _last = fiscal_year_bounds(fiscal_year_of(timezone.localdate()))
        moved = dt.datetime.combine(first, dt.time(), tzinfo=timezone.get_current_timezone())
        changed = max(changed, moved) if changed else moved
    # Never later than the response itself (RFC 9110 §8.8.2.1), whatever the clocks that wrote the history.
    return min(changed, timezone.now()) if changed else None


@require_GET
@calendar_limited
@conditional
def body_calendar(request, slug: str):
    """The public feed of a public body: dated meetings, public details only (no online link), of the
    current and the previous 年度 (?year= for another). A proxy may keep it (public, 15 minutes); ETag and
    Last-Modified answer conditional requests, from the page cache too."""
    body = body_for(AnonymousUser(), slug).body  # a public feed: the bodies the public may know
    meetings = _feed_window(request, Meeting.objects.filter(body=body).select_related("body__secretariat"))
    if isinstance(meetings, HttpResponse):
        return meetings
    content = feed_ics(selectors.with_revision(meetings).order_by("start_at"), private=False, name=body.name)
    return set_last_modified(_ics_response(content, private=False), _feed_modified(request, body))


@never_cache
@require_GET
@calendar_limited
@conditional
def member_calendar(request, token: str):
    """A member's private feed (with the online link): the meetings they may see the private side of now,
    of the current and the previous 年度 (?year= for another). Kept by no HTTP cache (private, no-store); the
    calendar client's own copy is revalidated by ETag (If-None-Match → 304). The site keeps it per address
    until the next write to the database (DXPLAN_ADDRESS_PAGE_CACHE_VIEWS, core.pagecache)."""
    from core.models import User

    found = read_feed_token(token)
    user = User.objects.filter(pk=found[0], feed_generation=found[1], is_active=True).first() if found else None
    if user is None:  # altered, retired by a reset, or the account disabled
        raise Http404
    visible = Meeting.objects.filter(viewer_for(user).member).select_related("body__secretariat")
    meetings = _feed_window(request, visible)
    if isinstance(meetings, HttpResponse):
        return meetings
    # Kept with the public pages' generation (dropped by every change of a meeting, a body or a term): the
    # next poll of the calendar client costs the token's check alone. The key holds all the feed depends on.
    key = (f"member-calendar:{user.pk}:{timezone.localdate().isoformat()}:{translation.get_language()}:"
           f"{request.GET.get('year', '')}")
    content = remembered(key, lambda: feed_ics(
        selectors.with_revision(meetings).order_by("start_at"), private=True, name=_("My meetings")
    ))
    # no-store keeps ConditionalGetMiddleware from computing the ETag: given here.
    return set_response_etag(_ics_response(content, private=True))


@login_required
@require_GET
def my_calendar(request):
    """Where a member finds the address of their private feed."""
    url = settings.SITE_URL + reverse("notices:member_calendar", args=[feed_token(request.user)])
    return render(request, "notices/my_calendar.html", {"feed_url": url})


# --- a member's notification settings ---------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """The logged-in member's own settings: the optional mails, a copy address, the private calendar feed.
    There is no way to name another person: each user sees and changes only their own."""
    from committee.models import Person

    from .forms import NotificationPreferenceForm
    from .models import NotificationPreference

    person = Person.objects.filter(user=request.user).first()
    preference = NotificationPreference.objects.filter(person=person).first() if person else None
    form = None
    if person is not None:
        initial = preference or NotificationPreference(person=person)
        form = NotificationPreferenceForm(request.POST if request.method == "POST" else None, instance=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.preference_update(
                    actor=request.user,
                    person=person,
                    reminders=form.cleaned_data["reminders"],
                    materials=form.cleaned_data["materials"],
                    copy_to=form.cleaned_data["copy_to"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("notices:settings")
    elif request.method == "POST":
        raise Http404
    url = settings.SITE_URL + reverse("notices:member_calendar", args=[feed_token(request.user)])
    return render(request, "notices/settings.html", {"form": form, "person": person, "feed_url": url})

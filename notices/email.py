"""Building the message of one delivery: Japanese subject and body from the body's template or the
built-in default, plain text with an HTML alternative, an .ics invitation, the answer link."""

from __future__ import annotations

from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks

from core import wareki
from core.text import single_line
from meetings.models import Meeting

from . import selectors
from .calendar import meeting_ics
from .models import Delivery, Notice, NoticeTemplate
from .services import message_id_for
from .tokens import answer_token

SUBJECT_LABELS = {
    Notice.Kind.CONVOCATION: "開催通知",
    Notice.Kind.CHANGE: "変更通知",
    Notice.Kind.CANCELLATION: "中止・延期のお知らせ",
    Notice.Kind.REMINDER: "開催のご案内(再送)",
    Notice.Kind.MATERIALS: "資料掲載のお知らせ",
    Notice.Kind.MINUTES: "議事録確認のお願い",
    Notice.Kind.ANSWER_REMINDER: "出欠のご回答のお願い",
}
WITH_ICS = (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.CANCELLATION, Notice.Kind.REMINDER)


def _template_for(notice: Notice) -> NoticeTemplate | None:
    return NoticeTemplate.objects.filter(body_id=notice.meeting.body_id, kind=notice.kind).first()


def _base_context(notice: Notice) -> dict:
    meeting = notice.meeting
    return {
        "notice": notice,
        "meeting": meeting,
        "body": meeting.body,
        "kind_label": SUBJECT_LABELS[notice.kind],
        "when": meeting.when_ja if (meeting.start_at or meeting.planned_month) else "",
        "venue": " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v),
        "address": meeting.venue_address,
        "meeting_url": settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk]),
        "secretariat": meeting.body.secretariat.full_name_on(timezone.localdate()) or meeting.body.short_name,
        "secretariat_email": notice.cc,
        "organisation": settings.DXPLAN_ORGANISATION_NAME,
        "note": notice.note,
        **_minutes_context(meeting),
    }


def _minutes_context(meeting: Meeting) -> dict:
    """For 議事録確認のお願い: where to read the draft and by when to answer."""
    minutes = getattr(meeting, "minutes", None)
    confirm_by = minutes.confirm_by if minutes is not None else None
    return {
        "minutes_url": settings.SITE_URL + reverse("meetings:minutes_review", args=[meeting.pk]),
        "minutes_confirm_by": wareki.format_date(confirm_by) if confirm_by else "",
    }


def render_subject(notice: Notice) -> str:
    """The subject: the body's template if it has one, else 【開催通知】策定委員会 第1回."""
    context = _base_context(notice)
    template = _template_for(notice)
    if template is not None:
        return single_line(Template(template.subject).render(Context(context, autoescape=False)), 250)
    return single_line(f"【{context['kind_label']}】{notice.meeting.body.short_name} {notice.meeting.label}", 250)


def _answer_url(delivery: Delivery) -> str:
    notice = delivery.notice
    if notice.kind not in (
        Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.REMINDER, Notice.Kind.ANSWER_REMINDER
    ):
        return ""
    attendance = selectors.attendance_of(notice.meeting, delivery.person) if delivery.person_id else None
    if attendance is None:
        return ""
    return settings.SITE_URL + reverse("notices:answer", args=[answer_token(attendance)])


def render_bodies(delivery: Delivery) -> tuple[str, str, str]:
    """(subject, text, html) of one delivery, rendered in Japanese."""
    notice = delivery.notice
    meeting = notice.meeting
    with translation.override("ja"):
        context = _base_context(notice)
        context.update(
            {
                "delivery": delivery,
                "name": delivery.person.full_name if delivery.person_id else "",
                "answer_url": _answer_url(delivery),
                "online_url": meeting.online_url,
                "online_note": meeting.online_note,
                "cancelled": meeting.status == Meeting.Status.CANCELLED,
            }
        )
        template = _template_for(notice)
        if template is not None:
            intro = Template(template.text).render(Context(context, autoescape=False))
            context["intro"] = intro
            context["intro_html"] = linebreaks(escape(intro))
        text = render_to_string(f"notices/email/{notice.kind}.txt", context)
        html = render_to_string(f"notices/email/{notice.kind}.html", context)
        subject = render_subject(notice) if template is not None else (notice.subject or render_subject(notice))
    return single_line(subject, 250), text, html


def build_message(delivery: Delivery) -> EmailMultiAlternatives:
    """The message of one delivery. Every header value is flattened to one line."""
    notice = delivery.notice
    meeting = notice.meeting
    subject, text, html = render_bodies(delivery)
    reply_to = settings.DXPLAN_REPLY_TO or notice.cc
    message = EmailMultiAlternatives(
        subject=single_line(subject),
        body=text,
        from_email=single_line(settings.DEFAULT_FROM_EMAIL),
        to=[single_line(delivery.email)],
        cc=[single_line(notice.cc)] if notice.cc else [],
        reply_to=[single_line(reply_to)] if reply_to else [],
        headers={
            "Message-ID": single_line(message_id_for(notice.pk, delivery.pk)),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.encoding = "utf-8"
    message.attach_alternative(html, "text/html")
    if notice.kind in WITH_ICS and meeting.start_at is not None:
        method = "CANCEL" if notice.kind == Notice.Kind.CANCELLATION else "REQUEST"
        ics = meeting_ics(meeting, method=method, private=True)
        part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(part)
    return message

"""Building the messages of a notice: Japanese subject and body from the body's template or the built-in
default, plain text with an HTML alternative, an .ics invitation, the answer link.

A notice goes to many recipients with one text. `MessageBuilder` works out what is the same for all of
them once per notice (the context, the templates, the subject, the .ics) and renders the bodies with
placeholders for the two things that differ (the name and the signed answer link), which it then fills in
per recipient. Whether a template treats the two values as opaque (no filter, length or comparison) is
checked once by rendering it with two different sets of placeholders; a template that does not pass is
rendered in full for every recipient. Either way each recipient's text is what a full rendering makes.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText, sanitize_address
from django.db.models import Q
from django.template import Context, Template
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks

from core import wareki
from core.text import single_line
from meetings.access import attendee_token
from meetings.models import Attendance, Attendee, Meeting

from .addressing import message_id_for
from .calendar import CalendarAttendee, Invitation
from .models import Delivery, Notice, NoticeTemplate
from .tokens import answer_token_for

SUBJECT_LABELS: dict[str, str] = {
    Notice.Kind.CONVOCATION: "開催通知",
    Notice.Kind.CHANGE: "変更通知",
    Notice.Kind.CANCELLATION: "中止・延期のお知らせ",
    Notice.Kind.REMINDER: "開催のご案内(再送)",
    Notice.Kind.MATERIALS: "資料掲載のお知らせ",
    Notice.Kind.MINUTES: "議事録確認のお願い",
    Notice.Kind.ANSWER_REMINDER: "出欠のご回答のお願い",
    Notice.Kind.MINUTES_OVERDUE: "議事録の公開期限を過ぎています",
    Notice.Kind.INVITATION: "ご出席のお願い",
}
WITH_ICS = (
    Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.CANCELLATION, Notice.Kind.REMINDER, Notice.Kind.INVITATION
)
WITH_ANSWER = (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.REMINDER, Notice.Kind.ANSWER_REMINDER)

# Placeholders for the per-recipient values: two sets of different lengths, letters, digits and URL
# characters only (HTML escaping leaves them as they are).
_NAME = ("Zq7dxplanNAMEq7Z", "Zq7dxplanNAMEbbbbq7Z")
_URL = ("https://placeholder.invalid/dxplan-answer-a", "https://placeholder.invalid/dxplan-answer-bbbbbb")
_FILL = re.compile(f"{re.escape(_NAME[0])}|{re.escape(_URL[0])}")
_USES_DELIVERY = re.compile(r"\bdelivery\b")


def _template_for(notice: Notice) -> NoticeTemplate | None:
    return NoticeTemplate.objects.filter(body_id=notice.meeting.body_id, kind=notice.kind).first()


def _signature(organisation: str, secretariat: str) -> str:
    """青森県 総合政策部DX推進課, not 青森県 青森県総合政策部DX推進課: the unit's full name may start with the
    organisation's own."""
    if not organisation or secretariat.startswith(organisation):
        return secretariat
    return f"{organisation} {secretariat}"


def _base_context(notice: Notice) -> dict:
    meeting = notice.meeting
    secretariat = meeting.body.secretariat.full_name_on(timezone.localdate()) or meeting.body.short_name
    return {
        "notice": notice,
        "meeting": meeting,
        "body": meeting.body,
        "kind_label": SUBJECT_LABELS[notice.kind],
        "when": meeting.when_ja if (meeting.start_at or meeting.planned_month) else "",
        "venue": " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v),
        "address": meeting.venue_address,
        "meeting_url": settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk]),
        "secretariat": secretariat,
        "secretariat_email": notice.cc,
        "organisation": settings.DXPLAN_ORGANISATION_NAME,
        "signature": _signature(settings.DXPLAN_ORGANISATION_NAME, secretariat),
        "note": notice.note,
        **_minutes_context(meeting),
        **_materials_context(notice),
    }


def _minutes_context(meeting: Meeting) -> dict:
    """For 議事録確認のお願い: where to read the draft and by when to answer."""
    minutes = getattr(meeting, "minutes", None)
    confirm_by = minutes.confirm_by if minutes is not None else None
    return {
        "minutes_url": settings.SITE_URL + reverse("meetings:minutes_review", args=[meeting.pk]),
        "minutes_edit_url": settings.SITE_URL + reverse("meetings:minutes_edit", args=[meeting.pk]),
        "minutes_due": wareki.format_date(meeting.date + dt.timedelta(days=meeting.body.minutes_publish_days))
        if meeting.date
        else "",
        "minutes_confirm_by": wareki.format_date(confirm_by) if confirm_by else "",
    }


def _materials_context(notice: Notice) -> dict:
    """For 資料掲載のお知らせ: the materials the notice announces (label, title, new or replaced)."""
    if notice.kind != Notice.Kind.MATERIALS:
        return {"materials": []}
    from .announcements import announced_materials

    return {"materials": announced_materials(notice)}


def _subject(notice: Notice, context: dict, template: NoticeTemplate | None) -> str:
    if template is not None:
        return single_line(Template(template.subject).render(Context(context, autoescape=False)), 250)
    return single_line(f"【{context['kind_label']}】{notice.meeting.body.short_name} {notice.meeting.label}", 250)


def render_subject(notice: Notice) -> str:
    """The subject: the body's template if it has one, else 【開催通知】策定委員会 第1回."""
    template = _template_for(notice)
    if template is None:
        meeting = notice.meeting
        return single_line(f"【{SUBJECT_LABELS[notice.kind]}】{meeting.body.short_name} {meeting.label}", 250)
    return _subject(notice, _base_context(notice), template)


def answer_urls(notice: Notice, deliveries: Iterable[Delivery]) -> dict[int | None, str]:
    """The signed answer link of each delivery's person (by person id), in one query. A person's row as a
    member wins over one as another attendee. An invitation (出席依頼) has one delivery, to its attendee,
    whose link is the attendee's own (under the key None as well as their person's id, if any)."""
    if notice.kind == Notice.Kind.INVITATION:
        url = _guest_url(notice.attendee) if notice.attendee is not None else ""
        return {None: url, **{d.person_id: url for d in deliveries if d.person_id}} if url else {}
    if notice.kind not in WITH_ANSWER:
        return {}
    people = {d.person_id for d in deliveries if d.person_id}
    if not people:
        return {}
    rows = (
        Attendance.objects.filter(meeting_id=notice.meeting_id)
        .filter(Q(appointment__person_id__in=people) | Q(attendee__person_id__in=people))
        .values_list("pk", "appointment_id", "appointment__person_id", "attendee__person_id")
    )
    best: dict[int, tuple[int, int, int]] = {}  # person -> (member row first, lowest appointment, attendance)
    for pk, appointment_id, member_person, attendee_person in rows:
        person = member_person if member_person in people else attendee_person
        rank = (0, appointment_id, pk) if appointment_id is not None and member_person == person else (1, 0, pk)
        if person not in best or rank < best[person]:
            best[person] = rank
    # reverse() once: the token is the only part that changes
    prefix, suffix = (settings.SITE_URL + reverse("notices:answer", args=["TOKEN"])).split("TOKEN")
    return {
        person: prefix + answer_token_for(rank[2], notice.meeting_id) + suffix for person, rank in best.items()
    }


def _guest_url(attendee: Attendee) -> str:
    return settings.SITE_URL + reverse("notices:guest", args=[attendee_token(attendee)])


def _answer_url(delivery: Delivery) -> str:
    if delivery.role == Delivery.Role.COPY:
        return ""  # a copy never carries anyone's link
    if delivery.notice.kind == Notice.Kind.INVITATION:
        return answer_urls(delivery.notice, [delivery]).get(delivery.person_id, "")
    if not delivery.person_id:
        return ""
    return answer_urls(delivery.notice, [delivery]).get(delivery.person_id, "")


def _name(delivery: Delivery) -> str:
    if delivery.person is not None:
        return single_line(delivery.person.full_name)
    notice = delivery.notice
    if notice.kind == Notice.Kind.INVITATION and notice.attendee is not None:
        return single_line(notice.attendee.name)
    return ""


class MessageBuilder:
    """Builds the messages of one notice; the notice-wide parts are worked out once (a few queries)."""

    def __init__(self, notice: Notice):
        self.notice = notice
        meeting = notice.meeting
        with translation.override("ja"):
            self.context = _base_context(notice)
            self.context.update(
                {
                    "online_url": meeting.online_url,
                    "online_note": meeting.online_note,
                    "cancelled": meeting.status == Meeting.Status.CANCELLED,
                }
            )
            self.template = _template_for(notice)
            self.intro = Template(self.template.text) if self.template is not None else None
            self.subject = (
                _subject(notice, self.context, self.template)
                if self.template is not None or not notice.subject
                else single_line(notice.subject, 250)
            )
        self.text_template = get_template(f"notices/email/{notice.kind}.txt")
        self.html_template = get_template(f"notices/email/{notice.kind}.html")
        self.invitation: Invitation | None = None
        self.method = "CANCEL" if notice.kind == Notice.Kind.CANCELLATION else "REQUEST"
        if notice.kind in WITH_ICS and meeting.start_at is not None:
            self.invitation = Invitation(meeting, method=self.method, private=True)
        self._roles: tuple[dict[int, tuple[str, str]], tuple[str, str] | None] | None = None
        self.reply_to = settings.DXPLAN_REPLY_TO or notice.cc
        self._variants: dict[tuple[bool, bool], tuple[str, str] | None] = {}
        self._opaque = self.template is None or not _USES_DELIVERY.search(self.template.text)
        self._raw: dict[tuple[bool, bool, bool], _RawTemplate | None] = {}
        self._date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        self._boundary = secrets.token_hex(16)
        self._sender = sanitize_address(single_line(settings.DEFAULT_FROM_EMAIL), "utf-8")

    # -- bodies ------------------------------------------------------------------------------------
    def _render(
        self, *, name: str, answer_url: str, delivery: Delivery | None, extra: dict | None = None
    ) -> tuple[str, str]:
        with translation.override("ja"):
            context = {**self.context, **(extra or {}), "delivery": delivery, "name": name, "answer_url": answer_url}
            if self.intro is not None:
                intro = self.intro.render(Context(context, autoescape=False))
                context["intro"] = intro
                context["intro_html"] = linebreaks(escape(intro))
            return self.text_template.render(context), self.html_template.render(context)

    def _variant(self, has_name: bool, has_url: bool) -> tuple[str, str] | None:
        """The bodies with placeholders, or None if the templates do not take them as they are."""
        key = (has_name, has_url)
        if key not in self._variants:
            variant = None
            if self._opaque:
                a = self._render(name=_NAME[0] if has_name else "", answer_url=_URL[0] if has_url else "",
                                 delivery=None)
                b = self._render(name=_NAME[1] if has_name else "", answer_url=_URL[1] if has_url else "",
                                 delivery=None)
                swapped = tuple(part.replace(_NAME[0], _NAME[1]).replace(_URL[0], _URL[1]) for part in a)
                if swapped == b:
                    variant = a
            self._variants[key] = variant
        return self._variants[key]

    def bodies(self, delivery: Delivery, answer_url: str) -> tuple[str, str]:
        """(text, html) for one recipient. A copy is addressed to nobody by name and has no answer link."""
        if delivery.role == Delivery.Role.COPY:
            return self._render(
                name="", answer_url="", delivery=delivery, extra={"is_copy": True, "copy_for": delivery.copy_for}
            )
        name = _name(delivery)
        variant = self._variant(bool(name), bool(answer_url))
        if variant is None:
            return self._render(name=name, answer_url=answer_url, delivery=delivery)
        text, html = variant
        plain = {_NAME[0]: name, _URL[0]: answer_url}
        escaped = {_NAME[0]: escape(name), _URL[0]: escape(answer_url)}
        return _FILL.sub(lambda m: plain[m[0]], text), _FILL.sub(lambda m: escaped[m[0]], html)

    # -- the .ics --------------------------------------------------------------------------------------
    def _answers(self) -> tuple[dict[int, tuple[str, str]], tuple[str, str] | None]:
        """(person id -> (answer, ROLE), the invited guest's (answer, ROLE)) for the meeting, worked out
        once per notice: one query for the answers, a few for who presides (ROLE=CHAIR)."""
        if self._roles is None:
            from meetings.selectors import presiding_for

            meeting = self.notice.meeting
            presiding = presiding_for(meeting)
            chair = presiding.person_id if presiding is not None else None
            people: dict[int, tuple[str, str]] = {}
            guest = None
            rows = Attendance.objects.filter(meeting_id=meeting.pk).values_list(
                "reply", "appointment__person_id", "attendee_id", "attendee__person_id", "attendee__role"
            )
            for reply, member, attendee_id, attendee_person, attendee_role in rows.order_by("pk"):
                if member is not None:
                    people[member] = (reply, "CHAIR" if member == chair else "REQ-PARTICIPANT")
                    continue
                role = "OPT-PARTICIPANT" if attendee_role == Attendee.Role.OBSERVER else "REQ-PARTICIPANT"
                if attendee_id is not None and attendee_id == self.notice.attendee_id:
                    guest = (reply, role)
                if attendee_person is not None:
                    people.setdefault(attendee_person, (reply, role))  # a member's own row wins
            self._roles = (people, guest)
        return self._roles

    def calendar_attendee(self, delivery: Delivery) -> CalendarAttendee:
        """The recipient as the .ics ATTENDEE: PARTSTAT from their answer. A delivery to nobody on the
        meeting's lists (a copy) is a NON-PARTICIPANT asked for no answer."""
        people, guest = self._answers()
        if self.notice.kind == Notice.Kind.INVITATION and guest is not None:
            reply, role = guest
        elif delivery.person_id is not None:
            reply, role = people.get(delivery.person_id, ("", "REQ-PARTICIPANT"))
        else:
            reply, role = "", "NON-PARTICIPANT"
        return CalendarAttendee.for_reply(email=delivery.email, name=_name(delivery), reply=reply, role=role)

    def ics_for(self, delivery: Delivery) -> str | None:
        """The recipient's .ics, or None for a notice without one."""
        if self.invitation is None:
            return None
        return self.invitation.for_attendee(self.calendar_attendee(delivery))

    # -- the message -------------------------------------------------------------------------------
    def _message(
        self, *, text: str, html: str, to: str, message_id: str, ics: str | None = None
    ) -> EmailMultiAlternatives:
        """One message to one address: copies are delivery rows of their own (no Cc)."""
        message = EmailMultiAlternatives(
            subject=single_line(self.subject),
            body=text,
            from_email=single_line(settings.DEFAULT_FROM_EMAIL),
            to=[single_line(to)],
            reply_to=[single_line(self.reply_to)] if self.reply_to else [],
            headers={"Message-ID": single_line(message_id), "Auto-Submitted": "auto-generated"},
        )
        message.encoding = "utf-8"
        message.attach_alternative(html, "text/html")
        if ics is not None:
            # 8bit like the text parts (Django's MIME text), not base64: the batch puts each recipient's
            # ATTENDEE line into the bytes (_RawTemplate).
            part = SafeMIMEText(ics, "calendar", "utf-8")
            part.set_param("method", self.method)
            part.add_header("Content-Disposition", "attachment", filename="invite.ics")
            message.attach(part)
        return message

    def build(self, delivery: Delivery, answer_url: str = "") -> EmailMultiAlternatives:
        """The message of one delivery. Every header value is flattened to one line."""
        if delivery.role == Delivery.Role.COPY:
            answer_url = ""
        text, html = self.bodies(delivery, answer_url)
        return self._message(
            text=text, html=html, to=delivery.email,
            message_id=message_id_for(self.notice.pk, delivery.pk), ics=self.ics_for(delivery),
        )

    # -- the bytes over SMTP -----------------------------------------------------------------------
    def _raw_variant(self, key: tuple[bool, bool, bool]) -> _RawTemplate | None:
        if key not in self._raw:
            self._raw[key] = _RawTemplate.make(self, *key)
        return self._raw[key]

    def raw(self, delivery: Delivery, answer_url: str = "") -> tuple[str, list[str], str, bytes]:
        """(envelope sender, envelope recipients, the addressee, the bytes) of one delivery, as Django's
        SMTP backend would send `build()`'s message. The bytes are the notice's message with the
        recipient's values put in where that gives the same result (checked, see _RawTemplate), else
        the message built in full."""
        to = single_line(delivery.email)
        name = _name(delivery)
        copy = delivery.role == Delivery.Role.COPY
        template = None if copy else self._raw_variant((bool(name), bool(answer_url), False))
        values = {
            "name": name, "url": answer_url, "to": to, "copy": "",
            "mid": single_line(message_id_for(self.notice.pk, delivery.pk)),
            "att": self.invitation.attendee_line(self.calendar_attendee(delivery)) if self.invitation else "",
        }
        data = template.fill(values) if template is not None else None
        if data is None:
            message = self.build(delivery, answer_url)
            recipients = [sanitize_address(a, "utf-8") for a in message.recipients()]
            return self._sender, recipients, sanitize_address(to, "utf-8"), self.message_bytes(message)
        return self._sender, [to], to, data

    def message_bytes(self, message: EmailMultiAlternatives) -> bytes:
        """The message's bytes with this notice's Date and multipart boundaries (random, set here: left to
        the generator, each boundary costs a regular expression compiled per message)."""
        message.extra_headers.setdefault("Date", self._date)
        mime = message.message()
        index = 0
        for part in mime.walk():
            if part.is_multipart():
                index += 1
                part.set_boundary(f"===============dxplan{self._boundary}{index}==")
        return mime.as_bytes(linesep="\r\n")


def _html(placeholder: str) -> str:
    """The HTML part's own placeholder for a value (it takes the escaped value); no placeholder is part of
    another."""
    return placeholder.replace("NAME", "HTMLNAME").replace("answer", "answerhtml")


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-]{3,200}")


class _RawTemplate:
    """The bytes of a notice's message with placeholders for the recipient's name, answer link, address,
    copy address and Message-ID. `make` builds it twice with two sets of placeholders of different lengths
    and keeps it only if putting the second set into the first gives the second byte for byte, with the
    text parts sent as 7/8bit (not encoded); `fill` refuses values that could change the header folding,
    line lengths or encoding (long or non-ASCII addresses), for which the message is built in full."""

    SETS = (
        {"to": "zq7to-a@placeholder.invalid", "copy": "zq7cc-a@placeholder.invalid",
         "mid": "<zq7mid-a@placeholder.invalid>", "att": "ATTENDEE:mailto:zq7att-a@placeholder.invalid"},
        {"to": "zq7to-bbbbbb@placeholder.invalid", "copy": "zq7cc-bbbbbbbbb@placeholder.invalid",
         "mid": "<zq7mid-bbbbbbbbbbbb@placeholder.invalid>",
         "att": "ATTENDEE:mailto:zq7att-bbbbbbbbbbb@placeholder.invalid"},
    )

    def __init__(self, data: bytes, placeholders: dict[str, bytes], builder: MessageBuilder):
        self.data = data
        self.placeholders = placeholders  # key -> placeholder bytes
        self.keys = {v: k for k, v in placeholders.items()}
        self.pattern = re.compile(b"|".join(re.escape(v) for v in sorted(placeholders.values(), key=len, reverse=True)))
        self.longest_line = max((len(line) for line in data.split(b"\r\n")), default=0)
        self.cc = ""  # no message has a Cc: copies are rows of their own

    @classmethod
    def make(cls, builder: MessageBuilder, has_name: bool, has_url: bool, has_copy: bool) -> _RawTemplate | None:
        variant = builder._variant(has_name, has_url)
        if variant is None:
            return None
        built = []
        for n, sentinels in enumerate(cls.SETS):
            text, html = variant
            if n:
                text = text.replace(_NAME[0], _NAME[1]).replace(_URL[0], _URL[1])
                html = html.replace(_NAME[0], _NAME[1]).replace(_URL[0], _URL[1])
            # the HTML part gets placeholders of its own: it takes the escaped values
            html = html.replace(_NAME[n], _html(_NAME[n])).replace(_URL[n], _html(_URL[n]))
            message = builder._message(
                text=text, html=html, to=sentinels["to"], message_id=sentinels["mid"],
                ics=builder.invitation.with_line(sentinels["att"]) if builder.invitation else None,
            )
            data = builder.message_bytes(message)
            mime = message.message()
            if any(
                part.get("Content-Transfer-Encoding", "7bit").lower() not in ("7bit", "8bit")
                for part in mime.walk()
                if part.get_content_type() in ("text/plain", "text/html", "text/calendar")
            ):
                return None  # quoted-printable (very long lines): the values cannot be put in as they are
            placeholders = {"to": sentinels["to"], "mid": sentinels["mid"]}
            if builder.invitation is not None:
                placeholders["att"] = sentinels["att"]
            if has_copy:
                placeholders["copy"] = sentinels["copy"]
            if has_name:
                placeholders.update(name=_NAME[n], hname=_html(_NAME[n]))
            if has_url:
                placeholders.update(url=_URL[n], hurl=_html(_URL[n]))
            built.append((data, {k: v.encode() for k, v in placeholders.items()}))
        (first, first_placeholders), (second, second_placeholders) = built
        template = cls(first, first_placeholders, builder)
        if template._fill(second_placeholders) != second:
            return None
        return template

    def _fill(self, values: dict[str, bytes]) -> bytes:
        return self.pattern.sub(lambda m: values[self.keys[m[0]]], self.data)

    def fill(self, values: dict[str, str]) -> bytes | None:
        for key in ("to", "copy"):
            if key in self.placeholders and not _PLAIN_ADDRESS.fullmatch(values[key]):
                return None
        if len(values["to"]) > 70 or len(", ".join(a for a in (self.cc, values["copy"]) if a)) > 70:
            return None  # the To or Cc line could be folded
        if not _PLAIN_ADDRESS.fullmatch(values["mid"].strip("<>")):
            return None
        name, url = values["name"], values["url"]
        encoded = {
            "to": values["to"].encode(), "copy": values["copy"].encode(), "mid": values["mid"].encode(),
            "name": name.encode(), "url": url.encode(), "hname": escape(name).encode(), "hurl": escape(url).encode(),
            "att": values.get("att", "").encode(),
        }
        if self.longest_line + len(encoded["hname"]) + len(encoded["hurl"]) > 990:
            return None  # a line could grow past the limit that makes the part quoted-printable
        return self._fill(encoded)


def build_message(delivery: Delivery) -> EmailMultiAlternatives:
    """The message of one delivery (for the preview and single sends); batches use MessageBuilder."""
    return MessageBuilder(delivery.notice).build(delivery, _answer_url(delivery))


def render_bodies(delivery: Delivery) -> tuple[str, str, str]:
    """(subject, text, html) of one delivery, rendered in Japanese."""
    builder = MessageBuilder(delivery.notice)
    text, html = builder.bodies(delivery, _answer_url(delivery))
    return builder.subject, text, html

import email
import email.policy

import pytest
from django.core import mail

from meetings.models import Meeting
from notices import services
from notices.email import build_message
from notices.models import Notice, NoticeTemplate

pytestmark = pytest.mark.django_db


def convocation(meeting, secretariat, capture):
    with capture(execute=True):
        return services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)


def test_japanese_text_html_ics_and_answer_link(
    approved, meeting, secretariat, chair, unit_email, django_capture_on_commit_callbacks
):
    notice = convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert message.subject == "【開催通知】策定委員会 第1回"
    assert "森 樹男 様" in message.body and "https://dxplan.example.jp/answer/" in message.body
    assert "https://meet.example/secret-room-4711" in message.body  # members get the online link
    assert message.alternatives[0].mimetype == "text/html"
    assert message.reply_to == [unit_email]
    raw = message.message()
    delivery = notice.deliveries.get(email=message.to[0])
    assert raw["Message-ID"] == f"<notice-{notice.pk}-delivery-{delivery.pk}@dxplan.example.jp>"
    calendars = [p for p in raw.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1 and calendars[0].get_param("method") == "REQUEST"
    assert "utf-8" in raw.as_string().lower()


def test_message_id_is_deterministic(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    notice = convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    delivery = notice.deliveries.get()
    first, second = build_message(delivery).message(), build_message(delivery).message()
    assert first["Message-ID"] == second["Message-ID"] == delivery.message_id


def test_reply_to_from_settings(approved, meeting, secretariat, chair, settings, django_capture_on_commit_callbacks):
    settings.DXPLAN_REPLY_TO = "toiawase@pref.example.jp"
    convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    assert mail.outbox[0].reply_to == ["toiawase@pref.example.jp"]
    assert mail.outbox[0].from_email == settings.DEFAULT_FROM_EMAIL


def test_no_cr_lf_reaches_a_header(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    body = meeting.body
    body.short_name = "委員会\r\nBcc: victim@evil.example"
    body.save(update_fields=["short_name"])
    person = chair.person
    person.family_name = "森\nX-Injected: yes"
    person.save(update_fields=["family_name"])
    Meeting.objects.filter(pk=meeting.pk).update(name="準備会\r\nX-Evil: 1")
    convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    raw = mail.outbox[0].message()
    for name, value in raw.items():
        assert "\r" not in str(value) and "\n" not in str(value).replace("\n ", "").replace("\n\t", ""), name
    assert raw["Bcc"] is None and raw["X-Injected"] is None and raw["X-Evil"] is None
    assert "victim@evil.example" not in mail.outbox[0].recipients()


def test_body_template_is_used(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    NoticeTemplate.objects.create(
        body=meeting.body,
        kind=Notice.Kind.CONVOCATION,
        subject="【ご案内】{{ body.short_name }} {{ meeting.label }}",
        text="{{ name }}様\n本委員会を開催します。",
    )
    convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert message.subject == "【ご案内】策定委員会 第1回"
    assert "本委員会を開催します。" in message.body
    assert "本委員会を開催します。" in message.alternatives[0].content


def test_html_escapes_titles(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    Meeting.objects.filter(pk=meeting.pk).update(venue_name="<script>alert(1)</script>")
    convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    html = mail.outbox[0].alternatives[0].content
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_minutes_request_names_the_page_and_the_deadline(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    import datetime as dt

    from committee.models import Appointment
    from meetings.models import Minutes, MinutesConfirmation

    minutes = Minutes.objects.create(meeting=meeting, confirm_by=dt.date(2023, 6, 20), status=Minutes.Status.CONFIRMING)
    MinutesConfirmation.objects.create(minutes=minutes, appointment=Appointment.objects.get(person__user=chair))
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.MINUTES)
    message = mail.outbox[-1]
    assert message.subject.startswith("【議事録確認のお願い】")
    assert "令和5年6月20日(火)までに" in message.body
    assert f"https://dxplan.example.jp/meetings/{meeting.pk}/minutes/" in message.body


def test_batch_bytes_are_the_full_message(
    approved, meeting, secretariat, chair, member, unit_email, django_capture_on_commit_callbacks
):
    """The batch task puts each recipient's values into the notice's message; the bytes are the same as
    the message built in full, with a name to escape, a copy address, and for an address too long for that
    (built in full then)."""
    from django.utils.html import escape

    from notices.email import MessageBuilder, answer_urls
    from notices.models import Delivery

    with django_capture_on_commit_callbacks(execute=False):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    rows = list(Delivery.objects.filter(notice=notice, role="to").select_related("person").order_by("pk"))
    assert len(rows) == 2
    rows[0].person.family_name = "森<&>\"'"
    rows[0].copy_to = "hisho@pref.example.jp"
    rows[1].email = "a-very-long-local-part-of-an-address-that-would-be-folded@members.example.jp"
    builder = MessageBuilder(notice)
    urls = answer_urls(notice, rows)
    assert len(urls) == 2
    for row in rows:
        sender, recipients, to, data = builder.raw(row, urls[row.person_id])
        assert data == builder.message_bytes(builder.build(row, urls[row.person_id]))
        assert to == row.email and recipients == [row.email]  # one envelope recipient: copies are rows
        assert "noreply@dxplan.example.jp" in sender
    assert builder._raw[(True, True, False)] is not None  # the first went the fast way
    parsed = email.message_from_bytes(builder.raw(rows[0], urls[rows[0].person_id])[3], policy=email.policy.default)
    assert parsed["Cc"] is None
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    name = rows[0].person.full_name
    assert name.startswith("森<&>\"'")
    assert f"{escape(name)} 様" in html and f"{name} 様" in text
    assert urls[rows[0].person_id] in text


def test_the_mail_gives_the_end_time_and_signs_without_repeating_the_prefecture(
    approved, meeting, secretariat, chair, unit, django_capture_on_commit_callbacks
):
    """■ 日時 carries the end as the 次第 and the letter do (14:00～16:00); the signature is the organisation and
    the secretariat, once each: 青森県 DX推進課, and not 青森県 青森県総合政策部DX推進課 when the unit's full name
    starts with the organisation's."""
    from committee.models import OrgUnit
    from notices.email import _signature
    from tests import factories

    convocation(meeting, secretariat, django_capture_on_commit_callbacks)
    body = mail.outbox[0].body
    assert "■ 日時: 令和5年6月7日(水) 14:00～16:00\n" in body
    assert "\n青森県 DX推進課\n" in body

    prefecture = factories.OrgUnitFactory(code="aomori", kind=OrgUnit.Kind.GOVERNMENT, name__name="青森県")
    names = unit.names.get()
    names.parent = prefecture
    names.save(update_fields=["parent"])
    assert unit.full_name_on(meeting.start_at.date()) == "青森県DX推進課"
    assert _signature("青森県", unit.full_name_on(meeting.start_at.date())) == "青森県DX推進課"
    assert _signature("青森県", "総合政策部DX推進課") == "青森県 総合政策部DX推進課"

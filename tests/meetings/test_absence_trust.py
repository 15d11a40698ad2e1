"""Who approves the 次第 may not hang on an answer that others can set (issue 11, W1).

The vice chair acts for the chair only when the chair declared the absence while logged in, or when the
secretariat recorded it with a reason and the chair was told by mail (an outbox row written in the same
transaction). The chair's answer link (also in the Cc copies) and a secretariat record without a reason or
without the mail do not hand over the chair's part. The vacancy rule and the convening official stay."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from meetings import selectors, services
from meetings.models import Attendance
from meetings.services import MeetingError
from notices.models import OutboxMail
from notices.receivers import ABSENCE_TOPIC
from notices.tokens import answer_token

from .conftest import row_of

NOT_PRESIDING = "Only the presiding officer"


@pytest.fixture
def version(invited, meeting, secretariat):
    return services.agenda_submit(actor=secretariat, meeting=meeting)


def _vice_chair_may_approve(meeting, vice_chair, version) -> bool:
    try:
        with translation.override("en"):
            services.agenda_approve(actor=vice_chair, meeting=meeting, sha256=version.sha256)
    except MeetingError as exc:
        assert NOT_PRESIDING in " ".join(exc.messages)
        return False
    return True


def test_the_chairs_own_answer_while_logged_in_hands_over(meeting, chair, vice_chair, version):
    client = Client()
    client.force_login(chair, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("meetings:answer", args=[meeting.pk]), {"reply": "absent", "note": ""})
    assert response.status_code == 302
    row = row_of(meeting, chair)
    assert (row.reply, row.reply_via, row.replied_by) == ("absent", "self", chair)
    assert selectors.approver_for(meeting).kind == "vice_chair"
    assert _vice_chair_may_approve(meeting, vice_chair, version)


def test_an_absence_through_the_answer_link_does_not_hand_over(meeting, chair, vice_chair, version):
    """Reproduces the report: anyone holding the chair's link (the Cc copies carry it) answers 欠席."""
    token = answer_token(row_of(meeting, chair))
    response = Client().post(reverse("notices:answer", args=[token]), {"reply": "absent"})
    assert response.status_code == 302
    row = row_of(meeting, chair)
    assert (row.reply, row.reply_via) == ("absent", "link")

    assert selectors.approver_for(meeting).kind == "chair"
    assert not _vice_chair_may_approve(meeting, vice_chair, version)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)  # the chair still decides


def test_the_secretariat_recording_an_absence_without_a_reason_does_not_hand_over(
    meeting, secretariat, chair, vice_chair, version
):
    services.attendance_reply(actor=secretariat, attendance=row_of(meeting, chair), reply="absent", on_behalf=True)
    row = row_of(meeting, chair)
    assert (row.reply, row.reply_via, row.absence_mailed_at) == ("absent", "secretariat", None)
    assert not OutboxMail.objects.filter(topic=ABSENCE_TOPIC).exists()
    assert not _vice_chair_may_approve(meeting, vice_chair, version)


def test_the_secretariat_recording_an_absence_with_a_reason_tells_the_chair_and_hands_over(
    meeting, secretariat, chair, vice_chair, version
):
    services.attendance_reply(
        actor=secretariat, attendance=row_of(meeting, chair), reply="absent", note="出張のため(電話)", on_behalf=True
    )
    row = row_of(meeting, chair)
    assert row.absence_mailed_at is not None
    (mail,) = OutboxMail.objects.filter(topic=ABSENCE_TOPIC)
    assert mail.to == chair.person.email or mail.to == chair.email
    assert "出張のため(電話)" in mail.text and "/answer/" not in mail.text
    assert selectors.approver_for(meeting).reason == "chair_absent"
    assert _vice_chair_may_approve(meeting, vice_chair, version)


def test_the_mail_is_written_in_the_same_transaction(invited, meeting, secretariat, chair):
    class RolledBackError(Exception):
        pass

    with pytest.raises(RolledBackError), transaction.atomic():
        services.attendance_reply(
            actor=secretariat, attendance=row_of(meeting, chair), reply="absent", note="出張", on_behalf=True
        )
        assert OutboxMail.objects.filter(topic=ABSENCE_TOPIC).count() == 1
        raise RolledBackError
    assert not OutboxMail.objects.filter(topic=ABSENCE_TOPIC).exists()
    assert row_of(meeting, chair).reply == ""


def test_without_an_address_to_tell_the_chair_the_absence_does_not_hand_over(
    meeting, secretariat, chair, vice_chair, version
):
    person = chair.person
    person.email = ""
    person.save(update_fields=["email"])
    type(chair).objects.filter(pk=chair.pk).update(email="")  # neither a contact nor a login address
    services.attendance_reply(
        actor=secretariat, attendance=row_of(meeting, chair), reply="absent", note="出張", on_behalf=True
    )
    assert row_of(meeting, chair).absence_mailed_at is None
    assert not _vice_chair_may_approve(meeting, vice_chair, version)


def test_a_link_answer_after_a_trusted_absence_takes_the_hand_over_back(meeting, chair, vice_chair, version):
    services.attendance_reply(actor=chair, attendance=row_of(meeting, chair), reply="absent")
    assert selectors.approver_for(meeting).kind == "vice_chair"
    token = answer_token(row_of(meeting, chair))
    Client().post(reverse("notices:answer", args=[token]), {"reply": "absent", "note": "リンクから"})
    assert row_of(meeting, chair).reply_via == "link"
    assert selectors.approver_for(meeting).kind == "chair"


def test_answers_record_who_set_them(invited, meeting, secretariat, member, chair):
    services.attendance_reply(actor=member, attendance=row_of(meeting, member), reply="venue")
    services.attendance_reply(actor=secretariat, attendance=row_of(meeting, chair), reply="venue", on_behalf=True)
    assert row_of(meeting, member).reply_via == Attendance.ReplyVia.SELF
    assert row_of(meeting, chair).reply_via == Attendance.ReplyVia.SECRETARIAT
    with pytest.raises(ValueError):  # "self" cannot be claimed for someone else's answer
        services.attendance_reply(
            actor=secretariat, attendance=row_of(meeting, chair), reply="absent", on_behalf=True, via="self"
        )


@pytest.mark.parametrize(("note", "said"), [("", "does not let the vice chair act"), ("出張", "was told by mail")])
def test_the_secretariat_is_told_whether_the_absence_hands_over(invited, meeting, secretariat, chair, note, said):
    from .conftest import sign_in

    client = Client()
    sign_in(client, secretariat)
    with translation.override("en"):
        response = client.post(
            reverse("meetings:manage_action", args=[meeting.pk, "reply"]),
            {"attendance": row_of(meeting, chair).pk, "reply": "absent", "note": note},
            HTTP_ACCEPT_LANGUAGE="en",
            follow=True,
        )
    assert response.status_code == 200
    assert said in response.content.decode()

"""What notices records when other apps change something (registered in NoticesConfig.ready): materials
published or hidden, inside the transaction of the change (documents.recorders)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from . import announcements

ABSENCE_TOPIC = "meetings.absence_recorded"


def on_material_published(sender, material, replaced: bool = False, **kwargs) -> None:
    announcements.material_announce(material_id=material.pk, replaced=replaced)


def on_material_hidden(sender, material, **kwargs) -> None:
    announcements.material_forget(material_id=material.pk)


def on_minutes_sent_for_confirmation(sender, meeting, actor=None, **kwargs) -> None:
    """The secretariat asked the members who attended to confirm the draft minutes: the 議事録確認のお願い
    goes to those who have not answered yet, written in the same transaction (nobody with an address: no
    notice, and the request stands; the confirmation page lists who is asked)."""
    from .models import Notice
    from .services import notice_send

    notice_send(actor=actor, meeting=meeting, kind=Notice.Kind.MINUTES, allow_empty=True)


def on_absence_recorded(sender, attendance, actor=None, **kwargs) -> bool:
    """The secretariat recorded a member's 欠席 with a reason: tell the member by mail, written to the outbox in
    the same transaction. Only the member's own address: the mail carries no answer link and no Cc. Returns
    whether a mail was written (no address, no mail: the absence then does not count, meetings.selectors)."""
    from .selectors import person_email
    from .services import outbox_write

    person = attendance.person
    address = person_email(person)
    if not address:
        return False
    meeting = attendance.meeting
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(body)s] Your absence from %(meeting)s was recorded") % {
            "body": meeting.body.short_name or meeting.body.name, "meeting": meeting.label}
        text = _(
            "%(name)s\n\nThe secretariat recorded that you will not attend %(meeting)s.\n"
            "Reason recorded: %(reason)s\n\nIf you are the chair, the vice chair may act in your place while you "
            "are recorded absent (for example approve the agenda). If this is wrong, log in and give your "
            "answer, or tell the secretariat:\n%(url)s\n"
        ) % {
            "name": person.full_name,
            "meeting": meeting.label,
            "reason": attendance.reply_note,
            "url": settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk]),
        }
    outbox_write(topic=ABSENCE_TOPIC, to=address, subject=subject, text=text)
    return True

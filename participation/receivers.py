"""What the app does when a meeting changes: stop 傍聴 registration when it becomes 非公開, is postponed or
cancelled, and tell the body's subscribers of new meetings, changes, materials and minutes."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.models import AuditAction, AuditEntry
from meetings.models import Meeting, Openness

from . import services
from .models import Subscription

MEETING_ACTIONS = {
    AuditAction.MEETING_CREATED: "created",
    AuditAction.MEETING_CHANGED: "changed",
    AuditAction.MEETING_POSTPONED: "postponed",
    AuditAction.MEETING_CANCELLED: "cancelled",
    AuditAction.MINUTES_PUBLISHED: "minutes",
}


def on_audit_entry(sender, instance: AuditEntry, created: bool, **kwargs) -> None:
    """Inside the transaction of the meeting's change: its writes commit or roll back with it."""
    if not created or not instance.target_id.isdigit():
        return
    if instance.action == AuditAction.MINUTES_STARTED:
        services.minutes_started(meeting_pk=int(instance.target_id), actor=instance.actor)
        return
    if instance.action not in MEETING_ACTIONS:
        return
    meeting = Meeting.objects.select_related("body").filter(pk=int(instance.target_id)).first()
    if meeting is None:
        return
    news = MEETING_ACTIONS[AuditAction(instance.action)]
    if news == "postponed":
        services.observation_close(meeting=meeting, reason=_("The meeting was postponed."))
    elif news == "cancelled":
        services.observation_close(meeting=meeting, reason=_("The meeting was cancelled."))
    elif news == "changed" and meeting.openness == Openness.CLOSED:
        services.observation_close(meeting=meeting, reason=_("The meeting is closed to the public (非公開)."))
    notify_subscribers(meeting, news)


def notify_subscribers(meeting: Meeting, news: str, material_title: str = "") -> int:
    """One mail per subscriber of a public body about `news` on `meeting`."""
    if not meeting.body.is_public:
        return 0
    if not Subscription.objects.filter(body_id=meeting.body_id, state=Subscription.State.ACTIVE).exists():
        return 0
    context = {"meeting": meeting, "news": news, "material_title": material_title,
               "meeting_url": services._url("meetings:detail", meeting.pk)}
    subject = render_to_string("participation/email/news_subject.txt", context).strip()
    text = render_to_string("participation/email/news.txt", context)
    return services.subscribers_notify(body_id=meeting.body_id, subject=subject, text=text)


def on_material_published(sender, material, replaced: bool = False, **kwargs) -> None:
    """A material the public sees was published: the subscribers' mails are written in the transaction of
    the publication (documents.recorders), and commit or roll back with it."""
    if material.visibility != "public" or replaced:
        return
    meeting = Meeting.objects.select_related("body").get(pk=material.meeting_id)
    notify_subscribers(meeting, "material", material_title=str(material.title))

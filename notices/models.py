"""Notices (通知) to the invitees of a meeting, one delivery row per recipient (the outbox), reminders."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from committee.models import Body, Person
from documents.models import Material
from meetings.models import Attendee, Meeting


class Notice(models.Model):
    """通知: one message of one kind about one meeting, sent to every recipient."""

    class Kind(models.TextChoices):
        CONVOCATION = "convocation", _("Notice of meeting (開催通知)")
        CHANGE = "change", _("Notice of change (変更通知)")
        CANCELLATION = "cancellation", _("Notice of cancellation or postponement (中止・延期通知)")
        REMINDER = "reminder", _("Reminder (リマインダー)")
        MATERIALS = "materials", _("Materials published (資料掲載のお知らせ)")
        MINUTES = "minutes", _("Minutes to confirm (議事録確認のお願い)")
        ANSWER_REMINDER = "answer_reminder", _("Reminder to answer attendance (出欠回答のお願い)")
        MINUTES_OVERDUE = "minutes_overdue", _("Minutes overdue, to the secretariat (議事録公開期限超過)")
        INVITATION = "invitation", _("Invitation of another attendee (出席依頼)")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sequence = models.PositiveIntegerField(_("meeting revision"), default=0)
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    note = models.TextField(_("note added to the message"), blank=True)
    cc = models.EmailField(_("copy to"), blank=True)
    attendee = models.ForeignKey(
        Attendee,
        verbose_name=_("other attendee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The one attendee an invitation (出席依頼) goes to."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["meeting", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_kind_display()}"


class MailRow(models.Model):
    """What every row of the outbox has (a notice's delivery, another mail): its state and the fields the
    one sending machinery (notices.outbox) claims, leases, retries and marks it by."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting (待機中)")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent (送信済)")
        FAILED = "failed", _("Failed (失敗)")

    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    lease_until = models.DateTimeField(
        _("held until"), null=True, blank=True, help_text=_("A worker sending it holds it until then.")
    )
    retry_at = models.DateTimeField(_("next try at"), null=True, blank=True)
    failing_since = models.DateTimeField(
        _("failing since"), null=True, blank=True, help_text=_("The first temporary failure of this try.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class Delivery(MailRow):
    """One recipient of one notice; the task claims the row, sends, and records the outcome. The copy of
    a notice (to the secretariat, or to the address a member named for copies) is a row of its own, sent
    once per notice, with no personal answer link."""

    class Role(models.TextChoices):
        RECIPIENT = "to", _("Recipient")
        COPY = "copy", _("Copy (写し)")

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="deliveries")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    email = models.EmailField(_("email address"))
    copy_to = models.EmailField(
        _("copy to"), blank=True, help_text=_("The address the person asked to get a copy of every notice.")
    )
    role = models.CharField(_("role"), max_length=4, choices=Role.choices, default=Role.RECIPIENT)
    copy_for = models.CharField(
        _("copy of the notice to"), max_length=250, blank=True, help_text=_("Whose notice a copy row copies.")
    )
    message_id = models.CharField(_("message identifier"), max_length=250, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notice", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "person"],
                violation_error_message=_("This notice already goes to this person."),
                name="delivery_one_per_person",
            ),
            models.UniqueConstraint(
                fields=["notice", "email"],
                violation_error_message=_("This notice already goes to this email address."),
                name="delivery_one_per_address",
            ),
        ]
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.notice} → {self.pk}"


class Reminder(models.Model):
    """A reminder due before a meeting; the periodic relay sends it when due."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="reminders")
    offset_days = models.PositiveSmallIntegerField(_("days before the meeting"))
    due_at = models.DateTimeField(_("due at"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["meeting", "due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "offset_days"],
                violation_error_message=_("This meeting already has a reminder this many days before it."),
                name="reminder_one_per_offset",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting} −{self.offset_days}"


def parse_reminder_days(value: str) -> list[int]:
    """"7,1" → [7, 1]; raises ValidationError for anything but whole numbers of days from 1 to 60."""
    days = []
    for part in (value or "").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 60:
            raise ValidationError(_("Give whole numbers of days between 1 and 60, separated by commas (e.g. 7,1)."))
        days.append(int(part))
    return sorted(set(days), reverse=True)


class BodyNoticeSettings(models.Model):
    """Per-body notice settings: when reminders go out, how long materials are collected before the
    資料掲載のお知らせ goes out."""

    body = models.OneToOneField(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="notice_settings")
    reminder_days = models.CharField(
        _("reminders, days before"), max_length=40, default="7,1", blank=True, help_text=_("e.g. 7,1; empty for none.")
    )
    materials_delay = models.PositiveSmallIntegerField(
        _("materials notice after (minutes)"),
        default=10,
        validators=[MaxValueValidator(24 * 60)],
        help_text=_(
            "The notice of published materials goes out this many minutes after the last material was "
            "published or replaced, so that several uploads in a row make one notice."
        ),
    )

    class Meta:
        verbose_name = _("notice settings")
        verbose_name_plural = _("notice settings")

    def __str__(self) -> str:
        return str(self.body)

    def clean(self) -> None:
        try:
            parse_reminder_days(self.reminder_days)
        except ValidationError as exc:
            raise ValidationError({"reminder_days": exc.messages}) from None

    @property
    def days(self) -> list[int]:
        return parse_reminder_days(self.reminder_days)


class NoticeTemplate(models.Model):
    """The wording of one kind of notice for one body, edited by the secretariat (Django template syntax)."""

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="notice_templates")
    kind = models.CharField(_("kind"), max_length=20, choices=Notice.Kind.choices)
    subject = models.CharField(
        _("subject"),
        max_length=250,
        help_text=_("Template syntax as in the text; placeholders such as meeting.label go in double braces."),
    )
    text = models.TextField(
        _("text"), help_text=_("Plain text; the answer link, the meeting's particulars and the footer are added.")
    )

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        ordering = ["body", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "kind"],
                violation_error_message=_("This body already has a template for this kind of notice."),
                name="noticetemplate_one_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.body.short_name} {self.get_kind_display()}"

    def clean(self) -> None:
        from django.template import Template, TemplateSyntaxError

        for field in ("subject", "text"):
            try:
                Template(getattr(self, field))
            except TemplateSyntaxError as exc:
                raise ValidationError({field: str(exc)}) from None


class MaterialAnnouncement(models.Model):
    """A material published to members or replaced, waiting for (or listed in) a 資料掲載のお知らせ.

    The meeting's waiting rows share one due time, pushed back whenever another material comes, so that a
    run of uploads makes one notice; the relay sends it when due. A material withdrawn or hidden before
    then loses its row; a meeting whose rows are all gone gets no notice.
    """

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="material_announcements"
    )
    material = models.ForeignKey(
        Material, verbose_name=_("material"), on_delete=models.CASCADE, related_name="announcements"
    )
    replaced = models.BooleanField(_("replaced (差替)"), default=False)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    first_at = models.DateTimeField(_("first recorded at"), default=timezone.now)
    notice = models.ForeignKey(
        Notice,
        verbose_name=_("notice"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="announced_materials",
    )

    class Meta:
        verbose_name = _("material to announce")
        verbose_name_plural = _("materials to announce")
        ordering = ["meeting", "due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["material"],
                condition=models.Q(notice__isnull=True),
                violation_error_message=_("This material is already waiting to be announced."),
                name="announcement_one_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.material_id}"


class NotificationPreference(models.Model):
    """What a member wants by mail beyond the statutory notices, and who gets a copy."""

    person = models.OneToOneField(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="notification_preference"
    )
    reminders = models.BooleanField(_("reminders before meetings"), default=True)
    materials = models.BooleanField(_("notices of published materials (資料掲載のお知らせ)"), default=True)
    copy_to = models.EmailField(
        _("send a copy to"),
        blank=True,
        help_text=_("For example your secretary (秘書・連絡担当者); they get a copy of every notice you get."),
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.person)

    def wants(self, kind: str) -> bool:
        if kind == Notice.Kind.REMINDER:
            return self.reminders
        if kind == Notice.Kind.MATERIALS:
            return self.materials
        return True  # the statutory notices always go out


class OutboxMail(MailRow):
    """A mail that is not a meeting's notice (傍聴 registrations, subscriptions to a body, and any mail
    another app writes with services.outbox_write): written in the transaction of the action that causes
    it, claimed, sent and marked by the same machinery as a delivery (notices.outbox)."""

    topic = models.CharField(_("topic"), max_length=60, db_index=True, help_text=_("Which app wrote it, and why."))
    to = models.EmailField(_("email address"))
    subject = models.CharField(_("subject"), max_length=250)
    text = models.TextField(_("text"))
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("other mail")
        verbose_name_plural = _("other mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "queued_at"], name="notices_outbox_state_queued")]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"

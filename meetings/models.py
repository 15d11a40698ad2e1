"""Meetings, the 次第 and its approval, attendance, seating, minutes and the year's milestones."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from committee.models import Appointment, Body, OfficerTerm, Person
from core import wareki
from core.validation import end_before_start


class Openness(models.TextChoices):
    PUBLIC = "public", _("Public (公開)")
    PARTLY_CLOSED = "partly_closed", _("Partly closed (一部非公開)")
    CLOSED = "closed", _("Closed (非公開)")


class Meeting(models.Model):
    """会議: one meeting of a body (第N回)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned (予定)")
        NOTIFIED = "notified", _("Notice sent (通知済)")
        HELD = "held", _("Held (開催済)")
        MINUTES_PUBLISHED = "minutes_published", _("Minutes published (議事録公開)")
        POSTPONED = "postponed", _("Postponed (延期)")
        CANCELLED = "cancelled", _("Cancelled (中止)")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.PROTECT, related_name="meetings")
    number = models.PositiveSmallIntegerField(
        _("number"), null=True, blank=True, help_text=_("第N回; empty for an unnumbered meeting such as 準備会.")
    )
    name = models.CharField(_("name of an unnumbered meeting"), max_length=60, blank=True, help_text=_("e.g. 準備会"))
    title = models.CharField(_("title"), max_length=250, help_text=_("As printed on the 次第."))
    theme = models.CharField(_("main subject"), max_length=200, blank=True, help_text=_("e.g. 骨子案検討"))
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), db_index=True)
    planned_month = models.DateField(
        _("month planned"),
        null=True,
        blank=True,
        help_text=_("When only the month is fixed (日程未定): its first day."),
    )
    start_at = models.DateTimeField(_("starts"), null=True, blank=True)
    end_at = models.DateTimeField(_("ends"), null=True, blank=True)
    time_undecided = models.BooleanField(_("time not yet fixed"), default=False)
    venue_name = models.CharField(_("venue"), max_length=200, blank=True)
    venue_address = models.CharField(_("address"), max_length=250, blank=True)
    venue_room = models.CharField(_("room"), max_length=100, blank=True)
    online_url = models.URLField(_("online meeting link (members only)"), max_length=500, blank=True)
    online_note = models.CharField(_("online meeting details (members only)"), max_length=250, blank=True)
    openness = models.CharField(_("openness"), max_length=16, choices=Openness.choices, default=Openness.PUBLIC)
    openness_basis = models.CharField(
        _("basis of closure"), max_length=200, blank=True, help_text=_("e.g. 委員の承諾 (第4-4)")
    )
    openness_decided_on = models.DateField(_("closure decided on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    postponed_from = models.DateTimeField(_("originally planned for"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancellation or postponement"), max_length=250, blank=True)
    sequence = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["body", "fiscal_year", "start_at", "planned_month", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "number"],
                violation_error_message=_("This body already has a meeting with this number."),
                name="meeting_number_unique_per_body",
            ),
            models.CheckConstraint(
                condition=Q(end_at__isnull=True) | Q(start_at__isnull=False, end_at__gt=models.F("start_at")),
                violation_error_message=_("The meeting must end after it starts, and an end time needs a start."),
                name="meeting_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(start_at__isnull=False) | Q(planned_month__isnull=False),
                violation_error_message=_("Give the date of the meeting, or at least the month it is planned for."),
                name="meeting_has_date_or_month",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=False) | ~Q(name=""),
                violation_error_message=_("Give the meeting a number (第n回) or a name."),
                name="meeting_number_or_name",
            ),
        ]
        indexes = [models.Index(fields=["status", "start_at"])]

    def __str__(self) -> str:
        return f"{self.body.short_name} {self.label}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        """The body and meeting an audit entry about it belongs to (core.audit.audit_scope)."""
        return self.body_id, self.pk

    @property
    def label(self) -> str:
        """第1回 / 準備会."""
        return f"第{self.number}回" if self.number else self.name

    @property
    def date(self) -> dt.date | None:
        return timezone.localtime(self.start_at).date() if self.start_at else None

    @property
    def reference_date(self) -> dt.date:
        """The date rights and rosters are judged on: the meeting day, or the first of its month."""
        day = self.date or self.planned_month
        if day is None:  # a check constraint requires one of them
            raise ValueError(f"Meeting {self.pk} has neither a date nor a month.")
        return day

    @property
    def day_undecided(self) -> bool:
        return self.start_at is None

    @property
    def is_past(self) -> bool:
        return self.start_at is not None and self.start_at <= timezone.now()

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def when_ja(self) -> str:
        if self.start_at and self.time_undecided:
            return wareki.format_date(self.start_at) + " 時刻未定"
        if self.start_at:  # 令和5年5月10日(水) 14:00～16:00, as the 次第 and the letters give it
            end = f"～{timezone.localtime(self.end_at):%H:%M}" if self.end_at else ""
            return wareki.format_datetime(self.start_at) + end
        if self.planned_month is None:  # not yet validated: clean() asks for one of them
            return ""
        return wareki.format_month(self.planned_month.year, self.planned_month.month) + "(日程未定)"

    def clean(self) -> None:
        if self.start_at is None and self.planned_month is None:
            raise ValidationError(_("Give the date and time, or at least the month."))
        if self.end_at and self.start_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": _("The meeting must end after it starts.")})
        if not self.number and not self.name:
            raise ValidationError({"name": _("An unnumbered meeting needs a name, e.g. 準備会.")})
        if self.openness != Openness.PUBLIC and not self.openness_basis:
            raise ValidationError({"openness_basis": _("Record the basis for closing the meeting (e.g. 委員の承諾).")})


class Agenda(models.Model):
    """次第 of a meeting, with its approval state. Its items are AgendaItem rows."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for approval")
        RETURNED = "returned", _("Returned with comments")
        APPROVED = "approved", _("Approved")

    meeting = models.OneToOneField(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="agenda")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "AgendaVersion",
        verbose_name=_("version under review"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_version = models.ForeignKey(
        "AgendaVersion",
        verbose_name=_("approved version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note printed under the items"), blank=True)

    class Meta:
        verbose_name = _("agenda (次第)")
        verbose_name_plural = _("agendas (次第)")

    def __str__(self) -> str:
        return f"{self.meeting} 次第"


class AgendaItem(models.Model):
    """One item of the 次第; items nest (4 議事 → (1), (2) → ①)."""

    class Result(models.TextChoices):
        """結果: what became of the item at the meeting, as the secretariat records it afterwards."""

        APPROVED = "approved", _("Approved (承認)")
        AMENDED = "amended", _("Approved with amendments (修正承認)")
        DECIDED = "decided", _("Decided (決定)")
        NOTED = "noted", _("Accepted (了承)")
        REPORTED = "reported", _("Reported (報告)")
        DISCUSSED = "discussed", _("Views exchanged (意見交換)")
        CONTINUED = "continued", _("Continued at a later meeting (継続審議)")

    agenda = models.ForeignKey(Agenda, verbose_name=_("agenda"), on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", verbose_name=_("under item"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=300)
    detail = models.TextField(
        _("detail"), blank=True, help_text=_("A line under the title, e.g. the theme of 意見交換.")
    )
    presenter = models.CharField(_("presenter"), max_length=150, blank=True)
    starts_at = models.TimeField(_("time"), null=True, blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    closure_basis = models.CharField(_("basis of closure"), max_length=200, blank=True)
    closure_decided_on = models.DateField(_("closure decided on"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, help_text=_("After the meeting: what was decided."))

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["agenda", "parent_id", "position", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.parent is not None and self.parent.agenda_id != self.agenda_id:
            raise ValidationError({"parent": _("The parent item must belong to the same agenda.")})
        if not self.is_public and not self.closure_basis:
            raise ValidationError({"closure_basis": _("Record the basis for closing this item (e.g. 委員の承諾).")})


# 結果 in Japanese, as the open data publishes it whatever the reader's language.
RESULT_TERMS: dict[str, str] = {
    AgendaItem.Result.APPROVED: "承認",
    AgendaItem.Result.AMENDED: "修正承認",
    AgendaItem.Result.DECIDED: "決定",
    AgendaItem.Result.NOTED: "了承",
    AgendaItem.Result.REPORTED: "報告",
    AgendaItem.Result.DISCUSSED: "意見交換",
    AgendaItem.Result.CONTINUED: "継続審議",
}


class AgendaVersion(models.Model):
    """A frozen copy of the 次第 as submitted, with its hash; approval pins one version."""

    agenda = models.ForeignKey(Agenda, verbose_name=_("agenda"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    snapshot = models.JSONField(_("content"))
    sha256 = models.CharField(_("content hash"), max_length=64)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(
        _("decision"),
        max_length=16,
        blank=True,
        choices=[("approved", _("Approved")), ("returned", _("Returned")), ("superseded", _("Superseded by an edit"))],
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_as = models.CharField(
        _("decided as"), max_length=60, blank=True, help_text=_("委員長, 副委員長 or the convener")
    )
    comment = models.TextField(_("comment"), blank=True)
    # Which AgendaItem each snapshot item is, in the snapshot's order: results recorded on the items after
    # the meeting are shown beside the approved text. Not part of the content the hash covers.
    item_ids = models.JSONField(_("items"), default=list, blank=True, editable=False)
    results_recorded_at = models.DateTimeField(_("results last recorded at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("agenda version")
        verbose_name_plural = _("agenda versions")
        ordering = ["agenda", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "number"],
                violation_error_message=_("This agenda already has a version with this number."),
                name="agendaversion_unique_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agenda} v{self.number}"


class Attendee(models.Model):
    """Someone invited beyond the members: 説明員, 参考人 (第4-3), オブザーバー, 事務局, the greeting official."""

    class Role(models.TextChoices):
        EXPLAINER = "explainer", _("Explainer (説明員)")
        WITNESS = "witness", _("Expert witness (参考人)")
        OBSERVER = "observer", _("Observer (オブザーバー)")
        SECRETARIAT = "secretariat", _("Secretariat (事務局)")
        OFFICIAL = "official", _("Prefectural official (挨拶等)")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendees")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendances_as_guest",
    )
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("When not a registered person."))
    title = models.CharField(_("affiliation and title"), max_length=200, blank=True)
    email = models.EmailField(
        _("email address"), blank=True, help_text=_("The invitation with the answer link goes here.")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    invited_by_chair = models.BooleanField(_("asked to attend by the chair (第4-3)"), default=False)

    class Meta:
        verbose_name = _("other attendee")
        verbose_name_plural = _("other attendees")
        ordering = ["meeting", "role", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | ~Q(name="") | ~Q(title=""),
                violation_error_message=_("Choose a person, or give the attendee's name or title."),
                name="attendee_has_name_or_title",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.person.full_name if self.person is not None else (self.name or self.title)


class Attendance(models.Model):
    """One invitee's answer before the meeting and attendance recorded after it."""

    class Reply(models.TextChoices):
        VENUE = "venue", _("At the venue (会場)")
        ONLINE = "online", _("Online (オンライン)")
        ABSENT = "absent", _("Absent (欠席)")

    class ReplyVia(models.TextChoices):
        """Who set the answer, and how: only the member's own answer while logged in, or the secretariat's
        record with a reason the member was told of by mail, may make the vice chair act for the chair."""

        SELF = "self", _("The member, logged in")
        LINK = "link", _("The answer link in the mail")
        SECRETARIAT = "secretariat", _("The secretariat")

    class Actual(models.TextChoices):
        PRESENT = "present", _("Present (出席)")
        ABSENT = "absent", _("Absent (欠席)")
        LATE = "late", _("Arrived late (遅参)")
        LEFT_EARLY = "left_early", _("Left early (早退)")

    class Mode(models.TextChoices):
        VENUE = "venue", _("Venue")
        ONLINE = "online", _("Online")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendances"
    )
    appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    attendee = models.OneToOneField(
        Attendee,
        verbose_name=_("other attendee"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    reply = models.CharField(_("answer"), max_length=8, choices=Reply.choices, blank=True)
    replied_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answer recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reply_note = models.CharField(_("note with the answer"), max_length=250, blank=True)
    reply_via = models.CharField(_("answered through"), max_length=12, choices=ReplyVia.choices, blank=True)
    absence_mailed_at = models.DateTimeField(
        _("absence mailed to the member at"),
        null=True,
        blank=True,
        help_text=_("When the member was told by mail that the secretariat recorded their 欠席 (with a reason)."),
    )
    actual = models.CharField(_("attendance"), max_length=12, choices=Actual.choices, blank=True)
    actual_mode = models.CharField(_("attended"), max_length=8, choices=Mode.choices, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "appointment"],
                violation_error_message=_("This member is already on the attendance list of this meeting."),
                name="attendance_one_per_member",
            ),
            models.CheckConstraint(
                condition=(Q(appointment__isnull=False) & Q(attendee__isnull=True))
                | (Q(appointment__isnull=True) & Q(attendee__isnull=False)),
                violation_error_message=_("An attendance entry is for either a member or another attendee, not both."),
                name="attendance_member_or_attendee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.holder_name}"

    @property
    def holder_name(self) -> str:
        if self.appointment is not None:
            return self.appointment.holder_name
        return self.attendee.display_name if self.attendee is not None else ""

    @property
    def person(self) -> Person | None:
        """The registered person of the row: the member's, or the other attendee's if there is one."""
        if self.appointment is not None:
            return self.appointment.person
        return self.attendee.person if self.attendee is not None else None

    @property
    def person_id_or_none(self) -> int | None:
        if self.appointment is not None:
            return self.appointment.person_id
        return self.attendee.person_id if self.attendee is not None else None

    @property
    def attended(self) -> bool:
        return self.actual in (self.Actual.PRESENT, self.Actual.LATE, self.Actual.LEFT_EARLY)


class Seat(models.Model):
    """席図: where one attendance sits. Generated from attendance, adjustable by the secretariat."""

    class Zone(models.TextChoices):
        HEAD = "head", _("Head of the table")
        LEFT = "left", _("Left side")
        RIGHT = "right", _("Right side")
        FOOT = "foot", _("Foot (secretariat)")
        GALLERY = "gallery", _("Observers")
        ONLINE = "online", _("Online")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="seats")
    attendance = models.OneToOneField(
        Attendance, verbose_name=_("attendance"), on_delete=models.CASCADE, related_name="seat"
    )
    zone = models.CharField(_("zone"), max_length=8, choices=Zone.choices)
    position = models.PositiveSmallIntegerField(_("position in zone"), default=0)

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seating plan (席図)")
        ordering = ["meeting", "zone", "position"]

    def __str__(self) -> str:
        return f"{self.get_zone_display()} {self.position}"


class OfficerElection(models.Model):
    """The election of an officer at a meeting (互選 of the chair, the chair's nomination of the vice chair)."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="elections")
    officer_term = models.OneToOneField(
        OfficerTerm, verbose_name=_("officer"), on_delete=models.CASCADE, related_name="election"
    )

    class Meta:
        verbose_name = _("officer election")
        verbose_name_plural = _("officer elections")

    def __str__(self) -> str:
        return f"{self.meeting}: {self.officer_term}"


class Minutes(models.Model):
    """議事録 or 議事要旨 of a meeting, confirmed by the members who attended before publication."""

    class Kind(models.TextChoices):
        VERBATIM = "verbatim", _("Minutes (議事録)")
        SUMMARY = "summary", _("Summary (議事要旨)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMING = "confirming", _("Members confirming")
        FINALISED = "finalised", _("Finalised by the presiding officer")
        PUBLISHED = "published", _("Published")

    meeting = models.OneToOneField(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="minutes")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SUMMARY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    confirm_by = models.DateField(_("members confirm by"), null=True, blank=True)
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finalised by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    observers_count = models.PositiveSmallIntegerField(
        _("members of the public observing (傍聴者数)"), null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_kind_display()}"


class MinutesEntry(models.Model):
    """One passage of the minutes: who spoke (委員長, 〇〇委員, 事務局) and what was said.

    `speaker` is the label printed; the speaker fields say who it is, when it is someone the meeting knows."""

    class SpeakerRole(models.TextChoices):
        PRESIDING = "presiding", _("Chair (会長・委員長)")
        VICE_CHAIR = "vice_chair", _("Vice chair (副会長・副委員長)")
        MEMBER = "member", _("Member (委員)")
        SECRETARIAT = "secretariat", _("Secretariat (事務局)")
        ATTENDEE = "attendee", _("Other attendee (説明員・参考人等)")
        OTHER = "other", _("Other")

    minutes = models.ForeignKey(Minutes, verbose_name=_("minutes"), on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    agenda_item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    speaker = models.CharField(_("speaker"), max_length=60, blank=True, help_text=_("e.g. 委員長, 森委員, 事務局"))
    speaker_role = models.CharField(_("speaker's role"), max_length=12, choices=SpeakerRole.choices, blank=True)
    speaker_appointment = models.ForeignKey(
        Appointment, verbose_name=_("speaking member"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    speaker_attendee = models.ForeignKey(
        "Attendee", verbose_name=_("speaking attendee"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"))
    is_closed = models.BooleanField(_("closed part (left out when published)"), default=False)
    closed_basis = models.CharField(
        _("basis for closing"), max_length=250, blank=True,
        help_text=_("e.g. 審議会等の会議の公開に関する指針 第3条"),
    )
    in_summary = models.BooleanField(_("in the summary (議事要旨)"), default=True)

    class Meta:
        verbose_name = _("minutes passage")
        verbose_name_plural = _("minutes passages")
        ordering = ["minutes", "position", "id"]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:30]}"


class MinutesConfirmation(models.Model):
    """One attending member's confirmation of the draft minutes."""

    class State(models.TextChoices):
        PENDING = "pending", _("Not yet answered")
        CONFIRMED = "confirmed", _("Confirmed")
        COMMENTED = "commented", _("Commented")

    minutes = models.ForeignKey(
        Minutes, verbose_name=_("minutes"), on_delete=models.CASCADE, related_name="confirmations"
    )
    appointment = models.ForeignKey(Appointment, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("minutes confirmation")
        verbose_name_plural = _("minutes confirmations")
        constraints = [
            models.UniqueConstraint(
                fields=["minutes", "appointment"],
                violation_error_message=_("This member has already been asked to confirm these minutes."),
                name="confirmation_one_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes}: {self.appointment.holder_name}"


class MinutesVersion(models.Model):
    """A saved text of the minutes: at each change of status and each edit after the draft was sent."""

    class Reason(models.TextChoices):
        SENT = "sent", _("Sent for confirmation")
        EDITED = "edited", _("Edited during confirmation")
        FINALISED = "finalised", _("Finalised")
        PUBLISHED = "published", _("Published")

    minutes = models.ForeignKey(Minutes, verbose_name=_("minutes"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.TextField(_("text of all passages"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("minutes version")
        verbose_name_plural = _("minutes versions")
        ordering = ["minutes", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["minutes", "number"],
                violation_error_message=_("These minutes already have a version with this number."),
                name="minutes_version_unique_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes} v{self.number}"


class Milestone(models.Model):
    """A date or period in the year's schedule that is not a meeting (パブコメ, 設立, プラン了承)."""

    class Precision(models.TextChoices):
        DAY = "day", _("Day")
        MONTH = "month", _("Month")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("name"), max_length=100)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), db_index=True)
    start_on = models.DateField(_("from"))
    start_precision = models.CharField(_("precision"), max_length=5, choices=Precision.choices, default=Precision.DAY)
    end_on = models.DateField(_("until"), null=True, blank=True, help_text=_("For a period, e.g. 9月–12月."))
    end_precision = models.CharField(_("precision"), max_length=5, choices=Precision.choices, default=Precision.MONTH)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["body", "start_on", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                violation_error_message=_("The end of the period is before its start."),
                name="milestone_start_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.body.short_name} {self.name}"

    def clean(self) -> None:
        if errors := end_before_start(
            start=self.start_on, end=self.end_on, field="end_on",
            message=_("The end of the period (%(end)s) is before its start (%(start)s)."),
        ):
            raise ValidationError(errors)
        if wareki.fiscal_year_of(self.start_on) != self.fiscal_year:
            raise ValidationError({"start_on": _("The date must fall within the fiscal year.")})

    @property
    def is_period(self) -> bool:
        return self.end_on is not None

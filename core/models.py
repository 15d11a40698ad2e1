"""Accounts and the audit trail shared by every app."""

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A login account; people log in with their email address."""

    # AbstractUser declares `username` a CharField; removing the field is how Django drops it.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # Part of the signed private calendar-feed address: raising it retires every earlier address (the member
    # resets it on their page; a new password resets it too).
    feed_generation = models.PositiveIntegerField(_("calendar feed generation"), default=0, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # AbstractUser types its manager as auth's username-based UserManager; this one creates users by email.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user account")
        verbose_name_plural = _("user accounts")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class AuditAction(models.TextChoices):
    """What an audit entry records. Every `audit_record` call names one of these."""

    # accounts
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    OTP_ENROLLED = "otp_enrolled", _("Second factor enrolled")
    OTP_VERIFIED = "otp_verified", _("Second factor verified")
    ACCOUNT_INVITED = "account_invited", _("Invited to log in")
    INVITATION_FAILED = "invitation_failed", _("Invitation could not be sent")
    PASSWORD_SET = "password_set", _("Password set")
    FEED_RESET = "feed_reset", _("Calendar feed address reset")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    CONTACT_UPDATED = "contact_updated", _("Contact details changed")
    # bodies and rosters
    STAFF_ASSIGNMENT_SAVED = "staff_assignment_saved", _("Secretariat staff assignment saved")
    GUIDELINE_AMENDED = "guideline_amended", _("Guidelines amended")
    PERSON_CREATED = "person_created", _("Person added to the roster")
    APPOINTMENT_CREATED = "appointment_created", _("Appointed")
    APPOINTMENT_ENDED = "appointment_ended", _("Appointment ended")
    AFFILIATION_CHANGED = "affiliation_changed", _("Affiliation changed")
    OFFICER_CHAIR_CHOSEN = "officer_chair_chosen", _("Chair chosen")
    OFFICER_VICE_CHAIR_CHOSEN = "officer_vice_chair_chosen", _("Vice chair chosen")
    OFFICER_ENDED = "officer_ended", _("Officer's term ended")
    ROSTER_EXPORTED = "roster_exported", _("Roster exported")
    BODY_RENEWED = "body_renewed", _("Body renewed for a new term")
    BODY_UPDATED = "body_updated", _("Body details changed")
    # meetings
    MEETING_CREATED = "meeting_created", _("Meeting created")
    MEETING_CHANGED = "meeting_changed", _("Meeting changed")
    MEETING_POSTPONED = "meeting_postponed", _("Meeting postponed")
    MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")
    MEETING_NOTIFIED = "meeting_notified", _("Meeting marked as notified")
    MEETING_HELD = "meeting_held", _("Meeting marked as held")
    MILESTONE_SAVED = "milestone_saved", _("Milestone saved")
    AGENDA_REOPENED = "agenda_reopened", _("Agenda reopened for editing")
    AGENDA_ITEM_ADDED = "agenda_item_added", _("Agenda item added")
    AGENDA_ITEM_CHANGED = "agenda_item_changed", _("Agenda item changed")
    AGENDA_ITEM_DELETED = "agenda_item_deleted", _("Agenda item deleted")
    AGENDA_ITEM_MOVED = "agenda_item_moved", _("Agenda item moved")
    AGENDA_SUBMITTED = "agenda_submitted", _("Agenda submitted for approval")
    AGENDA_APPROVED = "agenda_approved", _("Agenda approved")
    AGENDA_RETURNED = "agenda_returned", _("Agenda returned")
    AGENDA_RESULTS_RECORDED = "agenda_results_recorded", _("Results of agenda items recorded")
    ATTENDANCE_PREPARED = "attendance_prepared", _("Attendance list prepared")
    ATTENDANCE_ANSWERED = "attendance_answered", _("Attendance answered")
    ATTENDANCE_RECORDED = "attendance_recorded", _("Attendance recorded")
    SEATING_GENERATED = "seating_generated", _("Seating plan generated")
    SEATING_ADJUSTED = "seating_adjusted", _("Seating plan adjusted")
    OFFICER_ELECTION_RECORDED = "officer_election_recorded", _("Officer election recorded")
    ATTENDEE_ADDED = "attendee_added", _("Other attendee added")
    ATTENDEE_CHANGED = "attendee_changed", _("Other attendee changed")
    ATTENDEE_REMOVED = "attendee_removed", _("Other attendee removed")
    ATTENDEE_ANSWERED = "attendee_answered", _("Other attendee answered by link")
    MINUTES_SENT_FOR_CONFIRMATION = "minutes_sent_for_confirmation", _("Minutes sent for confirmation")
    MINUTES_CONFIRMED = "minutes_confirmed", _("Minutes confirmed")
    MINUTES_FINALISED = "minutes_finalised", _("Minutes finalised")
    MINUTES_PUBLISHED = "minutes_published", _("Minutes published")
    MINUTES_STARTED = "minutes_started", _("Minutes started")
    MINUTES_SETTINGS_CHANGED = "minutes_settings_changed", _("Minutes settings changed")
    MINUTES_PASSAGE_ADDED = "minutes_passage_added", _("Minutes passage added")
    MINUTES_PASSAGE_CHANGED = "minutes_passage_changed", _("Minutes passage changed")
    MINUTES_PASSAGE_DELETED = "minutes_passage_deleted", _("Minutes passage deleted")
    MINUTES_PASSAGE_MOVED = "minutes_passage_moved", _("Minutes passage moved")
    # materials
    MATERIAL_CREATED = "material_created", _("Material created")
    MATERIAL_UPLOADED = "material_uploaded", _("Material file uploaded")
    MATERIAL_REPLACED = "material_replaced", _("Material replaced")
    MATERIAL_PUBLISHED = "material_published", _("Material published")
    MATERIAL_VISIBILITY_CHANGED = "material_visibility_changed", _("Material visibility changed")
    MATERIAL_CLOSED = "material_closed", _("Material made closed")
    MATERIAL_REOPENED = "material_reopened", _("Material no longer closed")
    MATERIAL_WITHDRAWN = "material_withdrawn", _("Material withdrawn")
    MATERIAL_RESTORED = "material_restored", _("Material restored")
    MATERIAL_DOWNLOADED = "material_downloaded", _("Material downloaded")
    # notices
    NOTICE_SENT = "notice_sent", _("Notice sent")
    ATTENDEE_INVITED = "attendee_invited", _("Other attendee invited by mail")
    DELIVERY_RESENT = "delivery_resent", _("Delivery sent again")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    NOTIFICATION_SETTINGS_CHANGED = "notification_settings_changed", _("Notification settings changed")
    # fees
    FEES_COMPUTED = "fees_computed", _("Fee statements computed")
    FEE_STATEMENT_CORRECTED = "fee_statement_corrected", _("Fee statement corrected")
    FEES_APPROVED = "fees_approved", _("Fee statements approved")
    FEES_REOPENED = "fees_reopened", _("Fee statements reopened")
    FEE_RULES_CREATED = "fee_rules_created", _("Fee rules created")
    PAYEE_SETTING_SAVED = "payee_setting_saved", _("Payee setting saved")
    # the admin site (the change message is kept in the entry's data)
    ADMIN_ADD = "admin_add", _("Added in the admin site")
    ADMIN_CHANGE = "admin_change", _("Changed in the admin site")
    ADMIN_DELETE = "admin_delete", _("Deleted in the admin site")
    AUDIT_EXPORTED = "audit_exported", _("Audit log exported")
    # participation (傍聴, subscriptions)
    OBSERVATION_GUIDE_SAVED = "observation_guide_saved", _("Rules for observers saved")
    OBSERVATION_SETTINGS_SAVED = "observation_settings_saved", _("Observation settings saved")
    OBSERVATION_CLOSED = "observation_closed", _("Registration of observers stopped")
    OBSERVATION_LOTTERY_DRAWN = "observation_lottery_drawn", _("Observer lottery drawn")
    OBSERVER_REGISTERED = "observer_registered", _("Observer registered")
    OBSERVER_CONFIRMED = "observer_confirmed", _("Observer confirmed the address")
    OBSERVER_CANCELLED = "observer_cancelled", _("Observer registration cancelled")
    OBSERVER_CHECKED_IN = "observer_checked_in", _("Observer checked in")
    OBSERVER_DATA_DELETED = "observer_data_deleted", _("Observers' personal data deleted")
    OBSERVER_COUNT_CORRECTED = "observer_count_corrected", _("Number of observers corrected")
    SUBSCRIPTION_REQUESTED = "subscription_requested", _("Subscription requested")
    SUBSCRIPTION_CONFIRMED = "subscription_confirmed", _("Subscription confirmed")
    SUBSCRIPTION_ENDED = "subscription_ended", _("Unsubscribed")


class AuditEntry(models.Model):
    """One recorded action: who did what to which object, when and from where."""

    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("by (as recorded)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices, db_index=True)
    target_type = models.ForeignKey(
        ContentType, verbose_name=_("object type"), null=True, blank=True, on_delete=models.SET_NULL
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    # The body and meeting the target belongs to, derived once by core.audit.audit_scope when recorded, so
    # an entry stays scoped to its body's secretariat after its target is deleted. Plain ids: core sits
    # below committee and meetings and cannot name their models.
    body_id = models.PositiveBigIntegerField(_("body (id)"), null=True, blank=True, db_index=True)
    meeting_id = models.PositiveBigIntegerField(_("meeting (id)"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_label}"


class Invitation(models.Model):
    """An invitation to set a password and log in, mailed to a person's login account.

    The mail's link is signed (committee.accounts.invitation_tokens) and works only for the account's latest
    invitation, until the password is set or the link expires. The mail is a row of the one outbox
    (notices.OutboxMail, written through core.outbox in the same transaction); `outbox_id` names it, and
    whether it is waiting, sent or failed (with the reason) is read from that row. `status` then only
    records that a newer invitation replaced this one; `claimed_at`, `sent_at` and `last_error` belong to
    invitations written before the outbox carried them (outbox_id empty)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPERSEDED = "superseded", _("Replaced by a newer invitation")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("login account"), on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    # The row's id, not a foreign key: core sits below notices, which keeps the outbox (core.outbox).
    outbox_id = models.PositiveBigIntegerField(_("outbox mail"), null=True, blank=True, editable=False, unique=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="core_invitation_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"

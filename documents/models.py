"""Meeting materials (資料): numbered, versioned files with access levels, and their downloads."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.models import AgendaItem, Meeting


class Material(models.Model):
    """資料: one numbered material of a meeting (資料1, 資料2-1, 参考資料1, 次第, 出席者名簿).

    Its link stays the same when the file is replaced (差替); the newest version is served.
    """

    class Visibility(models.TextChoices):
        SECRETARIAT = "secretariat", _("Secretariat only (事務局のみ)")
        MEMBERS = "members", _("Members (委員)")
        PUBLIC = "public", _("Public (公開)")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="materials")
    agenda_item = models.ForeignKey(
        AgendaItem,
        verbose_name=_("agenda item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="materials",
    )
    label = models.CharField(
        _("label"), max_length=40, blank=True, help_text=_("e.g. 資料1; empty for the agenda or the attendance list")
    )
    title = models.CharField(_("title"), max_length=300)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    visibility = models.CharField(
        _("visible to"), max_length=12, choices=Visibility.choices, default=Visibility.SECRETARIAT
    )
    is_closed = models.BooleanField(_("closed (非公開): can never become public"), default=False)
    current_version = models.ForeignKey(
        "MaterialVersion",
        verbose_name=_("current file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("made public at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("reason for withdrawal"), max_length=250, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(is_closed=True, visibility="public"),
                violation_error_message=_("A material made closed (非公開) cannot be public."),
                name="material_closed_never_public",
            ),
            models.UniqueConstraint(
                fields=["meeting", "label"],
                condition=~models.Q(label=""),
                violation_error_message=_("This meeting already has a material with this label."),
                name="material_unique_label_per_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.title}".strip()

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def was_replaced(self) -> bool:
        return self.current_version is not None and self.current_version.number > 1


def _stored_name(instance: MaterialVersion, filename: str) -> str:
    # A generated name: nothing of the uploaded name reaches the file system.
    suffix = instance.extension if instance.extension else "bin"
    return f"materials/{uuid.uuid4().hex}.{suffix}"


class TextStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be read")
    DONE = "done", _("Text read")
    EMPTY = "empty", _("No text found (a scan?)")
    UNSUPPORTED = "unsupported", _("Type not read for search")
    FAILED = "failed", _("Text could not be read")


class MaterialVersion(models.Model):
    """One uploaded file of a material; earlier versions are kept when it is replaced."""

    TextStatus = TextStatus

    material = models.ForeignKey(
        Material, verbose_name=_("material"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=_stored_name, max_length=200)
    original_name = models.CharField(_("file name as uploaded"), max_length=255)
    extension = models.CharField(_("type"), max_length=8)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    note = models.CharField(_("reason for the replacement"), max_length=250, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text_status = models.CharField(
        _("text extraction"), max_length=12, choices=TextStatus.choices, default=TextStatus.PENDING
    )
    text_error = models.CharField(_("why the text could not be read"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("material file")
        verbose_name_plural = _("material files")
        ordering = ["material", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "number"],
                violation_error_message=_("This material already has a version with this number."),
                name="materialversion_unique_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.material} v{self.number}"


class MaterialPage(models.Model):
    """The text of one page of a material file (a sheet, a slide), read for the search."""

    version = models.ForeignKey(
        MaterialVersion, verbose_name=_("material file"), on_delete=models.CASCADE, related_name="pages"
    )
    number = models.PositiveIntegerField(_("page"))
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("page of a material")
        verbose_name_plural = _("pages of materials")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "number"],
                violation_error_message=_("This file's text already has a page with this number."),
                name="materialpage_unique_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} p.{self.number}"


class Download(models.Model):
    """A download of a members-only material: who, when, which version, from where."""

    material = models.ForeignKey(
        Material, verbose_name=_("material"), on_delete=models.CASCADE, related_name="downloads"
    )
    version = models.ForeignKey(MaterialVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    via_zip = models.BooleanField(_("in the ZIP of all materials"), default=False)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        verbose_name = _("download")
        verbose_name_plural = _("downloads")
        ordering = ["-at"]
        indexes = [models.Index(fields=["material", "user"])]

    def __str__(self) -> str:
        return f"{self.material} ← {self.user}"

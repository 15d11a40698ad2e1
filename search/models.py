"""The search index: one row per thing found (a meeting, a 次第 item, a material's title or page, a
minutes passage, a body or an article of its guidelines), rebuilt from its source when that changes.

Who may find a row is never stored here: selectors.py checks each row's source against the sets the
access rules of meetings.access and documents.access allow, in the same query, so a change of who may
see something takes effect at once, without reindexing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from committee.models import Body
from documents.models import Material, MaterialVersion
from meetings.models import Meeting, MinutesEntry


class TokensField(models.TextField):
    """On PostgreSQL a tsvector (written from a literal made in Python: text.tsvector_of); elsewhere unused."""

    def db_type(self, connection) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s::tsvector" if connection.vendor == "postgresql" else "%s"


class SearchEntry(models.Model):
    """One passage that the search finds, with the columns its filters and its access rule need."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        AGENDA = "agenda", _("Agenda item (次第)")
        MATERIAL = "material", _("Material (資料)")
        MINUTES = "minutes", _("Minutes (議事録)")
        BODY = "body", _("Body and guidelines")

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair (委員長・会長)")
        OFFICER = "officer", _("Vice chair (副委員長・副会長)")
        MEMBER = "member", _("Member (委員)")
        SECRETARIAT = "secretariat", _("Secretariat (事務局)")
        OTHER = "other", _("Other speaker")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    material = models.ForeignKey(Material, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(MaterialVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minutes_entry = models.ForeignKey(
        MinutesEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    guideline_id = models.PositiveIntegerField(null=True, blank=True)  # the body's guideline, for an article
    item_public = models.BooleanField(default=True)  # a 次第 item and those above it are public
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    page = models.PositiveIntegerField(_("page"), null=True, blank=True)
    speaker = models.CharField(_("speaker"), max_length=60, blank=True)
    speaker_role = models.CharField(_("speaker's role"), max_length=12, choices=Role.choices, blank=True)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), null=True, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    folded = models.TextField(blank=True)  # title and text folded (text.fold): SQLite's FTS5 and LIKE
    tokens = TokensField(null=True, blank=True)  # PostgreSQL's tsvector of `folded`

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        indexes = [
            models.Index(fields=["kind", "date"]),
            models.Index(fields=["body", "fiscal_year"]),
            models.Index(fields=["speaker"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

"""Meeting materials (資料). A material is listed in the 次第's 【資料】 from the moment it is planned;
its files and downloads are added by the documents workflow."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.models import AgendaItem, Meeting


class Material(models.Model):
    """資料: one numbered material of a meeting (資料1, 資料2-1, 参考資料1, 次第, 出席者名簿)."""

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
        _("label"), max_length=40, blank=True, help_text=_("e.g. 資料1; empty for 次第 or 出席者名簿")
    )
    title = models.CharField(_("title"), max_length=300)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    visibility = models.CharField(
        _("visible to"), max_length=12, choices=Visibility.choices, default=Visibility.SECRETARIAT
    )
    is_closed = models.BooleanField(_("closed (非公開): can never become public"), default=False)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(is_closed=True, visibility="public"), name="material_closed_never_public"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.title}".strip()

"""Bodies (会議体) and their versioned guidelines (設置要綱) with articles."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.validation import end_before_start, local_date

from .organisation import OrgUnit


class Body(models.Model):
    """会議体: a committee, council, internal meeting or working group."""

    class Kind(models.TextChoices):
        GUIDELINE_COMMITTEE = "guideline_committee", _("Committee set up by guidelines (要綱設置)")
        ATTACHED_ORGAN = "attached_organ", _("Attached organ (附属機関)")
        INTERNAL = "internal", _("Internal meeting (庁内会議)")
        WORKING_GROUP = "working_group", _("Working group")

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60)
    slug = models.SlugField(_("address name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    has_external_members = models.BooleanField(_("external experts sit on it"), default=False)
    secretariat = models.ForeignKey(
        OrgUnit, verbose_name=_("secretariat (庶務)"), on_delete=models.PROTECT, related_name="bodies"
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    seats = models.PositiveSmallIntegerField(
        _("number of seats"), null=True, blank=True, help_text=_("Members the body should have; empty if not fixed.")
    )
    is_public = models.BooleanField(_("shown on the public site"), default=True)
    minutes_publish_days = models.PositiveSmallIntegerField(
        _("publish the minutes within (days)"),
        default=30,
        help_text=_("Days after a meeting by which its minutes are published; later they show as overdue."),
    )
    convener_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account of the convening official"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="convened_bodies",
        help_text=_("e.g. 企画政策部長: approves the 次第 while no chair can (before the chair is elected)."),
    )
    display_order = models.PositiveSmallIntegerField(_("display order"), default=100)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True)
                | Q(established_on__isnull=True)
                | Q(dissolved_on__gte=models.F("established_on")),
                violation_error_message=_("The dissolution date is before the establishment date."),
                name="body_established_before_dissolved",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        """The body an audit entry about it belongs to: itself (core.audit.audit_scope)."""
        return self.pk, None

    def clean(self) -> None:
        if errors := end_before_start(
            start=self.established_on, end=self.dissolved_on, field="dissolved_on",
            message=_("The dissolution date (%(end)s) is before the establishment date (%(start)s)."),
        ):
            raise ValidationError(errors)
        ancestor, seen = self.parent, {self.pk}
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError({"parent": _("A body cannot be its own parent.")})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class Guideline(models.Model):
    """設置要綱: one version of a body's guidelines, with the rules the app applies."""

    class TermRule(models.TextChoices):
        FIXED_DATE = "fixed_date", _("Ends on a fixed date")
        YEARS = "years", _("N years from appointment")
        YEARS_TO_FISCAL_YEAR_END = "years_fy_end", _("N years, to the end of that fiscal year")
        NONE = "none", _("No fixed term")

    class Selection(models.TextChoices):
        MUTUAL_ELECTION = "mutual_election", _("Elected by the members (互選)")
        NOMINATED_BY_CHAIR = "nominated_by_chair", _("Nominated by the chair (指名)")
        APPOINTED = "appointed", _("Appointed by the convening official")
        EX_OFFICIO = "ex_officio", _("Ex officio (充て職)")
        NONE = "none", _("No such post")

    class Quorum(models.TextChoices):
        NONE = "none", _("No quorum rule")
        HALF_OR_MORE = "half_or_more", _("Half or more of the members (半数以上)")
        MAJORITY = "majority", _("More than half of the members (過半数)")

    class Voting(models.TextChoices):
        NONE = "none", _("No voting rule")
        MAJORITY_CHAIR_DECIDES_TIE = (
            "majority_chair_tie",
            _("Majority of those present; the chair decides a tie (可否同数のときは議長の決するところ)"),
        )

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="guidelines")
    title = models.CharField(_("title"), max_length=250)
    effective_on = models.DateField(_("in force from"))
    amendment_note = models.CharField(_("what changed"), max_length=250, blank=True)

    term_rule = models.CharField(_("term of office"), max_length=16, choices=TermRule.choices)
    term_fixed_end = models.DateField(_("term ends on"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("term in years"), null=True, blank=True)
    successor_serves_remainder = models.BooleanField(
        _("a successor serves the predecessor's remaining term"), default=True
    )
    reappointment_allowed = models.BooleanField(_("reappointment allowed"), default=True)
    max_consecutive_terms = models.PositiveSmallIntegerField(
        _("at most this many consecutive terms"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    chair_title = models.CharField(_("title of the chair"), max_length=20, default="委員長")
    chair_selection = models.CharField(
        _("how the chair is chosen"), max_length=24, choices=Selection.choices, default=Selection.MUTUAL_ELECTION
    )
    vice_chair_title = models.CharField(_("title of the vice chair"), max_length=20, default="副委員長")
    vice_chair_selection = models.CharField(
        _("how the vice chair is chosen"),
        max_length=24,
        choices=Selection.choices,
        default=Selection.NOMINATED_BY_CHAIR,
    )
    vice_chair_acts_for_chair = models.BooleanField(
        _("the vice chair acts when the chair is absent or the post is vacant"), default=True
    )
    convener_title = models.CharField(_("convening official"), max_length=100, blank=True)
    appointing_authority = models.CharField(_("appointed by"), max_length=100, blank=True)
    quorum_rule = models.CharField(_("quorum"), max_length=16, choices=Quorum.choices, default=Quorum.NONE)
    voting_rule = models.CharField(_("voting"), max_length=24, choices=Voting.choices, default=Voting.NONE)
    online_counts_for_quorum = models.BooleanField(_("online attendance counts toward the quorum"), default=True)
    meetings_public_by_default = models.BooleanField(_("meetings are public unless decided otherwise"), default=True)
    closure_basis = models.CharField(
        _("who may close a meeting"), max_length=200, blank=True, help_text=_("e.g. 委員の承諾 (第4-4)")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guidelines (設置要綱)")
        verbose_name_plural = _("guidelines (設置要綱)")
        ordering = ["body", "-effective_on"]
        get_latest_by = "effective_on"
        constraints = [
            models.UniqueConstraint(
                fields=["body", "effective_on"],
                violation_error_message=_("This body already has a version of its guidelines in force from this date."),
                name="guideline_one_version_per_day",
            ),
            models.CheckConstraint(
                condition=~Q(term_rule="fixed_date") | Q(term_fixed_end__isnull=False),
                violation_error_message=_("A term that ends on a fixed date needs that date."),
                name="guideline_fixed_date_needs_date",
            ),
            models.CheckConstraint(
                condition=~Q(term_rule__in=["years", "years_fy_end"]) | Q(term_years__gte=1),
                violation_error_message=_("A term counted in years needs the number of years (1 or more)."),
                name="guideline_years_needs_years",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({local_date(self.effective_on)})"

    def clean(self) -> None:
        if self.term_rule == self.TermRule.FIXED_DATE and not self.term_fixed_end:
            raise ValidationError({"term_fixed_end": _("Give the date on which terms end.")})
        if self.term_rule in (self.TermRule.YEARS, self.TermRule.YEARS_TO_FISCAL_YEAR_END) and not self.term_years:
            raise ValidationError({"term_years": _("Give the length of a term in years.")})

    @property
    def purpose(self) -> str:
        """The text of 第1 (設置), which states the body's purpose."""
        for article in self.articles.all():
            if article.kind == GuidelineArticle.Kind.ARTICLE:
                return article.text
        return ""


class GuidelineArticle(models.Model):
    """One article of a 設置要綱 version (第1 設置 … 第7 その他, 附則, 別表)."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        SUPPLEMENTARY = "supplementary", _("Supplementary provisions (附則)")
        APPENDED_TABLE = "table", _("Appended table (別表)")

    guideline = models.ForeignKey(
        Guideline, verbose_name=_("guidelines"), on_delete=models.CASCADE, related_name="articles"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    number = models.CharField(_("number"), max_length=20, blank=True, help_text=_("e.g. 第1"))
    heading = models.CharField(_("heading"), max_length=100, blank=True, help_text=_("e.g. 設置"))
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["guideline", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["guideline", "position"],
                violation_error_message=_("These guidelines already have an article at this position."),
                name="article_unique_position",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.heading}".strip() or self.get_kind_display()

    @property
    def paragraphs(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]



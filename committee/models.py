"""The committee roster: organisation units, bodies, 設置要綱, people, 委嘱 and officers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import kana


class OrgUnit(models.Model):
    """部・課: a unit of the prefecture's organisation. Its name and place change over time (OrgUnitName)."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Local government")
        DEPARTMENT = "department", _("Department (部)")
        DIVISION = "division", _("Division (課)")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DIVISION)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_on(timezone.localdate()) or self.code

    def _record_on(self, day: dt.date) -> OrgUnitName | None:
        # Uses prefetched names when present, so lists do not query per row.
        for record in self.names.all():
            if record.valid_from <= day and (record.valid_until is None or day <= record.valid_until):
                return record
        return None

    def name_on(self, day: dt.date) -> str:
        """The unit's own name on `day` (DX推進課)."""
        record = self._record_on(day)
        return record.name if record else ""

    def full_name_on(self, day: dt.date, *, include_government: bool = True) -> str:
        """The name with its parents as they stood on `day` (青森県企画政策部DX推進課)."""
        parts: list[str] = []
        unit: OrgUnit | None = self
        seen: set[int] = set()
        while unit is not None and unit.pk not in seen:
            seen.add(unit.pk)
            record = unit._record_on(day)
            if record is None:
                break
            if unit.kind != OrgUnit.Kind.GOVERNMENT or include_government:
                parts.append(record.name)
            unit = record.parent
        return "".join(reversed(parts))


class OrgUnitName(models.Model):
    """The name and parent a unit had between two dates (DX推進課 under 企画政策部 until 2024-03-31)."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="names")
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        OrgUnit,
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_names",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit name")
        verbose_name_plural = _("unit names")
        ordering = ["unit", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="orgunitname_valid_range",
            ),
            models.UniqueConstraint(fields=["unit", "valid_from"], name="orgunitname_unique_start"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent_id and self.parent_id == self.unit_id:
            raise ValidationError({"parent": _("A unit cannot be part of itself.")})


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
                name="body_established_before_dissolved",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
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
            models.UniqueConstraint(fields=["body", "effective_on"], name="guideline_one_version_per_day"),
            models.CheckConstraint(
                condition=~Q(term_rule="fixed_date") | Q(term_fixed_end__isnull=False),
                name="guideline_fixed_date_needs_date",
            ),
            models.CheckConstraint(
                condition=~Q(term_rule__in=["years", "years_fy_end"]) | Q(term_years__gte=1),
                name="guideline_years_needs_years",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.effective_on:%Y-%m-%d})"

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
        constraints = [models.UniqueConstraint(fields=["guideline", "position"], name="article_unique_position")]

    def __str__(self) -> str:
        return f"{self.number} {self.heading}".strip() or self.get_kind_display()

    @property
    def paragraphs(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]


class Person(models.Model):
    """A person who sits on, observes or serves a body."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other / not stated")

    family_name = models.CharField(_("family name"), max_length=60)
    given_name = models.CharField(_("given name"), max_length=60, blank=True)
    family_name_kana = models.CharField(_("family name reading"), max_length=80)
    given_name_kana = models.CharField(_("given name reading"), max_length=80, blank=True)
    sort_key = models.CharField(_("sort key"), max_length=1700, editable=False, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    note = models.TextField(_("note (secretariat only)"), blank=True)

    history = HistoricalRecords(excluded_fields=["sort_key"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["sort_key", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="person_birth_year_range",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.family_name_kana = kana.to_hiragana(self.family_name_kana)
        self.given_name_kana = kana.to_hiragana(self.given_name_kana)
        self.sort_key = kana.sort_key(self.family_name_kana, self.given_name_kana)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        for field, required in (("family_name_kana", True), ("given_name_kana", False)):
            try:
                setattr(self, field, kana.normalise_reading(getattr(self, field), required=required))
            except ValidationError as exc:
                errors[field] = exc
        current_year = timezone.localdate().year
        if self.birth_year and not 1900 <= self.birth_year <= current_year:
            errors["birth_year"] = ValidationError(_("Enter a year between 1900 and this year."))
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        """氏名 as shown in rosters (敬称略): family and given name with a space."""
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()


class AppointmentQuerySet(models.QuerySet):
    def active_on(self, day: dt.date) -> AppointmentQuerySet:
        """Appointments in force on `day` (started, and neither expired nor ended early)."""
        return self.filter(term_start__lte=day).filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=day)
            | Q(ended_on__gte=day)
        )

    def not_ended_before(self, day: dt.date) -> AppointmentQuerySet:
        """Appointments whose last day in office is `day` or later (or not fixed)."""
        return self.filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=day)
            | Q(ended_on__gte=day)
        )

    def overlapping(self, start: dt.date, end: dt.date | None) -> AppointmentQuerySet:
        """Appointments whose effective period shares at least one day with [start, end]."""
        qs = self.filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=start)
            | Q(ended_on__gte=start)
        )
        return qs if end is None else qs.filter(term_start__lte=end)

    def members(self) -> AppointmentQuerySet:
        return self.filter(category__in=Appointment.MEMBER_CATEGORIES)


class Appointment(models.Model):
    """委嘱: one person's appointment to one body for one term."""

    class Category(models.TextChoices):
        MEMBER = "member", _("Member (委員)")
        EXPERT = "expert", _("Expert (有識者)")
        INTERNAL = "internal", _("Internal member (庁内構成員)")
        OBSERVER = "observer", _("Observer (オブザーバー)")
        SECRETARIAT = "secretariat", _("Secretariat (事務局)")

    class EndReason(models.TextChoices):
        EXPIRED = "expired", _("Term expired (任期満了)")
        RESIGNED = "resigned", _("Resigned (辞任)")
        DISMISSED = "dismissed", _("Dismissed (解嘱)")
        DIED = "died", _("Died (死亡)")

    MEMBER_CATEGORIES = (Category.MEMBER, Category.EXPERT, Category.INTERNAL)

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.PROTECT, related_name="appointments")
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    post_title = models.CharField(
        _("post"),
        max_length=200,
        blank=True,
        help_text=_("For a seat held by a post rather than a named person, e.g. 企画政策部次長."),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.MEMBER)
    role_label = models.CharField(_("role"), max_length=40, blank=True, help_text=_("e.g. 座長"))
    guideline = models.ForeignKey(
        Guideline,
        verbose_name=_("guidelines applied"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    appointed_on = models.DateField(_("appointed on"))
    appointed_by = models.CharField(_("appointed by"), max_length=100, blank=True)
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"), null=True, blank=True)
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("successor to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successor",
    )
    ended_on = models.DateField(_("ended early on"), null=True, blank=True)
    end_reason = models.CharField(_("how it ended"), max_length=16, choices=EndReason.choices, blank=True)
    display_order = models.PositiveSmallIntegerField(
        _("order among posts"), default=100, help_text=_("Orders seats held by posts; people are listed 五十音順.")
    )
    note = models.TextField(_("note (secretariat only)"), blank=True)

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment (委嘱)")
        verbose_name_plural = _("appointments (委嘱)")
        ordering = ["body", "person__sort_key", "display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=models.F("term_start")),
                name="appointment_term_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("term_start")),
                name="appointment_ended_after_start",
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | ~Q(post_title=""),
                name="appointment_person_or_post",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(end_reason=""))
                | (Q(ended_on__isnull=False) & ~Q(end_reason="")),
                name="appointment_end_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["body", "term_start", "term_end"])]

    def __str__(self) -> str:
        return f"{self.holder_name} / {self.body.short_name}"

    @property
    def holder_name(self) -> str:
        return self.person.full_name if self.person_id else self.post_title

    @property
    def effective_end(self) -> dt.date | None:
        """The last day in office: the early end if there was one, else the end of the term."""
        return self.ended_on or self.term_end

    def is_active_on(self, day: dt.date) -> bool:
        end = self.effective_end
        return self.term_start <= day and (end is None or day <= end)

    @property
    def is_member(self) -> bool:
        return self.category in self.MEMBER_CATEGORIES

    def affiliation_on(self, day: dt.date) -> str:
        """所属・役職 as it stood on `day`; before the first record, the first one."""
        records = sorted(self.affiliations.all(), key=lambda a: a.valid_from)
        current = ""
        for record in records:
            if record.valid_from <= day or not current:
                current = record.text
        return current

    def clean(self) -> None:
        if not self.person_id and not self.post_title:
            raise ValidationError(_("Choose a person or give the post that holds the seat."))
        if self.ended_on and not self.end_reason:
            raise ValidationError({"end_reason": _("Say how the appointment ended.")})
        if self.end_reason and not self.ended_on:
            raise ValidationError({"ended_on": _("Give the date the appointment ended.")})


class Affiliation(models.Model):
    """所属・役職 of an appointee from a date on (it can change mid-term)."""

    appointment = models.ForeignKey(
        Appointment, verbose_name=_("appointment"), on_delete=models.CASCADE, related_name="affiliations"
    )
    text = models.CharField(_("affiliation and position"), max_length=250)
    valid_from = models.DateField(_("from"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        ordering = ["appointment", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["appointment", "valid_from"], name="affiliation_one_per_day")]

    def __str__(self) -> str:
        return self.text


class OfficerTerm(models.Model):
    """委員長 or 副委員長: who held the post from when to when, and how they were chosen."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair (委員長)")
        VICE_CHAIR = "vice_chair", _("Vice chair (副委員長)")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="officer_terms")
    role = models.CharField(_("post"), max_length=16, choices=Role.choices)
    appointment = models.ForeignKey(
        Appointment, verbose_name=_("held by"), on_delete=models.PROTECT, related_name="officer_terms"
    )
    selected_by = models.CharField(_("chosen by"), max_length=24, choices=Guideline.Selection.choices)
    selected_on = models.DateField(_("chosen on"))
    start_on = models.DateField(_("from"))
    end_on = models.DateField(_("until"), null=True, blank=True)
    meeting_label = models.CharField(
        _("at the meeting"), max_length=100, blank=True, help_text=_("e.g. 第1回 (the meeting that chose)")
    )
    note = models.CharField(_("note"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("officer")
        verbose_name_plural = _("officers")
        ordering = ["body", "role", "-start_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                name="officerterm_start_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.appointment.holder_name}"

    def covers(self, day: dt.date) -> bool:
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)


class StaffAssignment(models.Model):
    """A secretariat account's place in an organisation unit; it manages the bodies that unit serves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="staff_assignments"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="staff")
    start_on = models.DateField(_("from"))
    end_on = models.DateField(_("until"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("secretariat staff")
        verbose_name_plural = _("secretariat staff")
        ordering = ["unit", "user"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                name="staffassignment_start_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"

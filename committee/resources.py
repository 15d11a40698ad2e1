"""Roster import and export (CSV and Excel) with django-import-export.

Each imported row becomes one 委嘱 through `appointment_create`, so the guidelines' term rules and
the overlap check apply exactly as in the admin. The whole file is one transaction: one bad row
imports nothing, and every bad row is reported with its number and the problem.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources

from core import kana, wareki

from . import services
from .models import Appointment, Body, Person

COLUMNS = {
    "family_name": "姓",
    "given_name": "名",
    "family_name_kana": "姓よみ",
    "given_name_kana": "名よみ",
    "affiliation": "所属・役職",
    "category": "区分",
    "appointed_on": "委嘱日",
    "term_start": "任期開始",
    "term_end": "任期終了",
    "gender": "性別",
    "birth_year": "生年",
    "email": "メールアドレス",
}
REQUIRED = ("family_name", "family_name_kana", "appointed_on")
CATEGORY_WORDS = {
    **{label: value for value, label in (("member", "委員"), ("expert", "有識者"), ("internal", "庁内構成員"),
                                          ("observer", "オブザーバー"), ("secretariat", "事務局"))},
    **{value: value for value in Appointment.Category.values},
}
GENDER_WORDS = {"女": "female", "女性": "female", "男": "male", "男性": "male", "その他": "other", "": ""}
GENDER_WORDS.update({value: value for value in Person.Gender.values})
GENDER_LABELS = {"female": "女性", "male": "男性", "other": "その他", "": ""}
CATEGORY_LABELS = {value: word for word, value in CATEGORY_WORDS.items() if not word.isascii()}
MAX_ROWS = 2000


def parse_date(value) -> dt.date | None:
    """Accept 2023-05-10, 2023/5/10, 令和5年5月10日 (元年 too) and Excel dates."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = kana.to_hiragana(str(value)).strip()  # NFKC turns full-width digits into ASCII
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(令和|平成|昭和|大正|明治)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日", text)
    if match:
        era, era_year, month, day = match.groups()
        first_year = next(first for _start, name, first in wareki.ERAS if name == era)
        return dt.date(first_year + (1 if era_year == "元" else int(era_year)) - 1, int(month), int(day))
    raise ValueError(text)


class RosterResource(resources.ModelResource):
    """One row a 委嘱 of the body given to the resource."""

    family_name = fields.Field(attribute="person__family_name", column_name=COLUMNS["family_name"])
    given_name = fields.Field(attribute="person__given_name", column_name=COLUMNS["given_name"])
    family_name_kana = fields.Field(attribute="person__family_name_kana", column_name=COLUMNS["family_name_kana"])
    given_name_kana = fields.Field(attribute="person__given_name_kana", column_name=COLUMNS["given_name_kana"])
    affiliation = fields.Field(column_name=COLUMNS["affiliation"])
    category = fields.Field(column_name=COLUMNS["category"])
    appointed_on = fields.Field(attribute="appointed_on", column_name=COLUMNS["appointed_on"])
    term_start = fields.Field(attribute="term_start", column_name=COLUMNS["term_start"])
    term_end = fields.Field(attribute="term_end", column_name=COLUMNS["term_end"])
    gender = fields.Field(column_name=COLUMNS["gender"])
    birth_year = fields.Field(attribute="person__birth_year", column_name=COLUMNS["birth_year"])
    email = fields.Field(attribute="person__email", column_name=COLUMNS["email"])

    class Meta:
        model = Appointment
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)
        import_id_fields: tuple[str, ...] = ()
        clean_model_instances = False
        skip_diff = True
        use_transactions = True

    def __init__(self, *, body: Body, actor=None, day: dt.date | None = None):
        super().__init__()
        self.body, self.actor, self.day = body, actor, day or dt.date.today()

    # --- export ---------------------------------------------------------------------------

    def get_export_queryset(self, request=None, **kwargs):
        return (
            Appointment.objects.filter(body=self.body, person__isnull=False)
            .active_on(self.day)
            .select_related("person")
            .prefetch_related("affiliations")
            .order_by("person__sort_key", "id")
        )

    def dehydrate_affiliation(self, appointment: Appointment) -> str:
        return appointment.affiliation_on(self.day)

    def dehydrate_category(self, appointment: Appointment) -> str:
        return CATEGORY_LABELS.get(appointment.category, appointment.category)

    def dehydrate_gender(self, appointment: Appointment) -> str:
        return GENDER_LABELS.get(appointment.person.gender, "")

    # --- import ---------------------------------------------------------------------------

    def get_instance(self, instance_loader, row):
        return None  # every row is a new 委嘱; existing people are matched in do_instance_save

    def import_instance(self, instance: Appointment, row, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        values: dict[str, object] = {}

        def cell(key: str) -> str:
            raw = row.get(COLUMNS[key])
            return "" if raw is None else str(raw).strip()

        for key in REQUIRED:
            if not cell(key):
                errors.setdefault(COLUMNS[key], []).append(_("This column is required."))
        for key in ("family_name_kana", "given_name_kana"):
            try:
                values[key] = kana.normalise_reading(cell(key), required=key == "family_name_kana")
            except ValidationError as exc:
                errors.setdefault(COLUMNS[key], []).extend(exc.messages)
        for key in ("appointed_on", "term_start"):
            try:
                values[key] = parse_date(row.get(COLUMNS[key]))
            except (ValueError, TypeError):
                errors.setdefault(COLUMNS[key], []).append(
                    _("“%(value)s” is not a date (write 2023-05-10 or 令和5年5月10日).") % {"value": cell(key)}
                )
        category = cell("category") or "委員"
        if category not in CATEGORY_WORDS:
            errors.setdefault(COLUMNS["category"], []).append(
                _("Unknown category “%(value)s”; use 委員, 有識者, 庁内構成員, オブザーバー or 事務局.") % {"value": category}
            )
        gender = cell("gender")
        if gender not in GENDER_WORDS:
            errors.setdefault(COLUMNS["gender"], []).append(
                _("Unknown gender “%(value)s”; use 女性, 男性, その他 or leave it empty.") % {"value": gender}
            )
        birth_year = cell("birth_year")
        if birth_year and not (birth_year.isdigit() and 1900 <= int(birth_year) <= dt.date.today().year):
            errors.setdefault(COLUMNS["birth_year"], []).append(_("Enter a year between 1900 and this year."))
        email = cell("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.setdefault(COLUMNS["email"], []).append(_("“%(value)s” is not an email address.") % {"value": email})
        if errors:
            raise ValidationError(errors)
        instance._import = {
            "family_name": cell("family_name"),
            "given_name": cell("given_name"),
            "family_name_kana": values["family_name_kana"],
            "given_name_kana": values["given_name_kana"],
            "affiliation": cell("affiliation"),
            "category": CATEGORY_WORDS[category],
            "appointed_on": values["appointed_on"],
            "term_start": values["term_start"],
            "gender": GENDER_WORDS[gender],
            "birth_year": int(birth_year) if birth_year else None,
            "email": email,
        }

    def do_instance_save(self, instance: Appointment, is_create: bool) -> None:
        data = instance._import
        person = (
            Person.objects.filter(
                family_name=data["family_name"],
                given_name=data["given_name"],
                family_name_kana=data["family_name_kana"],
            )
            .order_by("id")
            .first()
        )
        if person is None:
            person = Person(
                family_name=data["family_name"],
                given_name=data["given_name"],
                family_name_kana=data["family_name_kana"],
                given_name_kana=data["given_name_kana"],
                gender=data["gender"],
                birth_year=data["birth_year"],
                email=data["email"],
            )
            person.full_clean()
            person.save()
        try:
            created = services.appointment_create(
                actor=self.actor,
                body=self.body,
                person=person,
                category=data["category"],
                appointed_on=data["appointed_on"],
                term_start=data["term_start"],
                affiliation=data["affiliation"],
            )
        except services.RosterError as exc:
            raise ValidationError({COLUMNS["family_name"]: exc.messages}) from None
        instance.pk = created.pk
        instance.person = person


@dataclass
class ImportOutcome:
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterImportError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def read_dataset(data: bytes, filename: str) -> tablib.Dataset:
    """A CSV (UTF-8 with or without BOM, or Shift_JIS as Excel writes it) or an .xlsx file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            return tablib.Dataset().load(io.BytesIO(data), format="xlsx")
        except Exception:
            raise RosterImportError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            try:
                return tablib.Dataset().load(text, format="csv")
            except Exception:
                break
        raise RosterImportError(_("The file could not be read as CSV (UTF-8 or Shift_JIS)."))
    raise RosterImportError(_("Choose a CSV (.csv) or Excel (.xlsx) file."))


def roster_import(*, actor, body: Body, data: bytes, filename: str) -> ImportOutcome:
    """Import a roster file into `body`: all rows or none. Errors name the row (as numbered in the file)."""
    dataset = read_dataset(data, filename)
    if not dataset.headers or COLUMNS["family_name"] not in dataset.headers:
        raise RosterImportError(
            _("The first row must hold the column names (姓, 名, 姓よみ, 名よみ, 所属・役職, 区分, 委嘱日 …).")
        )
    if len(dataset) == 0:
        raise RosterImportError(_("The file has no rows to import."))
    if len(dataset) > MAX_ROWS:
        raise RosterImportError(_("A file may hold at most %(max)d rows.") % {"max": MAX_ROWS})
    resource = RosterResource(body=body, actor=actor)
    outcome = ImportOutcome()
    with transaction.atomic():
        result = resource.import_data(
            dataset, dry_run=False, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True
        )
        for row_result in result.invalid_rows:
            for column, messages in row_result.error_dict.items():
                for message in messages:
                    outcome.errors.append((row_result.number + 1, f"{column}: {message}"))
        for number, row_errors in result.row_errors():
            for error in row_errors:
                outcome.errors.append((number + 1, str(error.error)))
        if outcome.errors:
            transaction.set_rollback(True)
            outcome.errors.sort()
            return outcome
        outcome.created = result.totals.get("new", 0)
    return outcome


IMPORT_HELP = gettext_lazy(
    "Columns: 姓, 名, 姓よみ, 名よみ, 所属・役職, 区分 (委員 / 有識者 / 庁内構成員 / オブザーバー / 事務局), "
    "委嘱日, 任期開始 (empty: the 委嘱日), 性別, 生年, メールアドレス. The term end follows the guidelines."
)

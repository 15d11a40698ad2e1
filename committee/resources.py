"""Roster import and export (CSV and Excel) with django-import-export.

Each imported row becomes one 委嘱 through `appointment_create`, so the guidelines' term rules and
the overlap check apply exactly as in the admin. The whole file is one transaction: one bad row
imports nothing, and every bad row is reported with its number and the problem.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources

from core import kana, wareki
from core.types import AnyUser
from core.validation import check_archive

from . import selectors, services
from .models import Affiliation, Appointment, Body, Person

logger = logging.getLogger(__name__)

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
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """Prefix text a spreadsheet would treat as a formula with an apostrophe (OWASP CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def restore_formula(value: str) -> str:
    """Undo neutralise_formula on import, so a round trip keeps the text as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _limit(max_length: int | None) -> int:
    if max_length is None:  # every field listed below is a CharField with a max_length
        raise ValueError("A column checked for its length needs a field with a max_length.")
    return max_length


MAX_LENGTHS = {
    "family_name": _limit(Person._meta.get_field("family_name").max_length),
    "given_name": _limit(Person._meta.get_field("given_name").max_length),
    "family_name_kana": _limit(Person._meta.get_field("family_name_kana").max_length),
    "given_name_kana": _limit(Person._meta.get_field("given_name_kana").max_length),
    "affiliation": _limit(Affiliation._meta.get_field("text").max_length),
    "email": _limit(Person._meta.get_field("email").max_length),
}


def _blank(values) -> bool:
    return all(value is None or not str(value).strip() for value in values)


def parse_date(value) -> dt.date | None:
    """Accept 2023-05-10, 2023/5/10, 令和5年5月10日 (元年 too) and Excel dates."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = re.sub(r"\s", "", kana.to_hiragana(str(value)))  # NFKC turns full-width digits into ASCII
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(令和|平成|昭和|大正|明治)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日", text)
    if match:
        era, era_year, era_month, era_day = match.groups()
        index = next(i for i, (_start, name, _first) in enumerate(wareki.ERAS) if name == era)
        start, _name, first_year = wareki.ERAS[index]
        date = dt.date(first_year + (1 if era_year == "元" else int(era_year)) - 1, int(era_month), int(era_day))
        # 令和0年 or 令和元年4月30日 name no real day: the era had not begun (or had already ended).
        if date < start or (index > 0 and date >= wareki.ERAS[index - 1][0]):
            raise ValueError(text)
        return date
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

    def __init__(self, *, body: Body, actor: AnyUser | None = None, day: dt.date | None = None):
        super().__init__()
        self.body, self.actor, self.day = body, actor, day or timezone.localdate()
        # Each row's checked values, from import_instance to do_instance_save, by id() of the row's
        # instance (an unsaved model instance is unhashable).
        self._checked: dict[int, dict[str, Any]] = {}

    # --- export ---------------------------------------------------------------------------

    def get_queryset(self):
        """The named people of this body in office on the day. `export()` reads this, not get_export_queryset."""
        return (
            Appointment.objects.filter(body=self.body, person__isnull=False)
            .active_on(self.day)
            .select_related("person")
            .prefetch_related("affiliations")
            .order_by("person__sort_key", "id")
        )

    def get_export_queryset(self, request=None, **kwargs):
        return self.get_queryset()

    def iter_queryset(self, queryset):
        # The library pages through a prefetching queryset 100 rows at a time (three queries a page);
        # a body's roster is a few hundred rows at most, read in one query and one prefetch.
        yield from queryset

    def export(self, *args, **kwargs):
        """The dataset, with text that a spreadsheet would run as a formula made inert (CSV/formula injection)."""
        dataset = super().export(*args, **kwargs)
        for index, row in enumerate(dataset):
            if any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in row):
                dataset[index] = tuple(neutralise_formula(v) for v in row)
        return dataset

    def dehydrate_affiliation(self, appointment: Appointment) -> str:
        return appointment.affiliation_on(self.day)

    def dehydrate_category(self, appointment: Appointment) -> str:
        return CATEGORY_LABELS.get(appointment.category, appointment.category)

    def dehydrate_gender(self, appointment: Appointment) -> str:
        return GENDER_LABELS.get(appointment.person.gender, "") if appointment.person is not None else ""

    # --- import ---------------------------------------------------------------------------

    @staticmethod
    def is_blank(row) -> bool:
        """A row with no value in any cell (Excel keeps formatted empty rows; CSV has empty lines)."""
        return _blank(row.values())

    def get_instance(self, instance_loader, row):
        return None  # every row is a new 委嘱; existing people are matched in do_instance_save

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return self.is_blank(row)  # skipped, so the numbers of the rows after it stay as in the file

    def after_import(self, dataset, result, **kwargs):
        # ModelResource resets the table's id sequence here (for imports that carry ids). Ours never do,
        # and on PostgreSQL setval() outlives a rollback and can hand out ids that a concurrent,
        # not yet committed transaction already holds.
        return None

    def import_instance(self, instance: Appointment, row, **kwargs) -> None:
        if self.is_blank(row):
            return
        reader = _RowReader(row)
        reader.check()
        if reader.errors:
            raise ValidationError(reader.errors)
        self._checked[id(instance)] = reader.data()

    def _person_for(self, data: dict) -> Person:
        """The person the row names: one the importer already manages with that name and reading, or a new one.

        Only people the actor may see are matched, so a namesake on another secretariat's body is
        never linked to this body (which would open that person's contact data to this secretariat).
        """
        candidates = Person.objects.filter(
            family_name=data["family_name"], given_name=data["given_name"], family_name_kana=data["family_name_kana"]
        )
        if self.actor is not None and self.actor.is_authenticated:
            candidates = candidates.filter(pk__in=selectors.people_managed_by(self.actor).values("pk"))
        person = candidates.order_by("id").first()
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
        return person

    # The stubs omit `is_create`, which import-export 4.4 passes (Resource.save_instance).
    def do_instance_save(self, instance: Appointment, is_create: bool) -> None:  # type: ignore[override]
        data = self._checked.pop(id(instance))
        try:
            # A savepoint per row: on PostgreSQL a database error would otherwise abort the whole
            # transaction, and the rows after it could no longer be checked and reported.
            with transaction.atomic():
                person = self._person_for(data)
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
        except ValidationError as exc:
            raise ValidationError(_by_column(exc)) from None
        except DatabaseError as exc:
            # The database's message can quote the row's personal data: log the kind of error only.
            logger.warning("Roster import into body %s: a row failed in the database (%s).", self.body.pk,
                           type(exc).__name__)
            raise ValidationError(_("The database refused this row; check its values against the template.")) from None
        instance.pk = created.pk
        instance.person = person


def _by_column(exc: ValidationError) -> dict[str, list[str]] | list[str]:
    """Model validation errors keyed by the file's column names instead of model field names."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    return {COLUMNS.get(name, name): messages for name, messages in exc.message_dict.items()}


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


def _normalise_header(value) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def _read_csv(text: str) -> tablib.Dataset:
    # Read here rather than by tablib, which drops empty lines and so shifts the numbers of later rows.
    records = list(csv.reader(io.StringIO(text, newline="")))
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()  # trailing empty lines
    if not records:
        return tablib.Dataset()
    headers, width = records[0], len(records[0])
    dataset = tablib.Dataset(headers=headers)
    for number, record in enumerate(records[1:], 2):
        if len(record) > width:
            if any(cell.strip() for cell in record[width:]):
                raise RosterImportError(
                    _("Row %(row)d has more cells than there are column names in row 1.") % {"row": number}
                )
            record = record[:width]
        dataset.append(record + [""] * (width - len(record)))
    return dataset


def _decode_csv(data: bytes) -> tablib.Dataset:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return _read_csv(text)
        except csv.Error:
            break
    raise RosterImportError(_("The file could not be read as CSV (UTF-8 or Shift_JIS)."))


def read_dataset(data: bytes, filename: str) -> tablib.Dataset:
    """A CSV (UTF-8 with or without BOM, or Shift_JIS as Excel writes it) or an .xlsx file.

    Column names are normalised (NFKC, spaces trimmed); empty rows are kept so that row numbers
    match the file.
    """
    name = filename.lower()
    if name.endswith(".xlsx"):
        unreadable = RosterImportError(_("The file could not be read as an Excel workbook (.xlsx)."))
        try:
            check_archive(io.BytesIO(data))  # a ZIP bomb is refused before openpyxl unpacks it
        except ValidationError as exc:
            raise (unreadable if exc.code == "archive" else RosterImportError(" ".join(exc.messages))) from None
        try:
            dataset = tablib.Dataset().load(io.BytesIO(data), format="xlsx")
        except Exception:
            raise unreadable from None
    elif name.endswith(".csv"):
        dataset = _decode_csv(data)
    else:
        raise RosterImportError(_("Choose a CSV (.csv) or Excel (.xlsx) file."))
    if dataset.headers:
        dataset.headers = [_normalise_header(header) for header in dataset.headers]
        while len(dataset) and _blank(dataset[-1]):
            dataset.rpop()  # Excel keeps formatted empty rows at the end of a sheet
    return dataset


def roster_import(*, actor, body: Body, data: bytes, filename: str) -> ImportOutcome:
    """Import a roster file into `body`: all rows or none. Errors name the row (as numbered in the file)."""
    dataset = read_dataset(data, filename)
    if not dataset.headers or COLUMNS["family_name"] not in dataset.headers:
        raise RosterImportError(
            _("The first row must hold the column names (姓, 名, 姓よみ, 名よみ, 所属・役職, 区分, 委嘱日 …).")
        )
    missing = [COLUMNS[key] for key in REQUIRED if COLUMNS[key] not in dataset.headers]
    if missing:
        raise RosterImportError(_("The file has no column %(names)s.") % {"names": ", ".join(missing)})
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
        # import-export numbers data rows from 1; the column names are row 1 of the file.
        for row_result in result.invalid_rows:
            for column, messages in row_result.error_dict.items():
                for message in messages:
                    text = message if column == NON_FIELD_ERRORS else f"{column}: {message}"
                    outcome.errors.append((row_result.number + 1, text))
        for number, row_errors in result.row_errors():
            for error in row_errors:
                logger.warning("Roster import into body %s: row %d failed (%s).", body.pk, number + 1,
                               type(error.error).__name__)
                outcome.errors.append((number + 1, _("This row could not be imported.")))
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


class _RowReader:
    """Reads one roster row: each cell checked, every problem collected per column (in Japanese)."""

    def __init__(self, row) -> None:
        self.row = row
        self.errors: dict[str, list[str]] = {}
        self.values: dict[str, object] = {}

    def cell(self, key: str) -> str:
        raw = self.row.get(COLUMNS[key])
        return "" if raw is None else restore_formula(str(raw).strip())

    def add(self, key: str, *messages: str) -> None:
        self.errors.setdefault(COLUMNS[key], []).extend(messages)

    def failed(self, key: str) -> bool:
        return COLUMNS[key] in self.errors

    def check(self) -> None:
        for key in REQUIRED:
            if not self.cell(key):
                self.add(key, _("This column is required."))
        self._readings()
        self._lengths()
        self._dates()
        self._choices()
        self._birth_year_and_email()

    def _readings(self) -> None:
        for key in ("family_name_kana", "given_name_kana"):
            if self.failed(key):
                continue
            try:
                self.values[key] = kana.normalise_reading(self.cell(key), required=key == "family_name_kana")
            except ValidationError as exc:
                self.add(key, *exc.messages)

    def _lengths(self) -> None:
        for key, limit in MAX_LENGTHS.items():
            text = str(self.values.get(key, self.cell(key)))
            if not self.failed(key) and len(text) > limit:
                message = _("Write at most %(limit)d characters (this has %(n)d).")
                self.add(key, message % {"limit": limit, "n": len(text)})

    def _dates(self) -> None:
        for key in ("appointed_on", "term_start"):
            if self.failed(key):
                continue
            try:
                self.values[key] = parse_date(self.row.get(COLUMNS[key]))
            except (ValueError, TypeError):
                message = _("“%(value)s” is not a date (write 2023-05-10 or 令和5年5月10日).")
                self.add(key, message % {"value": self.cell(key)})

    def _choices(self) -> None:
        if self.category not in CATEGORY_WORDS:
            message = _("Unknown category “%(value)s”; use 委員, 有識者, 庁内構成員, オブザーバー or 事務局.")
            self.add("category", message % {"value": self.category})
        if self.cell("gender") not in GENDER_WORDS:
            message = _("Unknown gender “%(value)s”; use 女性, 男性, その他 or leave it empty.")
            self.add("gender", message % {"value": self.cell("gender")})

    def _birth_year_and_email(self) -> None:
        birth_year = self.cell("birth_year")
        if birth_year and not (birth_year.isdigit() and 1900 <= int(birth_year) <= timezone.localdate().year):
            self.add("birth_year", _("Enter a year between 1900 and this year."))
        email = self.cell("email")
        if email and len(email) <= MAX_LENGTHS["email"]:
            try:
                validate_email(email)
            except ValidationError:
                self.add("email", _("“%(value)s” is not an email address.") % {"value": email})

    @property
    def category(self) -> str:
        return self.cell("category") or "委員"

    def data(self) -> dict:
        birth_year = self.cell("birth_year")
        return {
            "family_name": self.cell("family_name"),
            "given_name": self.cell("given_name"),
            "family_name_kana": self.values["family_name_kana"],
            "given_name_kana": self.values["given_name_kana"],
            "affiliation": self.cell("affiliation"),
            "category": CATEGORY_WORDS[self.category],
            "appointed_on": self.values["appointed_on"],
            "term_start": self.values["term_start"],
            "gender": GENDER_WORDS[self.cell("gender")],
            "birth_year": int(birth_year) if birth_year else None,
            "email": self.cell("email"),
        }

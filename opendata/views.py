"""The OParl 1.1 interface (Django REST Framework, read-only), Popolo JSON, the CSV datasets and the page
that lists them. Every view publishes what the public site shows and nothing else (opendata.selectors),
the same to everyone, so views never look at request.user."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from committee.models import Appointment, Body, Guideline
from committee.selectors import Officers
from core.csvsafe import formula_safe_writer
from core.exports import set_last_modified
from meetings.models import Meeting
from participation.models import ObservationSettings
from participation.services import observation_offered

from . import oparl, pagination, popolo, selectors, timestamps


class OParlRenderer(JSONRenderer):
    """UTF-8 JSON (DRF's default renderer without the browsable API: the interface is for machines)."""

    charset = "utf-8"


class OParlView(APIView):
    """Read-only, anonymous: no authentication is even attempted (the output is the same for everyone)."""

    renderer_classes = [OParlRenderer]
    authentication_classes: list = []
    permission_classes: list = []

    def respond(self, data: dict) -> Response:
        response = Response(data)
        modified = data.get("modified")
        if modified:
            response["Last-Modified"] = _http_date(modified)
        return response


def _http_date(iso: str) -> str:
    from django.utils.http import http_date

    return http_date(dt.datetime.fromisoformat(iso).timestamp())


def _filters(request: Request) -> dict[str, dt.datetime]:
    try:
        return pagination.parse_filters(request.query_params)
    except pagination.FilterError as exc:
        from rest_framework.exceptions import ParseError

        raise ParseError(_("%(name)s must be a date and time (ISO 8601), e.g. 2023-05-10T14:00:00+09:00.")
                         % {"name": exc.args[0]}) from None


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


class SystemView(OParlView):
    def get(self, request: Request) -> Response:
        return self.respond(oparl.system())


class BodyListView(OParlView):
    def get(self, request: Request) -> Response:
        body = oparl.body()
        page = pagination.Page(rows=[body], number=1, size=pagination.PAGE_SIZE, total=1)
        return Response(pagination.list_response(oparl.url("oparl_bodies"), page, [body], request.query_params))


class BodyView(OParlView):
    def get(self, request: Request, code: str) -> Response:
        if code != oparl.body_code():
            raise Http404
        return self.respond(oparl.body())


class BodyObjectListView(OParlView):
    """One of the Body's object lists, paginated, with created_since / modified_since … filters."""

    def get(self, request: Request, code: str, kind: str) -> Response:
        if code != oparl.body_code() or kind not in (*oparl.LISTINGS, "agendaItem"):
            raise Http404
        filters = _filters(request)
        base = oparl.url("oparl_body_list", code, kind)
        if kind == "agendaItem":
            return _python_list(request, base, oparl.agenda_item_objects(oparl.meetings()), filters)
        listing = oparl.LISTINGS[kind]
        rows = listing.rows()
        if not isinstance(rows, list):
            rows = pagination.filter_queryset(rows, filters)
        page = pagination.page_of(rows, request.query_params)
        return Response(pagination.list_response(base, page, listing.build(list(page.rows)), request.query_params))


def _python_list(request: Request, base: str, objects: list[dict], filters: dict[str, dt.datetime]) -> Response:
    objects = pagination.filter_objects(objects, filters)
    page = pagination.page_of(objects, request.query_params)
    return Response(pagination.list_response(base, page, list(page.rows), request.query_params))


class OrganizationMeetingsView(OParlView):
    def get(self, request: Request, pk: int) -> Response:
        if not selectors.organizations().filter(pk=pk).exists():
            raise Http404
        rows = pagination.filter_queryset(oparl.meetings().filter(body_id=pk), _filters(request))
        page = pagination.page_of(rows, request.query_params)
        base = oparl.url("oparl_organization_meetings", pk)
        return Response(pagination.list_response(base, page, oparl.meeting_objects(page.rows), request.query_params))


def _one(qs: QuerySet, build: Callable[[Any], dict | None]) -> dict:
    row = qs.first()
    if row is None:
        raise Http404
    found = build(row)
    if found is None:
        raise Http404
    return found


def _agenda_item(ident: str) -> dict:
    meeting_pk, _sep, order = ident.partition("-")
    meeting = oparl.meetings().filter(pk=_int(meeting_pk)).first()
    if meeting is None:
        raise Http404
    items = oparl.agenda_item_objects(oparl.meetings().filter(pk=meeting.pk))
    index = _int(order) - 1
    if not 0 <= index < len(items):
        raise Http404
    return items[index]


OBJECTS = {
    "organization": lambda pk: _one(oparl.organizations().filter(pk=pk), lambda r: oparl.organization_objects([r])[0]),
    "affiliation": lambda pk: _one(oparl.affiliations().filter(pk=pk), oparl.affiliation_object),
    "person": lambda pk: _one(oparl.people().filter(pk=pk), lambda r: oparl.person_objects([r])[0]),
    "membership": lambda pk: _one(oparl.memberships().filter(pk=pk), oparl.membership_object),
    "meeting": lambda pk: _one(oparl.meetings().filter(pk=pk), lambda r: oparl.meeting_objects([r])[0]),
    "location": lambda pk: _one(oparl.locations().filter(pk=pk), oparl.location_object),
    "invitation": lambda pk: _one(oparl.meetings().filter(pk=pk), oparl.invitation_object),
    "protocol": lambda pk: _one(oparl.meetings().filter(pk=pk), oparl.protocol_object),
    "paper": lambda pk: _one(oparl.papers().filter(pk=pk), oparl.paper_object),
    "consultation": lambda pk: _one(oparl.consultations().filter(pk=pk), oparl.consultation_object),
    "file": lambda pk: _one(oparl.files_with_text().filter(pk=pk), oparl.file_object),
}


class ObjectView(OParlView):
    def get(self, request: Request, kind: str, ident: str) -> Response:
        if kind == "agendaItem":
            return self.respond(_agenda_item(ident))
        if kind not in OBJECTS:
            raise Http404
        return self.respond(OBJECTS[kind](_int(ident)))


# --- Popolo ---------------------------------------------------------------------------------------


def _public_body(slug: str) -> Body:
    body = selectors.organizations().filter(slug=slug).first()
    if body is None:
        raise Http404
    return body


def popolo_view(request: HttpRequest, slug: str) -> HttpResponse:
    body = _public_body(slug)
    data = popolo.body_data(body)
    response = HttpResponse(JSONRenderer().render(data), content_type="application/json; charset=utf-8")
    # Events change with the meetings; persons and memberships with the roster.
    modified = [selectors.body_modified(body), _meetings_modified(body)]
    return set_last_modified(response, max((m for m in modified if m is not None), default=None))


# --- CSV --------------------------------------------------------------------------------------------

# イベント一覧 of デジタル庁's 自治体標準オープンデータセット (正式版; データ項目定義書A, sheet 12, file name
# [団体コード]_event.csv): its 79 データ項目 in their order, spelled as the published datasets' headers spell
# them (half-width parentheses but for 集合（受付）場所; dates YYYY-MM-DD, times hh:mm). The committee's own
# columns follow them. tests/opendata/test_exports.py writes the list out; the README names the sources.
EVENT_COLUMNS = (
    "全国地方公共団体コード", "法人番号", "ID", "地方公共団体名", "イベント名", "言語コード", "イベント通称",
    "サブタイトル", "イベント名_カナ", "イベント名_英語", "コンテンツURL", "状態", "キーワード", "タグ",
    "対象となる産業", "開催パターン", "開始日", "終了日", "開始時間", "終了時間", "開始日時特記事項", "所要時間",
    "掲載開始日", "掲載終了日", "概要", "説明", "サブイベント", "イベント種類", "料金(基本)", "料金(詳細)",
    "連絡先名称", "連絡先電話番号", "連絡先内線番号", "主催者", "共催団体", "関連組織", "対象者", "対象者備考",
    "場所名称", "集合（受付）場所", "所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県",
    "所在地_市区町村", "所在地_町字", "所在地_番地以下", "建物名等(方書)", "緯度", "経度", "アクセス方法",
    "駐車場情報", "駐車場料金", "駐輪場情報", "Web開催", "Web開催URL", "ツール・環境", "定員", "定員備考",
    "料金種別", "決済種別", "外国語対応", "外国語対応備考", "開催条件", "参加申込終了日", "参加申込終了時間",
    "参加申込方法", "申込開始日", "申込開始時刻", "申込URL", "URL", "授乳室", "おむつ替えコーナー", "飲食可否",
    "ベビーカー貸出", "ベビーカー利用", "画像", "画像_ライセンス", "備考",
)
MEETING_COLUMNS = ("会議体名", "回", "年度", "公開区分", "非公開の根拠", "次第URL", "議事録URL", "OParl", "審議結果")
ROSTER_COLUMNS = ("氏名", "読み", "所属", "役職", "任期")


# デジタル庁「行政データにおける機械可読性に関するルール」L1-14: in CSV one record is one line, so a
# line break inside a value (a 中止 reason, a secretariat's note on a result) is written as a space.
_LINE_BREAKS = re.compile(r"\s*[\r\n\v\f\x85\u2028\u2029]+\s*")


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


def _csv_response(rows: list[list[str]], filename: str, request: HttpRequest) -> HttpResponse:
    """UTF-8 CSV with a header row, CRLF line ends and one line per record; ?bom=1 adds the byte-order mark
    that Excel in Japan needs to read UTF-8."""
    out = io.StringIO()
    writer = formula_safe_writer(out, lineterminator="\r\n")
    writer.writerows([_one_line(value) for value in row] for row in rows)
    bom = request.GET.get("bom") == "1"
    data = out.getvalue().encode("utf-8-sig" if bom else "utf-8")
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    name = filename.replace(".csv", "_excel.csv") if bom else filename
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _time(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%H:%M") if value else ""


def _date(value: dt.datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _results_text(agenda: dict | None) -> str:
    """審議結果: each public item with a recorded 結果, e.g. "(1) 骨子案について: 承認（字句修正は委員長一任）"."""
    parts = []
    for item in (agenda or {}).get("items", []):
        result, resolution = oparl.agenda_result(item)
        if result:
            parts.append(f"{item['number']} {item['title']}: {result}" + (f"（{resolution}）" if resolution else ""))
    return " / ".join(parts)


def corporate_number(code: str) -> str:
    """The 法人番号 of the 地方公共団体 with the 全国地方公共団体コード `code`: "000020" and the code, after
    their check digit (国税庁's rule: 9 minus the sum of each digit times 1 or 2, alternately from the last
    digit, modulo 9). Empty when `code` is not six digits."""
    if not re.fullmatch(r"\d{6}", code):
        return ""
    base = "000020" + code
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return f"{9 - total % 9}{base}"


def _observation(m: Meeting) -> dict[str, str]:
    """The イベント一覧's 定員 and 申込 columns from the meeting's 傍聴, while the public can register for it
    (the meeting page offers the form): seats, when registration opens and closes, how seats are given."""
    try:
        observation = m.observation
    except ObservationSettings.DoesNotExist:
        return {}
    if not observation_offered(m, observation):
        return {}
    lottery = observation.method == ObservationSettings.Method.LOTTERY
    return {
        "定員": str(observation.public_seats),
        "定員備考": f"傍聴席。ほかに報道関係者席{observation.press_seats}" if observation.press_seats else "傍聴席",
        "申込開始日": _date(observation.opens_at),
        "申込開始時刻": _time(observation.opens_at),
        "参加申込終了日": _date(observation.closes_at),
        "参加申込終了時間": _time(observation.closes_at),
        "参加申込方法": "申込URLから申込(" + ("申込多数の場合は抽選" if lottery else "先着順") + ")",
        "申込URL": settings.SITE_URL + reverse("participation:register", args=[m.pk]),
    }


def meeting_rows(meetings: list[Meeting]) -> list[list[str]]:
    """The header and one row per meeting: the イベント一覧's columns (empty where a meeting has nothing to
    say), then the committee's."""
    site = settings.SITE_URL
    results = selectors.agenda_results(meetings)
    corporate = settings.DXPLAN_CORPORATE_NUMBER or corporate_number(settings.DXPLAN_LOCAL_GOVERNMENT_CODE)
    units: dict[tuple[int, dt.date], str] = {}  # the secretariat's name as it was on each meeting's day
    rows: list[list[str]] = [[*EVENT_COLUMNS, *MEETING_COLUMNS]]
    for m in meetings:
        unit = m.body.secretariat
        day = m.reference_date
        if (unit.pk, day) not in units:
            units[unit.pk, day] = unit.full_name_on(day)
        organiser = units[unit.pk, day]
        note = ""
        if m.start_at is None:
            note = "日程未定(" + f"{m.planned_month:%Y-%m}" + ")"
        elif m.time_undecided:
            note = "時刻未定"
        page = site + reverse("meetings:detail", args=[m.pk])
        public_agenda = selectors.agenda(m, results.get(m.pk))
        event = {
            "全国地方公共団体コード": settings.DXPLAN_LOCAL_GOVERNMENT_CODE,
            "法人番号": corporate,
            "ID": str(m.pk),
            "地方公共団体名": settings.DXPLAN_ORGANISATION_NAME,
            "イベント名": f"{m.body.name} {m.label}",
            "言語コード": "ja",
            "コンテンツURL": page,
            "状態": m.get_status_display(),
            "キーワード": m.body.name,
            "開始日": _date(m.start_at),
            "終了日": _date(m.end_at or m.start_at),
            "開始時間": "" if m.time_undecided else _time(m.start_at),
            "終了時間": "" if m.time_undecided else _time(m.end_at),
            "開始日時特記事項": note,
            "説明": " ".join(v for v in (m.title, m.theme) if v),
            "イベント種類": "会議",
            "連絡先名称": organiser,
            "連絡先電話番号": unit.phone,
            "主催者": organiser,
            "場所名称": m.venue_name or m.venue_room,
            "所在地_連結表記": m.venue_address,
            "建物名等(方書)": m.venue_room if m.venue_name else "",
            **_observation(m),
            "URL": page,
            "備考": m.cancel_reason if m.status in (Meeting.Status.CANCELLED, Meeting.Status.POSTPONED) else "",
        }
        committee = [
            m.body.name, m.label, str(m.fiscal_year), m.get_openness_display(), m.openness_basis,
            site + reverse("meetings:agenda_print", args=[m.pk]) if public_agenda is not None else "",
            page + "#minutes-heading" if selectors.minutes_published(m) else "",
            oparl.obj_url("meeting", m.pk), _results_text(public_agenda),
        ]
        rows.append([event.get(column, "") for column in EVENT_COLUMNS] + committee)
    return rows


def _meetings_csv(request: HttpRequest, body: Body | None) -> HttpResponse:
    from committee.selectors import unit_names_prefetch
    from meetings.selectors import chronological

    qs = selectors.meetings().select_related(
        "body__secretariat", "agenda__approved_version", "minutes", "observation"
    )
    qs = qs.prefetch_related(unit_names_prefetch("body__secretariat__names"))
    if body is not None:
        qs = qs.filter(body=body)
    meetings = list(timestamps.meetings(qs).order_by(*chronological()))
    # The 定義書's file name, [団体コード]_event.csv; a body's own list adds its slug.
    code = settings.DXPLAN_LOCAL_GOVERNMENT_CODE
    name = f"{code}_event_{body.slug}.csv" if body else f"{code}_event.csv"
    response = _csv_response(meeting_rows(meetings), name, request)
    changes = [m.modified_ts for m in meetings if m.modified_ts]
    changes += [m.observation.updated_at for m in meetings if getattr(m, "observation", None) is not None]
    return set_last_modified(response, max(changes, default=None))


def _meetings_modified(body: Body) -> dt.datetime | None:
    """The last change of any of the body's public meetings (one query)."""
    qs = timestamps.meetings(selectors.meetings().filter(body=body)).order_by()
    latest: dt.datetime | None = qs.aggregate(at=Max("modified_ts"))["at"]
    return latest


def meetings_csv(request: HttpRequest) -> HttpResponse:
    return _meetings_csv(request, None)


def body_meetings_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return _meetings_csv(request, _public_body(slug))


def _post(a: Appointment, officers: Officers, guideline: Guideline | None) -> str:
    if officers.chair is not None and officers.chair.appointment_id == a.pk:
        return guideline.chair_title if guideline else "委員長"
    if officers.vice_chair is not None and officers.vice_chair.appointment_id == a.pk:
        return guideline.vice_chair_title if guideline else "副委員長"
    return a.role_label or a.get_category_display()


def roster_rows(body: Body, day: dt.date) -> list[list[str]]:
    officers = selectors.officers(body, day)
    guideline = selectors.guideline(body, day)
    rows: list[list[str]] = [list(ROSTER_COLUMNS)]
    for a in selectors.roster(body, day):
        name = a.person.full_name if a.person is not None else a.post_title
        reading = a.person.full_name_kana if a.person is not None else ""
        end = a.effective_end
        rows.append(
            [name, reading, a.affiliation_on(day), _post(a, officers, guideline),
             f"{a.term_start.isoformat()}/{end.isoformat() if end else ''}"]
        )
    return rows


def _requested_day(request: HttpRequest) -> dt.date | None:
    """?on=2023-05-10; anything else (or a date outside 1900–2999) asks for the default day."""
    try:
        day = dt.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return None
    return day if dt.date(1900, 1, 1) <= day <= dt.date(2999, 12, 31) else None


def roster_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """委員名簿 of a public body on a day (?on=YYYY-MM-DD; by default as its page shows it)."""
    body = _public_body(slug)
    day = selectors.roster_day(body, _requested_day(request))
    response = _csv_response(roster_rows(body, day), f"roster_{body.slug}_{day.isoformat()}.csv", request)
    return set_last_modified(response, selectors.body_modified(body))


# --- the datasets page ------------------------------------------------------------------------------


def datasets(request: HttpRequest) -> HttpResponse:
    bodies = list(selectors.organizations().order_by("display_order", "id"))
    context = {
        "bodies": bodies,
        "event_columns": EVENT_COLUMNS,
        "event_file": f"{settings.DXPLAN_LOCAL_GOVERNMENT_CODE}_event",
        "meeting_columns": MEETING_COLUMNS,
        "roster_columns": ROSTER_COLUMNS,
        "license_name": settings.DXPLAN_OPENDATA_LICENSE_NAME,
        "license_url": settings.DXPLAN_OPENDATA_LICENSE_URL,
        "oparl_url": oparl.url("oparl_system"),
        "site_url": settings.SITE_URL,
        "rate": settings.DXPLAN_OPENDATA_RATE,
    }
    return render(request, "opendata/datasets.html", context)


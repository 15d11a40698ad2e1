"""Demo data built from the seed (meeting materials of the 「(仮称)青森県DX推進プラン」策定委員会, FY2023).

The project carries this data itself; it never reads ../shared at run time. Loading is idempotent:
what exists is left as it is (the secretariat may have edited it), what is missing is created.

Where the seed is silent the demo says so: no 委嘱 date is given, so the first meeting's date
(令和5年5月10日) is used; no 副委員長 is named, so that post stays vacant; genders are not given
and are left unrecorded.

The live part (`load_live`) keeps the committee in office on the day the demo is loaded: see its docstring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from core.wareki import fiscal_year_bounds, fiscal_year_of

from . import services
from .models import Appointment, Body, Guideline, GuidelineArticle, OrgUnit, OrgUnitName, Person
from .selectors import officers_on

D = dt.date

UNITS: list[tuple[str, str, str, str, list[tuple[str, str | None, dt.date, dt.date | None]]]] = [
    # code, kind, phone, email, [(name, parent code, valid_from, valid_until)]
    ("aomori", "government", "", "", [("青森県", None, D(1871, 9, 4), None)]),
    ("kikaku-seisaku", "department", "", "", [("企画政策部", "aomori", D(2000, 4, 1), None)]),
    ("sogo-seisaku", "department", "", "", [("総合政策部", "aomori", D(2024, 4, 1), None)]),
    ("somu", "department", "", "", [("総務部", "aomori", D(2000, 4, 1), None)]),
    ("shoko-rodo", "department", "", "", [("商工労働部", "aomori", D(2000, 4, 1), None)]),
    (
        "dx-suishin",
        "division",
        "017-734-9999",
        "dx-suishin@dxplan.example",
        [
            ("DX推進課", "kikaku-seisaku", D(2023, 4, 1), D(2024, 3, 31)),
            ("DX推進課", "sogo-seisaku", D(2024, 4, 1), None),
        ],
    ),
    ("kikaku-chosei", "division", "", "", [("企画調整課", "kikaku-seisaku", D(2000, 4, 1), None)]),
    ("gyosei-keiei", "division", "", "", [("行政経営課", "somu", D(2000, 4, 1), None)]),
    ("shinsangyo", "division", "", "", [("新産業創造課", "shoko-rodo", D(2000, 4, 1), None)]),
]

COMMITTEE = "dx-plan-committee"
BODIES = [
    # slug, name, short name, kind, parent slug, external, secretariat code, established, dissolved, seats, order
    (
        COMMITTEE,
        "「(仮称)青森県DX推進プラン」策定委員会",
        "DX推進プラン策定委員会",
        "guideline_committee",
        None,
        True,
        "dx-suishin",
        D(2023, 4, 13),
        None,
        12,
        10,
    ),
    (
        "dx-honbu",
        "(仮称)青森県DX推進本部会議",
        "DX推進本部会議",
        "internal",
        None,
        False,
        "dx-suishin",
        D(2023, 6, 2),
        None,
        None,
        20,
    ),
    (
        "joho-system-toshi",
        "情報システム投資委員会",
        "情報システム投資委員会",
        "internal",
        "dx-honbu",
        False,
        "gyosei-keiei",
        None,
        None,
        None,
        21,
    ),
    (
        "joho-security",
        "情報セキュリティ委員会",
        "情報セキュリティ委員会",
        "internal",
        "dx-honbu",
        False,
        "gyosei-keiei",
        None,
        None,
        None,
        22,
    ),
    ("kanjikai", "幹事会", "幹事会", "internal", "dx-honbu", False, "dx-suishin", D(2023, 5, 22), None, None, 23),
    (
        "dx-wg-2022",
        "青森県DX推進方向に係る庁内ワーキンググループ(令和4年度)",
        "庁内WG(令和4年度)",
        "working_group",
        None,
        True,
        "kikaku-chosei",
        D(2022, 12, 14),
        D(2023, 3, 31),
        None,
        30,
    ),
]

GUIDELINE_TITLE = "「(仮称)青森県DX推進プラン」策定委員会設置要綱"
ARTICLES = [
    (
        "article",
        "第1",
        "設置",
        "本県におけるDX(デジタルトランスフォーメーション)を推進するための官民全体で共有すべき指針となる「(仮称)青森県DX推進プラン"
        "(以下、プラン)」を策定することとし、外部有識者の視点により、本県を取り巻く社会環境や課題、デジタルの動向等を踏まえ、"
        "DXの推進に関する基本的な方針等を検討する「(仮称)青森県DX推進プラン」策定委員会(以下、委員会)を設置する。",
    ),
    (
        "article",
        "第2",
        "所掌事務",
        "委員会は、次に掲げる事項について、協議、検討する。\n"
        "(1) DXの推進に関する基本的な方針及び方向性に関すること\n"
        "(2) (仮称)青森県DX推進プランの策定に関すること\n"
        "(3) その他、DXの推進に関すること",
    ),
    (
        "article",
        "第3",
        "構成",
        "委員会は、デジタル等に関する知識を有する者のうちから、青森県企画政策部長が委嘱する別表の委員をもって構成する。\n"
        "2 委員会に委員長及び副委員長を置く。\n"
        "3 委員長は、委員の互選により選出する。\n"
        "4 委員長は、委員会を代表し、会務を総理する。\n"
        "5 副委員長は、委員長が指名する。\n"
        "6 副委員長は委員長を補佐し、委員長に事故があるとき、又は委員長が不在のときは、その職務を代行し、"
        "委員長が欠けたときは、その職務を行う。",
    ),
    (
        "article",
        "第4",
        "会議",
        "会議は、青森県企画政策部長が招集する。\n"
        "2 会議の議長は委員長が務める。\n"
        "3 委員長は、必要に応じて委員以外の者で適当と認める者に会議への出席を求め、意見を聴くことができる。\n"
        "4 会議は原則公開とする。ただし、案件によっては、委員の承諾をもって一部または全部を非公開とすることができる。",
    ),
    (
        "article",
        "第5",
        "任期",
        "委員の任期は、委嘱の日から令和6年3月31日までとする。\n"
        "2 委員が交代した場合、後任の委員の任期は、前任の委員の残任期間とする。",
    ),
    ("article", "第6", "庶務", "委員会の庶務は、青森県企画政策部DX推進課において処理する。"),
    ("article", "第7", "その他", "この要綱に定めるもののほか、委員会の運営に関し必要な事項は、委員長が別に定める。"),
    ("supplementary", "附則", "", "この要綱は、令和5年4月13日から施行する。"),
]

APPOINTED_ON = D(2023, 5, 10)  # the seed gives no 委嘱 date: the first meeting's date
MEMBERS = [
    # family, given, family reading, affiliation (as in the 別表; its 「A0IT」 is a misprint of AOIT)
    ("池田", "右文", "いけだ", "株式会社池田介護研究所代表"),
    ("石井", "重成", "いしい", "青森大学 社会学部准教授"),
    ("石澤", "諒", "いしざわ", "あおもり創生パートナーズ 経営サポート部"),
    ("加藤", "夢人", "かとう", "株式会社寅福プラント代表取締役"),
    ("佐藤", "志穂", "さとう", "株式会社LX DESIGN社長室 CYO"),
    ("立花", "拓也", "たちばな", "株式会社ヘプタゴン代表取締役"),
    ("舘田", "あゆみ", "たてだ", "東北大学大学院工学研究科 情報知能システム研究センター 特任教授"),
    ("本田", "政邦", "ほんだ", "NPO法人あおもりIT活用サポートセンター（AOIT）理事長"),
    ("森", "樹男", "もり", "弘前大学副理事(社会連携担当) 人文社会学部 教授"),
    ("森本", "登志男", "もりもと", "キャリアシフト株式会社代表取締役"),
    ("山内", "和彦", "やまうち", "株式会社スプラウトジャパン代表取締役社長"),
    ("蕨", "加奈子", "わらび", "合同会社浜と山と代表"),
]
CHAIR = ("森", "樹男")

WG_START, WG_END = D(2022, 12, 14), D(2023, 3, 31)
WG_SEATS: list[tuple[tuple[str, str] | str, str, str, str, int]] = [
    # person (family, given) or post, category, role, affiliation, order
    ("企画政策部次長", "internal", "座長", "", 1),
    ("各部局主管課等の課長代理等", "internal", "", "", 2),
    ("行政経営課IT専門監", "internal", "", "", 3),
    ("新産業創造課課長代理", "internal", "", "", 4),
    (("舘田", "あゆみ"), "expert", "", "東北大学大学院工学研究科 特任教授", 10),
    (("石井", "重成"), "expert", "", "青森大学社会学部 准教授", 11),
    ("行政経営課自治体DX推進GM", "observer", "", "", 20),
    ("行政経営課行政改革推進GM", "observer", "", "", 21),
    ("行政経営課システム管理運用GM", "observer", "", "", 22),
    ("新産業創造課産業DX推進G員", "observer", "", "", 23),
    ("企画調整課", "secretariat", "", "", 30),
]


def _units() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for code, kind, phone, email, _names in UNITS:
        units[code], _ = OrgUnit.objects.get_or_create(
            code=code, defaults={"kind": kind, "phone": phone, "email": email}
        )
    for code, _kind, _phone, _email, names in UNITS:
        for name, parent, valid_from, valid_until in names:
            OrgUnitName.objects.get_or_create(
                unit=units[code],
                valid_from=valid_from,
                defaults={"name": name, "parent": units[parent] if parent else None, "valid_until": valid_until},
            )
    return units


def _bodies(units: dict[str, OrgUnit]) -> dict[str, Body]:
    bodies: dict[str, Body] = {}
    for slug, name, short, kind, parent, external, unit, established, dissolved, seats, order in BODIES:
        bodies[slug], _ = Body.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "short_name": short,
                "kind": kind,
                "parent": bodies.get(parent) if parent else None,
                "has_external_members": external,
                "secretariat": units[unit],
                "established_on": established,
                "dissolved_on": dissolved,
                "seats": seats,
                "display_order": order,
            },
        )
    return bodies


def _guideline(body: Body) -> Guideline:
    guideline, created = Guideline.objects.get_or_create(
        body=body,
        effective_on=D(2023, 4, 13),
        defaults={
            "title": GUIDELINE_TITLE,
            "term_rule": Guideline.TermRule.FIXED_DATE,
            "term_fixed_end": D(2024, 3, 31),
            "successor_serves_remainder": True,
            "reappointment_allowed": True,
            "chair_title": "委員長",
            "chair_selection": Guideline.Selection.MUTUAL_ELECTION,
            "vice_chair_title": "副委員長",
            "vice_chair_selection": Guideline.Selection.NOMINATED_BY_CHAIR,
            "vice_chair_acts_for_chair": True,
            "convener_title": "青森県企画政策部長",
            "appointing_authority": "青森県企画政策部長",
            "quorum_rule": Guideline.Quorum.NONE,
            "voting_rule": Guideline.Voting.NONE,
            "online_counts_for_quorum": True,
            "meetings_public_by_default": True,
            "closure_basis": "委員の承諾 (第4-4)",
        },
    )
    if created:
        GuidelineArticle.objects.bulk_create(
            GuidelineArticle(guideline=guideline, position=i, kind=kind, number=number, heading=heading, text=text)
            for i, (kind, number, heading, text) in enumerate(ARTICLES, start=1)
        )
        table = "\n".join(f"{i} {f} {g} {aff}" for i, (f, g, _r, aff) in enumerate(MEMBERS, start=1))
        GuidelineArticle.objects.create(
            guideline=guideline,
            position=len(ARTICLES) + 1,
            kind="table",
            number="別表",
            heading="「(仮称)青森県DX推進プラン」策定委員会委員名簿",
            text="(五十音順、敬称略)\n" + table,
        )
    return guideline


def _person(family: str, given: str, reading: str) -> Person:
    person = Person.objects.filter(family_name=family, given_name=given).order_by("id").first()
    if person is None:
        person = Person(family_name=family, given_name=given, family_name_kana=reading)
        person.full_clean()
        person.save()
    return person


def _appoint(body: Body, *, person: Person | None = None, post: str = "", **kwargs) -> Appointment:
    existing = Appointment.objects.filter(body=body, term_start=kwargs.get("term_start") or kwargs["appointed_on"])
    existing = existing.filter(person=person) if person else existing.filter(person__isnull=True, post_title=post)
    found = existing.first()
    if found is not None:
        return found
    return services.appointment_create(actor=None, body=body, person=person, post_title=post, **kwargs)


@transaction.atomic
def load() -> dict[str, int]:
    """Create what is missing of the demo roster; return counts for the command's report."""
    units = _units()
    bodies = _bodies(units)
    committee = bodies[COMMITTEE]
    _guideline(committee)
    people: dict[tuple[str, str], Person] = {}
    for family, given, reading, affiliation in MEMBERS:
        person = people[(family, given)] = _person(family, given, reading)
        _appoint(
            committee,
            person=person,
            category=Appointment.Category.MEMBER,
            appointed_on=APPOINTED_ON,
            affiliation=affiliation,
            note="委嘱日は資料に記載がないため、第1回会議の日(令和5年5月10日)としている(デモデータ)。",
        )
    chair = Appointment.objects.get(body=committee, person=people[CHAIR], term_start=APPOINTED_ON)
    services.officer_elect_chair(
        actor=None, body=committee, appointment=chair, selected_on=APPOINTED_ON, meeting_label="第1回"
    )
    wg = bodies["dx-wg-2022"]
    for holder, category, role, affiliation, order in WG_SEATS:
        _appoint(
            wg,
            person=people[holder] if isinstance(holder, tuple) else None,
            post=holder if isinstance(holder, str) else "",
            category=category,
            role_label=role,
            appointed_on=WG_START,
            term_end=WG_END,
            affiliation=affiliation,
            display_order=order,
        )
    return {
        "bodies": Body.objects.count(),
        "people": Person.objects.count(),
        "appointments": Appointment.objects.count(),
    }


# --- the live part: the committee in office on the day the demo is loaded -----------------------------

AMENDED_ON = D(2024, 4, 1)  # the day after the seed's terms ended; also the day 総合政策部 was set up
AMENDMENT_NOTE = "任期を1年(年度末まで)とし、所管部局の名称を総合政策部に改める(デモデータ)"
AMENDED_TERM_ARTICLE = (
    "委員の任期は、1年とする。ただし、任期の末日が年度の途中となるときは、その年度の末日までとする。\n"
    "2 委員が交代した場合、後任の委員の任期は、前任の委員の残任期間とする。"
)
LEAVING = {("加藤", "夢人"), ("山内", "和彦")}  # not renewed after FY2023 (the demo's choice)
NEW_MEMBERS = [
    # family, given, readings, affiliation: invented people (デモ用の架空の人物)
    ("三浦", "栞", "みうら", "しおり", "弘前大学 教育学部 講師(架空・デモ)"),
    ("工藤", "航", "くどう", "わたる", "株式会社つがるデータ代表取締役(架空・デモ)"),
]
VICE_CHAIR = ("舘田", "あゆみ")
SHIFT = dt.timedelta(days=30)


@dataclass(frozen=True)
class LiveDays:
    """The days the live part is laid out on: today, the past meeting's day and next month's meeting's day."""

    today: dt.date
    past: dt.date
    next: dt.date

    @property
    def renewed_years(self) -> list[int]:
        """The 年度 after the seed's that need a term: today's, and a neighbour the past or next meeting falls in."""
        return sorted({fiscal_year_of(d) for d in (self.past, self.today, self.next)} - {2023})


def _closed(day: dt.date) -> bool:
    """Weekends and the 年末年始 (29 December to 3 January), when the prefecture holds no meetings."""
    return day.weekday() >= 5 or (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)


def live_days(today: dt.date) -> LiveDays | None:
    """About a month before and after `today`, on a weekday; None before the seed's members took office.

    In FY2023 the past meeting is never before the seed's 委嘱 (第1回, 令和5年5月10日)."""
    if today < APPOINTED_ON:
        return None
    past, upcoming = today - SHIFT, today + SHIFT
    while _closed(past):
        past -= dt.timedelta(days=1)
    while _closed(upcoming):
        upcoming += dt.timedelta(days=1)
    return LiveDays(today=today, past=max(past, APPOINTED_ON), next=upcoming)


def _amended_guideline(committee: Body) -> Guideline:
    """改正 of the 設置要綱 from FY2024: one-year terms to the end of the 年度, 総合政策部 as the department."""
    existing = Guideline.objects.filter(body=committee, effective_on=AMENDED_ON).first()
    if existing is not None:
        return existing
    seed = Guideline.objects.get(body=committee, effective_on=D(2023, 4, 13))
    amended = services.guideline_amend(
        actor=None,
        guideline=seed,
        effective_on=AMENDED_ON,
        amendment_note=AMENDMENT_NOTE,
        term_rule=Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END,
        term_years=1,
        term_fixed_end=None,
        convener_title="青森県総合政策部長",
        appointing_authority="青森県総合政策部長",
    )
    # The copied articles follow the amendment (the version in force until then keeps its own text).
    amended.articles.filter(kind="table").delete()
    for article in amended.articles.all():
        text = article.text.replace("企画政策部", "総合政策部").replace("別表の委員", "委員")
        if article.number == "第5":
            text = AMENDED_TERM_ARTICLE
        if article.kind == "supplementary":
            text += "\n附則\nこの要綱は、令和6年4月1日から施行する。"
        if text != article.text:
            article.text = text
            article.save(update_fields=["text"])
    return amended


def _renew_committee(
    *,
    actor,
    body: Body,
    term_start: dt.date,
    guideline: Guideline,
    continuing: list[Appointment],
    new_members: list[tuple[Person, str]],
) -> list[Appointment]:
    """A new term of the whole body from `term_start`, as the renewal page makes it (services.body_renew):
    the `continuing` appointments renewed (再任, with the affiliation they last had) and `new_members`
    (person, affiliation) appointed, under `guideline`, in one checked and audited step. A term that
    exists already is kept, so loading twice changes nothing."""
    existing = list(Appointment.objects.filter(body=body, term_start=term_start).members())
    if existing:
        return existing
    return services.body_renew(
        actor=actor,
        body=body,
        term_start=term_start,
        guideline=guideline,
        continuing=[a for a in continuing if a.person is not None],
        new_members=[services.NewMember(person=person, affiliation=affiliation) for person, affiliation in new_members],
    )


def _last_term(committee: Body, before: dt.date) -> list[Appointment]:
    """The members of the committee's latest term that started before `before`."""
    members = Appointment.objects.filter(body=committee, term_start__lt=before).members()
    last = members.order_by("-term_start").values_list("term_start", flat=True).first()
    if last is None:
        return []
    return list(members.filter(term_start=last).select_related("person").prefetch_related("affiliations"))


def _new_people(committee: Body) -> list[tuple[Person, str]]:
    """The invented newcomers who hold no appointment on the committee yet."""
    found = []
    for family, given, family_kana, given_kana, affiliation in NEW_MEMBERS:
        person = Person.objects.filter(family_name=family, given_name=given).order_by("id").first()
        if person is None:
            person = services.person_create(
                actor=None,
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
            )
        if not Appointment.objects.filter(body=committee, person=person).exists():
            found.append((person, affiliation))
    return found


def _elect_in_writing(committee: Body, term_start: dt.date) -> None:
    """Officers of a term with no meeting before next month's: chosen in writing on the first day."""
    if officers_on(body=committee, day=term_start).chair is not None:
        return
    terms = {
        (a.person.family_name, a.person.given_name): a
        for a in Appointment.objects.filter(body=committee, term_start=term_start).select_related("person")
        if a.person is not None
    }
    label = "書面による互選(デモ)"
    services.officer_elect_chair(
        actor=None, body=committee, appointment=terms[CHAIR], selected_on=term_start, meeting_label=label
    )
    services.officer_nominate_vice_chair(
        actor=None, body=committee, appointment=terms[VICE_CHAIR], selected_on=term_start, meeting_label=label
    )


@transaction.atomic
def load_live(*, today: dt.date) -> dict[str, int]:
    """Keep the committee in office around `today` (timezone.localdate() when the demo is loaded).

    FY2023 is the seed's year: its members (委嘱 令和5年5月10日, to 令和6年3月31日) are the live roster
    and nothing is added here. From FY2024 the 要綱 is amended (one-year terms) and the committee is renewed
    for each 年度 the live part touches (today's, and the previous or next one when the past or next
    month's meeting falls in it): most members continue, 加藤 and 山内 leave, two invented people join.
    The chair and vice chair of a renewed term are elected at its first meeting (meetings/demo.py); a term
    whose first meeting comes after next month's is given its officers in writing on its first day, so the
    chair approves next month's 次第. Before 令和5年5月10日 there is no live part.
    """
    days = live_days(today)
    committee = Body.objects.get(slug=COMMITTEE)
    if days is None or not days.renewed_years:
        return {"renewed_terms": 0}
    guideline = _amended_guideline(committee)
    for fiscal_year in days.renewed_years:
        term_start = fiscal_year_bounds(fiscal_year)[0]
        continuing = [
            a for a in _last_term(committee, term_start)
            if a.person is not None and (a.person.family_name, a.person.given_name) not in LEAVING
        ]
        _renew_committee(
            actor=None,
            body=committee,
            term_start=term_start,
            guideline=guideline,
            continuing=continuing,
            new_members=_new_people(committee),
        )
        if fiscal_year_of(days.past) != fiscal_year:
            _elect_in_writing(committee, term_start)
    return {"renewed_terms": len(days.renewed_years)}

"""Demo meetings from the seed: the 策定委員会's FY2023 schedule with 第1回 in full (次第, 出席者名簿),
the milestones of the 2023年度スケジュール, and the FY2022 working group's three meetings.

The seed gives times only for 第1回 (14:00); the other meetings are shown with the time still to be
fixed. 第1回 has no minutes in the seed, so none are invented (except by the live part in FY2023, below).

`load_live` lays out the 年度 of the day the demo is loaded; see its docstring.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from committee import demo as committee_demo
from committee.demo import COMMITTEE
from committee.models import Appointment, Body, OfficerTerm
from committee.selectors import guideline_in_force, officer_title, officers_on
from core.wareki import fiscal_year_bounds, fiscal_year_of

from . import selectors, services
from .models import Agenda, AgendaItem, AgendaVersion, Attendance, Attendee, Meeting, Milestone, Minutes, MinutesEntry

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
D = dt.date


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


FIRST_MEETING_ITEMS = [
    ("開会", "", []),
    ("青森県企画政策部次長挨拶", "", []),
    ("委員長及び副委員長選任", "", []),
    (
        "議事",
        "",
        [
            ("(仮称)青森県DX推進プランの策定及び推進について", ""),
            ("意見交換", "(仮称)青森県DX推進プランにおける本県のめざす姿について"),
        ],
    ),
    ("閉会", "", []),
]
ONLINE_MEMBERS = {("森本", "登志男"), ("蕨", "加奈子")}  # the 出席者名簿 marks them オンライン出席

COMMITTEE_LATER = [  # number, date or month, theme
    (2, D(2023, 6, 7), None, "骨子案検討"),
    (3, D(2023, 7, 26), None, "素案検討"),
    (4, None, D(2023, 10, 1), "原案検討"),
]
KANJIKAI_MEETINGS = [  # name, date, month
    ("準備会", D(2023, 5, 22), None),
    ("プラン素案検討", None, D(2023, 8, 1)),
    ("プラン原案検討", None, D(2024, 1, 1)),
]
MILESTONES = [  # body slug, name, start, start precision, end
    (COMMITTEE, "パブコメ", D(2023, 9, 1), "month", D(2023, 9, 30)),
    ("dx-honbu", "設立", D(2023, 6, 2), "day", None),
    ("dx-honbu", "プラン了承", D(2024, 3, 1), "month", None),
    ("kanjikai", "R6事業構築等に向け適宜開催", D(2023, 9, 1), "month", D(2023, 12, 31)),
]
WG_MEETINGS = [
    (
        1,
        D(2022, 12, 14),
        [
            "ワーキンググループの設置について",
            "DXを取り巻く現状等について",
            "「青森県DX推進プラン(仮称)」について",
            "委託事業者からの調査状況報告",
        ],
    ),
    (
        2,
        D(2023, 1, 16),
        [
            "国の動向について(デジタル田園都市国家構想総合戦略ほか)",
            "青森県の現状・課題について(庁内・市町村・産業の状況)",
            "「青森県DX推進プラン(仮称)」の骨格案について",
            "「青森県DXセミナー」の開催について",
        ],
    ),
    (
        3,
        D(2023, 2, 17),
        [
            "「令和4年度デジタル対応社会推進調査・分析業務」調査結果報告",
            "「青森県DX推進方向」(案)について",
        ],
    ),
]


def _first_meeting(committee: Body, secretariat, convener) -> Meeting:
    meeting = Meeting.objects.filter(body=committee, number=1).first()
    if meeting is not None:
        return meeting
    meeting = services.meeting_create(
        actor=secretariat,
        body=committee,
        number=1,
        start_at=at(D(2023, 5, 10), 14),
        theme="",
        online_note="Web会議システムによるオンライン出席を併用",
    )
    for title, detail, children in FIRST_MEETING_ITEMS:
        item = services.agenda_item_add(actor=secretariat, meeting=meeting, title=title, detail=detail)
        for child_title, child_detail in children:
            services.agenda_item_add(
                actor=secretariat, meeting=meeting, title=child_title, detail=child_detail, parent=item
            )
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.OFFICIAL, title="青森県企画政策部次長", position=1)
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.SECRETARIAT, title="企画政策部DX推進課", position=1)
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    # Before the chair is elected at this meeting, the convening official (企画政策部長, 第4-1) approves.
    services.agenda_approve(actor=convener, meeting=meeting, sha256=version.sha256)
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    records: dict[int, tuple[str, str]] = {}
    for row in meeting.attendances.select_related("appointment__person", "attendee"):
        person = row.appointment.person if row.appointment is not None else None
        if person is None:  # the secretariat and the other attendees came to the venue
            records[row.pk] = (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
            continue
        online = (person.family_name, person.given_name) in ONLINE_MEMBERS
        reply = Attendance.Reply.ONLINE if online else Attendance.Reply.VENUE
        services.attendance_reply(actor=secretariat, attendance=row, reply=reply, on_behalf=True)
        records[row.pk] = (Attendance.Actual.PRESENT, Attendance.Mode.ONLINE if online else Attendance.Mode.VENUE)
    services.meeting_mark_held(actor=secretariat, meeting=meeting)
    services.attendance_record(actor=secretariat, meeting=meeting, records=records)
    chair = Appointment.objects.get(body=committee, person__family_name="森", person__given_name="樹男")
    services.meeting_record_election(actor=secretariat, meeting=meeting, role=OfficerTerm.Role.CHAIR, appointment=chair)
    services.seating_generate(actor=secretariat, meeting=meeting)
    return meeting


def _planned(body: Body, secretariat, *, number=None, name="", day=None, month=None, theme="") -> Meeting:
    existing = Meeting.objects.filter(body=body)
    existing = existing.filter(number=number) if number else existing.filter(name=name)
    found = existing.first()
    if found is not None:
        return found
    return services.meeting_create(
        actor=secretariat,
        body=body,
        number=number,
        name=name,
        theme=theme,
        start_at=at(day) if day else None,
        time_undecided=day is not None,
        planned_month=month,
    )


def _wg_meeting(wg: Body, number: int, day: dt.date, topics: list[str], convener) -> None:
    if Meeting.objects.filter(body=wg, number=number).exists():
        return
    meeting = services.meeting_create(actor=None, body=wg, number=number, start_at=at(day), time_undecided=True)
    parent = services.agenda_item_add(actor=None, meeting=meeting, title="議事")
    for topic in topics:
        services.agenda_item_add(actor=None, meeting=meeting, title=topic, parent=parent)
    version = services.agenda_submit(actor=None, meeting=meeting)
    services.agenda_approve(actor=convener, meeting=meeting, sha256=version.sha256)
    services.meeting_mark_notified(actor=None, meeting=meeting)
    services.meeting_mark_held(actor=None, meeting=meeting)


@transaction.atomic
def load(*, secretariat, convener, wg_convener) -> dict[str, int]:
    """Create what is missing of the demo meetings; return counts for the command's report."""
    bodies = {b.slug: b for b in Body.objects.all()}
    committee = bodies[COMMITTEE]
    _first_meeting(committee, secretariat, convener)
    for number, day, month, theme in COMMITTEE_LATER:
        _planned(committee, secretariat, number=number, day=day, month=month, theme=theme)
    for name, day, month in KANJIKAI_MEETINGS:
        _planned(bodies["kanjikai"], secretariat, name=name, day=day, month=month)
    for slug, name, start, precision, end in MILESTONES:
        Milestone.objects.get_or_create(
            body=bodies[slug],
            name=name,
            start_on=start,
            defaults={"fiscal_year": 2023, "start_precision": precision, "end_on": end},
        )
    for number, day, topics in WG_MEETINGS:
        _wg_meeting(bodies["dx-wg-2022"], number, day, topics, wg_convener)
    return {"meetings": Meeting.objects.count(), "approved": Agenda.objects.filter(status="approved").count()}


# --- the live part: the 年度 of the day the demo is loaded ---------------------------------------------

WINDOW = dt.timedelta(days=20)  # a meeting this close to a live day is that day's meeting (reused, not added)
LIVE_VENUE = ("青森県庁 北棟 会議室(デモ)", "青森市長島一丁目1-1")
LIVE_ONLINE = "Web会議システムによるオンライン出席を併用"
ABSENT_MEMBER = ("池田", "右文")  # sends apologies to the past meeting


def _live_items(meeting: Meeting, *, electing: bool) -> list[tuple[str, str, list[tuple[str, str]]]]:
    guideline = guideline_in_force(body=meeting.body, day=meeting.reference_date)
    chair, vice = officer_title(guideline, "chair"), officer_title(guideline, "vice_chair")
    theme = meeting.theme.removesuffix("検討")
    subject = f"(仮称)青森県DX推進プラン{theme}について" if theme else "青森県DX推進プランの進捗状況について"
    items: list[tuple[str, str, list[tuple[str, str]]]] = [("開会", "", [])]
    if electing:
        items.append((f"{chair}及び{vice}選任", "", []))
    items += [("議事", "", [(subject, ""), ("意見交換", "重点分野の取組について")]), ("閉会", "", [])]
    return items


def _add_items(meeting: Meeting, secretariat, items) -> None:
    if meeting.agenda.items.exists():
        return
    for title, detail, children in items:
        item = services.agenda_item_add(actor=secretariat, meeting=meeting, title=title, detail=detail)
        for child_title, child_detail in children:
            services.agenda_item_add(
                actor=secretariat, meeting=meeting, title=child_title, detail=child_detail, parent=item
            )


def _approve(meeting: Meeting, secretariat) -> AgendaVersion:
    """Submit the 次第 and have whoever approves it (selectors.approver_for) approve that version."""
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    agenda = Agenda.objects.get(meeting=meeting)
    if agenda.status == Agenda.Status.APPROVED:
        return version
    approver = selectors.approver_for(meeting)
    if approver is None or approver.user is None:
        raise ValueError(f"Nobody with an account approves the 次第 of {meeting}.")
    return services.agenda_approve(actor=approver.user, meeting=meeting, sha256=version.sha256)


def _near(body: Body, day: dt.date, *, past: bool) -> Meeting | None:
    """The meeting of `body` within WINDOW of `day`, on the same side of now; None if there is none."""
    now = timezone.now()
    side = Q(start_at__lte=now) if past else Q(start_at__gt=now) | Q(start_at__isnull=True)
    near = Q(start_at__date__range=(day - WINDOW, day + WINDOW)) | Q(
        start_at__isnull=True, planned_month__range=(day - WINDOW, day + WINDOW)
    )
    found = list(body.meetings.exclude(status=Meeting.Status.CANCELLED).filter(side & near))
    return min(found, key=lambda m: abs((m.reference_date - day).days), default=None)


def _new_meeting(body: Body, secretariat, day: dt.date) -> Meeting:
    return services.meeting_create(
        actor=secretariat,
        body=body,
        start_at=at(day, 14),
        end_at=at(day, 16),
        venue_name=LIVE_VENUE[0],
        venue_address=LIVE_VENUE[1],
        online_note=LIVE_ONLINE,
    )


def _secretariat_attendee(meeting: Meeting) -> None:
    if not meeting.attendees.filter(role=Attendee.Role.SECRETARIAT).exists():
        unit = meeting.body.secretariat
        title = unit.full_name_on(meeting.reference_date, include_government=False) if unit else "事務局"
        Attendee.objects.create(meeting=meeting, role=Attendee.Role.SECRETARIAT, title=title, position=1)


def _name(appointment: Appointment | None) -> tuple[str, str] | None:
    person = appointment.person if appointment is not None else None
    return (person.family_name, person.given_name) if person is not None else None


def _hold(meeting: Meeting, secretariat) -> None:
    """Take a meeting through approval, notice and the day itself: answers, 開催済, attendance, seating."""
    if meeting.status in (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED):
        return
    electing = officers_on(body=meeting.body, day=meeting.reference_date).chair is None
    _add_items(meeting, secretariat, _live_items(meeting, electing=electing))
    _secretariat_attendee(meeting)
    _approve(meeting, secretariat)
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    records: dict[int, tuple[str, str]] = {}
    for row in meeting.attendances.select_related("appointment__person", "attendee"):
        name = _name(row.appointment)
        if name is None:
            records[row.pk] = (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
            continue
        if name == ABSENT_MEMBER:
            services.attendance_reply(actor=secretariat, attendance=row, reply=Attendance.Reply.ABSENT, on_behalf=True)
            records[row.pk] = (Attendance.Actual.ABSENT, "")
            continue
        online = name in ONLINE_MEMBERS
        reply = Attendance.Reply.ONLINE if online else Attendance.Reply.VENUE
        services.attendance_reply(actor=secretariat, attendance=row, reply=reply, on_behalf=True)
        records[row.pk] = (Attendance.Actual.PRESENT, Attendance.Mode.ONLINE if online else Attendance.Mode.VENUE)
    services.meeting_mark_held(actor=secretariat, meeting=meeting)
    services.attendance_record(actor=secretariat, meeting=meeting, records=records)


def _elect(meeting: Meeting, secretariat) -> None:
    """A renewed term with no chair yet elects one at its first meeting, and the chair names a vice chair."""
    day = meeting.reference_date
    if officers_on(body=meeting.body, day=day).chair is not None:
        return
    term = {
        _name(a): a for a in Appointment.objects.filter(body=meeting.body).active_on(day).select_related("person")
    }
    posts = ((OfficerTerm.Role.CHAIR, committee_demo.CHAIR), (OfficerTerm.Role.VICE_CHAIR, committee_demo.VICE_CHAIR))
    for role, who in posts:
        services.meeting_record_election(actor=secretariat, meeting=meeting, role=role, appointment=term[who])
    services.seating_generate(actor=secretariat, meeting=meeting)


def _minutes_text(meeting: Meeting) -> list[tuple[str, str, str, str, str]]:
    """(agenda item title or "", speaker, speaker's role, text, basis if closed) of the demo's minutes;
    invented, and marked so."""
    guideline = guideline_in_force(body=meeting.body, day=meeting.reference_date)
    chair = officer_title(guideline, "chair")
    discussion = meeting.agenda.items.filter(parent__title="議事").order_by("position").first()
    subject = discussion.title if discussion else ""
    role = MinutesEntry.SpeakerRole
    return [
        ("開会", "事務局", role.SECRETARIAT,
         "ただいまから開会いたします。(デモ用の議事要旨で、実際の発言ではありません。)", ""),
        (subject, chair, role.PRESIDING, "それでは議事に入ります。事務局から資料1について説明をお願いします。", ""),
        (subject, "事務局", role.SECRETARIAT, "資料1に沿って、各分野の取組の状況と今後の予定を御説明します。", ""),
        (subject, "石井委員", role.MEMBER,
         "市町村への横展開について、小規模な町村でも使える支援の形を示してほしい。", ""),
        (subject, "舘田委員", role.MEMBER,
         "人材育成の取組は成果指標を数字で示し、進み具合を確認できるようにしてほしい。", ""),
        (subject, "事務局", role.SECRETARIAT, "個別事業者の経営情報を含む支援事例について説明した。",
         "委員の承諾により非公開(設置要綱第4-4)"),
        ("意見交換", chair, role.PRESIDING, "本日の御意見を踏まえ、事務局において取組を進めてください。", ""),
        ("閉会", "事務局", role.SECRETARIAT, "以上をもちまして閉会いたします。", ""),
    ]


def _results(meeting: Meeting, secretariat) -> None:
    """結果 of the 議事 recorded after the meeting (invented, and marked so); recording them again changes nothing."""
    meeting = Meeting.objects.select_related("agenda__approved_version").get(pk=meeting.pk)  # as approved now
    rows = [row for row in selectors.result_rows(meeting) if row.item.parent_id is not None]
    results = {}
    for row in rows:
        if row.title == "意見交換":
            results[row.item.pk] = (AgendaItem.Result.DISCUSSED, "")
        else:
            results[row.item.pk] = (AgendaItem.Result.NOTED, "原案のとおり了承(デモ用の結果です。)")
    if results:
        services.agenda_results_record(actor=secretariat, meeting=meeting, results=results)


def _minutes(meeting: Meeting, secretariat, member_user, chair_user) -> None:
    """議事要旨 written in the editor's services (speakers, one 非公開 passage with its basis), confirmed by the
    member account, finalised by the presiding officer, published."""
    minutes = services.minutes_start(actor=secretariat, meeting=meeting)
    if minutes.status == Minutes.Status.PUBLISHED:
        return
    if not minutes.entries.exists():
        items = {i.title: i for i in meeting.agenda.items.all()}
        speakers = {
            a.person.family_name: a
            for a in meeting.body.appointments.filter(term_start__lte=meeting.reference_date).select_related("person")
            if a.person is not None and (a.term_end is None or a.term_end >= meeting.reference_date)
        }
        for title, speaker, role, text, basis in _minutes_text(meeting):
            member = speakers.get(speaker.removesuffix("委員")) if role == MinutesEntry.SpeakerRole.MEMBER else None
            services.minutes_passage_add(
                actor=secretariat,
                meeting=meeting,
                data=services.PassageInput(
                    text=text, speaker=speaker, speaker_role=role, speaker_appointment=member,
                    agenda_item=items.get(title), is_closed=bool(basis), closed_basis=basis,
                ),
            )
    today = timezone.localdate()
    if minutes.status == Minutes.Status.DRAFT:
        confirm_by = max(meeting.reference_date + dt.timedelta(days=14), today)
        services.minutes_send_for_confirmation(actor=secretariat, meeting=meeting, confirm_by=confirm_by)
    if member_user is not None and minutes.confirmations.filter(appointment__person__user=member_user).exists():
        services.minutes_confirm(actor=member_user, meeting=meeting)
    presiding = selectors.approver_for(meeting, allow_convener=False)
    services.minutes_finalise(actor=presiding.user if presiding and presiding.user else chair_user, meeting=meeting)
    services.minutes_publish(actor=secretariat, meeting=meeting)


def _next(body: Body, secretariat, day: dt.date) -> Meeting:
    """Next month's meeting: a 次第 approved by the chair (its notice can go out), date and place fixed."""
    meeting = _near(body, day, past=False) or _new_meeting(body, secretariat, day)
    if meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED):
        _add_items(meeting, secretariat, _live_items(meeting, electing=False))
        _secretariat_attendee(meeting)
        if Agenda.objects.get(meeting=meeting).versions.count() == 0:
            _approve(meeting, secretariat)
    return meeting


REVISED_ITEM = ("報告事項", "国のデジタル施策の動向について")


def live_revise_next(*, meeting: Meeting, secretariat) -> None:
    """After its notice went out, the secretariat adds a 報告事項 to next month's 次第 and submits it again:
    the revised 次第 waits for the chair's approval."""
    agenda = Agenda.objects.get(meeting=meeting)
    if agenda.items.filter(title=REVISED_ITEM[0]).exists():
        return
    closing = agenda.items.filter(parent__isnull=True, title="閉会").first()
    item = services.agenda_item_add(actor=secretariat, meeting=meeting, title=REVISED_ITEM[0])
    services.agenda_item_add(actor=secretariat, meeting=meeting, title=REVISED_ITEM[1], parent=item)
    if closing is not None:  # before 閉会
        services.agenda_item_move(actor=secretariat, item=item, direction="up")
    services.agenda_submit(actor=secretariat, meeting=meeting)


def _planned_rest(body: Body, secretariat, after: dt.date) -> list[Meeting]:
    """The rest of the 年度 after next month's meeting: every other month, the day still to be fixed."""
    fiscal_end = fiscal_year_bounds(fiscal_year_of(after))[1]
    later = body.meetings.exclude(status=Meeting.Status.CANCELLED).filter(
        Q(start_at__date__gt=after) | Q(start_at__isnull=True, planned_month__gt=after),
        fiscal_year=fiscal_year_of(after),
    )
    if later.exists():
        return list(later)
    month = after.replace(day=1)
    months = [(month + dt.timedelta(days=31 * step)).replace(day=1) for step in (1, 2, 4)]
    months = [m for m in months if m <= fiscal_end]
    months = months[1:] or months  # every other month; in the 年度's last months, the month after
    return [services.meeting_create(actor=secretariat, body=body, planned_month=first) for first in months]


@dataclass
class Live:
    past: Meeting | None
    next: Meeting | None
    planned: list[Meeting]


@transaction.atomic
def load_live(*, today: dt.date, secretariat, member_user, chair_user) -> Live:
    """Lay out the committee's 年度 around `today` (timezone.localdate() when loading), after
    committee.demo.load_live put its members in office:

    - the past meeting, about a month ago (a weekday): held, attendance recorded, officers of a renewed
      term elected there, the 結果 of its 議事 recorded, and its 議事要旨 published (the chair, two members
      and the secretariat speak; one passage is 非公開 and left out of the public text);
    - next month's meeting (a weekday, 14:00): its 次第 approved by the chair; demo/ sends the 開催通知
      and then calls live_revise_next, so a revised 次第 waits for the chair;
    - the rest of that 年度 planned every other month, the day not yet fixed.

    A meeting of the committee within 20 days of a live day (on the same side of now) is that day's
    meeting and is taken further rather than doubled: loading twice changes nothing, and in FY2023, the
    seed's year, the live part uses the seed's meetings (loaded on 令和5年5月10日 after 14:00, the past
    meeting is the seed's 第1回, which gets minutes, and next month's is the seed's 第2回 of 6月7日, which
    gets its 次第; the seed's 第3回 and 第4回 are the rest). Before 令和5年5月10日 nothing is added.
    """
    days = committee_demo.live_days(today)
    if days is None:
        return Live(None, None, [])
    body = Body.objects.get(slug=COMMITTEE)
    past = _near(body, days.past, past=True) or _new_meeting(body, secretariat, days.past)
    _hold(past, secretariat)
    if fiscal_year_of(past.reference_date) > 2023:
        _elect(past, secretariat)
    _results(past, secretariat)
    _minutes(past, secretariat, member_user, chair_user)
    upcoming = _next(body, secretariat, days.next)
    return Live(past, upcoming, _planned_rest(body, secretariat, upcoming.reference_date))

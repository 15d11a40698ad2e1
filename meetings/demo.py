"""Demo meetings from the seed: the 策定委員会's FY2023 schedule with 第1回 in full (次第, 出席者名簿),
the milestones of the 2023年度スケジュール, and the FY2022 working group's three meetings.

The seed gives times only for 第1回 (14:00); the other meetings are shown with the time still to be
fixed. 第1回 has no minutes in the seed, so none are invented.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction

from committee.demo import COMMITTEE
from committee.models import Appointment, Body, OfficerTerm

from . import services
from .models import Agenda, Attendance, Attendee, Meeting, Milestone

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

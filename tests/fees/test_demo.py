"""The demo's example rules (例) for the 策定委員会 and the CSV of its past meeting, byte for byte."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import User
from fees.models import FeeSheet, RuleSet, Statement
from meetings.models import Meeting
from tests.fees.conftest import client_for

COMMITTEE = "「(仮称)青森県DX推進プラン」策定委員会"
TAIL = ",謝金 2023-04-13施行 (例),\r\n"
PAST_MEETING_CSV = (
    "\ufeff年度,会議体,会議,開催日,氏名,ふりがな,区分,役職,出席方法,報酬・謝金,費用弁償・旅費,支給総額,源泉徴収税額,"
    "差引支給額,状態,承認日,適用基準,備考\r\n"
    + "".join(
        f"2023,{COMMITTEE},第1回,2023-05-10,{name},{reading},謝金,{post},{mode},{amount},0,{amount},{tax},"
        f"{amount - tax},未承認,{TAIL}"
        for name, reading, post, mode, amount, tax in [
            ("池田 右文", "いけだ", "委員", "会場", 10000, 1021),
            ("石井 重成", "いしい", "委員", "会場", 10000, 1021),
            ("石澤 諒", "いしざわ", "委員", "会場", 10000, 1021),
            ("加藤 夢人", "かとう", "委員", "会場", 10000, 1021),
            ("佐藤 志穂", "さとう", "委員", "会場", 10000, 1021),
            ("立花 拓也", "たちばな", "委員", "会場", 10000, 1021),
            ("舘田 あゆみ", "たてだ", "委員", "会場", 10000, 1021),
            ("本田 政邦", "ほんだ", "委員", "会場", 10000, 1021),
            ("森 樹男", "もり", "委員長", "会場", 12000, 1225),  # chosen 委員長 at this meeting
            ("森本 登志男", "もりもと", "委員", "オンライン", 8000, 816),
            ("山内 和彦", "やまうち", "委員", "会場", 10000, 1021),
            ("蕨 加奈子", "わらび", "委員", "オンライン", 8000, 816),
        ]
    )
).encode("utf-8")


@pytest.fixture
def demo(demo_loaded, db, settings):
    """The demo, loaded once for this module (tests/conftest.py: demo_loaded); its files stay where it wrote them."""
    settings.MEDIA_ROOT = demo_loaded / "media"
    settings.DEBUG = True
    settings.VAR_DIR = demo_loaded


def past_meeting() -> Meeting:
    return Meeting.objects.get(body__slug="dx-plan-committee", number=1)


def test_the_csv_of_the_demos_past_meeting_byte_for_byte(demo):
    secretariat = User.objects.get(email="secretariat@demo.dxplan.example")
    response = client_for(secretariat).get(reverse("fees:meeting_csv", args=[past_meeting().pk]))
    assert response.status_code == 200
    assert response.content == PAST_MEETING_CSV


def test_the_demo_rules_are_an_example_and_say_so(demo):
    rule = RuleSet.objects.get()
    assert rule.is_example and rule.basis.startswith("例")
    secretariat = User.objects.get(email="secretariat@demo.dxplan.example")
    page = client_for(secretariat).get(reverse("fees:meeting", args=[past_meeting().pk])).content.decode()
    assert "例" in page


def test_the_demo_secretariat_may_approve(demo):
    secretariat = User.objects.get(email="secretariat@demo.dxplan.example")
    assert secretariat.has_perm("fees.approve_feesheet") and not secretariat.is_superuser


def test_loading_the_demo_again_changes_nothing(demo):
    before = (RuleSet.objects.count(), FeeSheet.objects.count(), Statement.history.count())
    call_command("load_demo", stdout=StringIO())
    assert (RuleSet.objects.count(), FeeSheet.objects.count(), Statement.history.count()) == before == (1, 1, 12)

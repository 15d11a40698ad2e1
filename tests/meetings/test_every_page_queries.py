"""Every page of the site runs the same number of queries with ten times the data (issue 6).

The pages are the URL matrix's (tests/test_url_matrix.py): every pattern that answers 200 to the
public, a member, the chair or the secretariat is fetched as each of them, once at the demo's size
(12 members, 4 meetings, 3 materials, a notice to everyone, minutes) and again after the data has
grown tenfold (120 members, 40 meetings, 30 materials, ten times the deliveries, agenda items and
minutes). A page added later is covered as soon as it is in the matrix.

The PDF pages' queries are all made while their HTML is rendered; WeasyPrint then lays it out without
touching the database (its fetcher reads only local fonts and static files). That layout is what made
this test slow (17 s for the notices PDF alone), so here it returns one small real PDF instead.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents.models import Material
from meetings.models import AgendaItem, Minutes, MinutesEntry
from notices.models import Delivery, Notice
from tests.meetings.conftest import add_attendance, add_meetings, add_members, add_milestones, sign_in
from tests.test_url_matrix import ANONYMOUS, CHAIR, MATRIX, MEETING, MEMBER, SECRETARIAT, STATEMENT

ROLES = (ANONYMOUS, MEMBER, CHAIR, SECRETARIAT)


def _grow(body, guideline, meeting, secretariat, notice, *, factor: int, start: int) -> None:
    members = add_members(body, guideline, start, 9 * factor if factor == 1 else 108)
    add_attendance(meeting, members, held=True, replied_by=secretariat)
    add_meetings(body, 100 + start, 3 if factor == 1 else 36)
    add_milestones(body, 4 if factor == 1 else 36)
    count = 3 if factor == 1 else 27
    Material.objects.bulk_create(
        Material(meeting=meeting, label=f"資料{start + i}", title="資料", visibility=visibility, position=start + i)
        for i in range(count)
        for visibility in [("public", "members", "secretariat")[i % 3]]
    )
    items = 3 if factor == 1 else 27
    AgendaItem.objects.bulk_create(
        AgendaItem(agenda=meeting.agenda, title=f"議題{start + i}", position=100 + start + i) for i in range(items)
    )
    minutes, _ = Minutes.objects.get_or_create(meeting=meeting)
    MinutesEntry.objects.bulk_create(
        MinutesEntry(minutes=minutes, position=start + i, speaker="委員", text="意見を述べた。")
        for i in range(2 if factor == 1 else 18)
    )
    Delivery.objects.bulk_create(
        Delivery(notice=notice, person=a.person, email=f"m{a.person.pk}@bulk.example", state="sent") for a in members
    )


def _fee_statement(meeting, secretariat, member) -> str:
    """(Re)compute the meeting's fee statements (issue 18) under an example rule; the member's statement."""
    from fees import services as fee_services
    from fees.models import RuleSet, Statement

    if not RuleSet.objects.filter(body=meeting.body).exists():
        fee_services.rule_set_create(
            actor=None, body=meeting.body, effective_on=meeting.date, kind="honorarium",
            rates={"member": (10000, 8000)}, withholding="rate", withholding_rate=Decimal("10.21"),
        )  # fmt: skip
    fee_services.statements_compute(actor=secretariat, meeting=meeting)
    return str(Statement.objects.get(sheet__meeting=meeting, person__user=member).pk)


def _pages(meeting, statement: str) -> list[tuple[str, str, str]]:
    """(name, role, url) for every matrix case that answers 200 to one of ROLES."""
    placeholders = {MEETING: str(meeting.pk), STATEMENT: statement}
    pages = []
    for name, cases in MATRIX.items():
        for case in cases:
            if case.private_body:
                continue
            kwargs = {key: placeholders.get(value, value) for key, value in case.kwargs.items()}
            for role in ROLES:
                if case.expected[role] == 200:
                    pages.append((name, role, reverse(name, kwargs=kwargs)))
    return pages


def _count(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return response.status_code, len(queries)


@pytest.fixture(autouse=True)
def _pdf_layout_skipped(monkeypatch):
    from documents import pdf

    one_page = pdf.html_to_pdf("<p>1</p>")
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html, *, base_url=None: one_page)


@pytest.fixture
def clients(secretariat, chair, member):
    clients = {ANONYMOUS: Client()}
    for role, user in ((MEMBER, member), (CHAIR, chair), (SECRETARIAT, secretariat)):
        clients[role] = Client()
        sign_in(clients[role], user)
    return clients


def test_every_page_runs_the_same_queries_with_ten_times_the_data(
    held, body, guideline, secretariat, member, clients, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    notice = Notice.objects.create(
        meeting=held, kind=Notice.Kind.CONVOCATION, subject="開催通知", created_by=secretariat
    )
    _grow(body, guideline, held, secretariat, notice, factor=1, start=0)
    pages = _pages(held, _fee_statement(held, secretariat, member))
    for _name, role, url in pages:
        _count(clients[role], url)  # fills the caches (content types, templates, sessions)
    before = {(name, role): _count(clients[role], url) for name, role, url in pages}

    _grow(body, guideline, held, secretariat, notice, factor=10, start=1000)
    _fee_statement(held, secretariat, member)
    assert held.attendances.filter(appointment__isnull=False).count() == 120
    assert held.materials.count() == 30

    answered = [key for key, (status, _) in before.items() if status == 200]
    assert len(answered) >= 40, sorted(before.items())
    grew = []
    for name, role, url in pages:
        if before[(name, role)][0] != 200:
            continue
        status, queries = _count(clients[role], url)
        if (status, queries) != before[(name, role)]:
            grew.append(f"{name} as {role} ({url}): {before[(name, role)]} -> {(status, queries)}")
    assert not grew, "pages whose status or query count changed with ten times the data:\n" + "\n".join(grew)

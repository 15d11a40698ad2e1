"""The fee pages: who sees what, the secretariat's forms, the downloads, and fixed query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditEntry
from fees import services
from fees.models import FeeSheet, PayeeSetting, RuleSet, Statement
from meetings.models import Attendance
from tests.fees.conftest import client_for, hold, honorarium, later_meeting
from tests.meetings.conftest import add_attendance, add_members


@pytest.fixture
def computed(body, held, secretariat):
    honorarium(body)
    services.statements_compute(actor=secretariat, meeting=held)
    return held


def own(meeting, user) -> Statement:
    return Statement.objects.get(sheet__meeting=meeting, person__user=user)


# --- members see their own, nobody else's ------------------------------------------------------------


def test_a_member_sees_their_own_statement(computed, member):
    client = client_for(member)
    page = client.get(reverse("fees:my"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "8,979" in text and "10,775" not in text  # the member's net, not the chair's
    assert client.get(reverse("fees:my_statement", args=[own(computed, member).pk])).status_code == 200


def test_nobody_else_sees_a_members_statement(computed, member, chair, vice_chair, outsider, other_secretariat):
    url = reverse("fees:my_statement", args=[own(computed, member).pk])
    for user in (chair, vice_chair, outsider, other_secretariat):
        assert client_for(user).get(url).status_code == 404, user
    assert "8,979" not in client_for(chair).get(reverse("fees:my")).content.decode()


def test_my_meetings_links_to_my_fees(member, in_term):
    page = client_for(member).get(reverse("meetings:my_meetings"))
    assert reverse("fees:my") in page.content.decode()


# --- the secretariat's pages ---------------------------------------------------------------------------


def test_the_secretariat_computes_and_the_approver_approves_in_the_site(body, held, secretariat, approver):
    honorarium(body)
    client = client_for(approver)
    assert client.get(reverse("fees:meeting", args=[held.pk])).status_code == 200
    response = client.post(reverse("fees:meeting_action", args=[held.pk, "compute"]))
    assert response.status_code == 302
    assert Statement.objects.filter(sheet__meeting=held).count() == 3
    client.post(reverse("fees:meeting_action", args=[held.pk, "approve"]))
    assert FeeSheet.objects.get(meeting=held).status == FeeSheet.Status.APPROVED
    again = client.post(reverse("fees:meeting_action", args=[held.pk, "approve"]), follow=True)
    assert "既に承認されています" in again.content.decode()  # the page speaks Japanese by default
    assert AuditEntry.objects.filter(action="fees_approved").count() == 1


def test_a_secretariat_without_the_right_cannot_approve(computed, clerk):
    response = client_for(clerk).post(reverse("fees:meeting_action", args=[computed.pk, "approve"]))
    assert response.status_code == 404
    assert FeeSheet.objects.get(meeting=computed).status == FeeSheet.Status.OPEN


def test_other_secretariats_and_members_cannot_touch_a_meetings_fees(computed, other_secretariat, chair, member):
    for user in (other_secretariat, chair, member):
        client = client_for(user)
        assert client.get(reverse("fees:meeting", args=[computed.pk])).status_code == 404
        assert client.post(reverse("fees:meeting_action", args=[computed.pk, "compute"])).status_code == 404
        assert client.get(reverse("fees:meeting_csv", args=[computed.pk])).status_code == 404


def test_a_correction_through_the_form(computed, secretariat, member):
    statement = own(computed, member)
    url = reverse("fees:statement_correct", args=[statement.pk])
    client = client_for(secretariat)
    missing = client.post(url, {"base_override": "5000", "reason": ""})
    assert missing.status_code == 200 and Statement.objects.get(pk=statement.pk).base_amount == 10000
    client.post(url, {"base_override": "5000", "reason": "途中退席のため半額"})
    assert Statement.objects.get(pk=statement.pk).net_amount == 4490
    page = client.get(url)
    assert "途中退席のため半額" in page.content.decode()


def test_rules_are_entered_in_the_site(body, secretariat, in_term):
    client = client_for(secretariat)
    url = reverse("fees:rule_set_create", args=[body.slug])
    data = {
        "effective_on": "2023-04-01",
        "kind": "remuneration",
        "member_venue": "9800",
        "member_online": "9800",
        "chair_venue": "11500",
        "travel": "band",
        "bands": "25 600\n50 1,200\n- 4800",
        "withholding": "table",
        "rounding": "floor",
    }
    bad = client.post(url, {**data, "bands": "fifty 1200"})
    assert bad.status_code == 200 and "1行目" in bad.content.decode()
    assert not RuleSet.objects.exists()
    assert client.post(url, data).status_code == 302
    rule = RuleSet.objects.get()
    assert [(b.up_to_km, b.amount) for b in rule.bands.all()] == [(25, 600), (50, 1200), (None, 4800)]
    assert {r.post: (r.venue_amount, r.online_amount) for r in rule.rates.all()} == {
        "member": (9800, 9800),
        "chair": (11500, 9800),
    }
    assert client.get(reverse("fees:body", args=[body.slug])).status_code == 200


def test_payees_are_set_in_the_site(body, secretariat, member, chair, in_term):
    client = client_for(secretariat)
    url = reverse("fees:payees", args=[body.slug])
    assert client.get(url).status_code == 200
    person = member.person
    refused = client.post(url, {f"excluded_{person.pk}": "on", f"reason_{person.pk}": ""})
    assert refused.status_code == 200 and not PayeeSetting.objects.exists()
    client.post(
        url, {f"excluded_{person.pk}": "on", f"reason_{person.pk}": "県職員", f"distance_{chair.person.pk}": "12"}
    )
    assert PayeeSetting.objects.get(person=person).excluded_reason == "県職員"
    assert PayeeSetting.objects.get(person=chair.person).distance_km == 12


def test_downloads_are_attachments(computed, secretariat):
    client = client_for(secretariat)
    csv = client.get(reverse("fees:meeting_csv", args=[computed.pk]))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"].startswith('attachment; filename="fees-meeting-')
    assert "no-store" in csv["Cache-Control"] and "private" in csv["Cache-Control"]
    pdf = client.get(reverse("fees:meeting_pdf", args=[computed.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    # A Japanese document whatever the page language: 和暦, 委員長, the amounts.
    assert "支出内訳" in text and "委員長" in text and "令和5年6月7日" in text and "8,979" in text


def test_the_year_page_sums_approved_statements_per_person(computed, approver, member):
    services.sheet_approve(actor=approver, meeting=computed)
    client = client_for(approver)
    page = client.get(reverse("fees:year", args=[computed.body.slug, 2023])).content.decode()
    assert "10,775" in page and "8,979" in page and "19,754" in page  # chair, member, total
    year_csv = client.get(reverse("fees:year_csv", args=[computed.body.slug, 2023]))
    assert year_csv.content.decode("utf-8-sig").count("\r\n") == 3  # heading, chair, member
    people = client.get(reverse("fees:year_people_csv", args=[computed.body.slug, 2023])).content.decode("utf-8-sig")
    assert people.split("\r\n")[0].startswith("年度,会議体,氏名,ふりがな,区分,回数,報酬・謝金")
    assert "森 樹男,もり,謝金,1,12000,0,12000,1225,10775,0" in people


# --- fixed queries at ten times the demo ------------------------------------------------------------


@pytest.fixture
def large(body, held, secretariat, guideline):
    """120 more members present at the meeting (the demo has 12), all with statements."""
    honorarium(body)
    appointments = add_members(body, guideline, 1, 120)
    add_attendance(held, appointments, held=True)
    services.statements_compute(actor=secretariat, meeting=held)
    return held


def test_pages_run_a_fixed_number_of_queries(large, secretariat, django_assert_max_num_queries):
    assert (
        Statement.objects.filter(sheet__meeting=large).count() == 123
    )  # the chair, the vice chair (absent), the member and 120 more
    client = client_for(secretariat)
    urls = [
        reverse("fees:meeting", args=[large.pk]),
        reverse("fees:meeting_csv", args=[large.pk]),
        reverse("fees:year", args=[large.body.slug, 2023]),
        reverse("fees:year_csv", args=[large.body.slug, 2023]),
        reverse("fees:year_people_csv", args=[large.body.slug, 2023]),
        reverse("fees:body", args=[large.body.slug]),
        reverse("fees:payees", args=[large.body.slug]),
    ]
    for url in urls:
        client.get(url)  # warm the session
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == 200, url


def test_the_members_page_runs_a_fixed_number_of_queries(
    body, secretariat, member, guideline, held, django_assert_max_num_queries
):
    honorarium(body)
    services.statements_compute(actor=secretariat, meeting=held)
    for n in range(10):  # ten more held meetings with the member's statement
        later = later_meeting(body, secretariat, dt.date(2023, 7, 1) + dt.timedelta(days=7 * n))
        hold(later, secretariat, {member: (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)})
        with time_machine.travel(later.start_at + dt.timedelta(days=1), tick=False):
            services.statements_compute(actor=secretariat, meeting=later)
    client = client_for(member)
    client.get(reverse("fees:my"))
    with django_assert_max_num_queries(10):
        page = client.get(reverse("fees:my"))
    assert page.content.decode().count("8,979") >= 11


def test_the_dashboard_and_the_meeting_page_lead_to_the_fees(body, held, secretariat):
    client = client_for(secretariat)
    assert reverse("fees:body", args=[body.slug]) in client.get(reverse("meetings:dashboard")).content.decode()
    assert (
        reverse("fees:meeting", args=[held.pk])
        in client.get(reverse("meetings:manage", args=[held.pk])).content.decode()
    )

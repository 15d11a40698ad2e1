"""Concurrent approvals and an attendance change racing an approval end in one consistent state
(SECURITY.md). PostgreSQL row locks: skipped on SQLite, run in CI."""

from __future__ import annotations

import threading

import pytest

from core.models import AuditEntry
from fees import services
from fees.models import FeeSheet, Statement
from fees.services import FeeError
from tests.fees.conftest import PRESENT_ONLINE, hold, honorarium
from tests.meetings.test_services import _in_thread, needs_row_locks


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_record_one(body, held, secretariat, approver):
    honorarium(body)
    services.statements_compute(actor=secretariat, meeting=held)
    start, refused = threading.Barrier(2), []

    def approve():
        start.wait(30)  # a loaded machine may start a thread late
        try:
            services.sheet_approve(actor=approver, meeting=held)
        except FeeError:
            refused.append(True)

    threads = [_in_thread(approve), _in_thread(approve)]
    for thread in threads:
        thread.join(60)
    assert not any(thread.errors for thread in threads), [thread.errors for thread in threads]
    assert refused == [True]
    assert FeeSheet.objects.get(meeting=held).status == FeeSheet.Status.APPROVED
    assert AuditEntry.objects.filter(action="fees_approved").count() == 1


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_an_attendance_change_racing_an_approval_leaves_the_statements_matching_attendance(
    body, held, secretariat, approver, member
):
    honorarium(body)
    services.statements_compute(actor=secretariat, meeting=held)
    start = threading.Barrier(2)

    def approve():
        start.wait(30)  # a loaded machine may start a thread late
        try:
            services.sheet_approve(actor=approver, meeting=held)
        except FeeError:
            pass

    def change():
        start.wait(30)  # a loaded machine may start a thread late
        hold(held, secretariat, {member: PRESENT_ONLINE})

    threads = [_in_thread(approve), _in_thread(change)]
    for thread in threads:
        thread.join(60)
    assert not any(thread.errors for thread in threads), [thread.errors for thread in threads]
    statement = Statement.objects.get(sheet__meeting=held, person__user=member)
    assert (statement.mode, statement.base_amount) == ("online", 7500)
    sheet = FeeSheet.objects.get(meeting=held)
    # Either the approval came first and the change reopened it, or the change came first and the
    # approval approved the new amounts: never an approval of amounts attendance no longer supports.
    reopened = AuditEntry.objects.filter(action="fees_reopened").exists()
    assert (sheet.status == FeeSheet.Status.OPEN) == reopened

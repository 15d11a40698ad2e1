"""Faults on the way from a notice to the mailbox (issue 5, Acceptance; SECURITY.md "Notices (Celery)"):
the broker down when the notice is written, the worker killed in the middle of a batch, a task run twice,
a rolled-back transaction, one invalid address among fifty.

The relay re-queues pending deliveries after REQUEUE_AFTER (60 s) and 'sending' ones once their lease
(STALE_AFTER, 30 s) ran out. Rather than wait that long, a test moves the rows' times back by that much
before it runs the relay: what the relay would see had it run on schedule that much later.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.db import transaction
from django.utils import timezone

from tests.integration.conftest import (
    build_committee,
    deliveries,
    free_port,
    set_broker,
    states,
    wait_for,
    wait_settled,
)

pytestmark = pytest.mark.integration


def _send(committee, kind="convocation"):
    from notices import services

    return services.notice_send(actor=committee.secretariat, meeting=committee.meeting, kind=kind)


def _later(notice, *, by: dt.timedelta) -> int:
    """Move the queue and claim times of the notice's unfinished deliveries `by` into the past."""
    from notices.models import Delivery

    moved = 0
    fields = ["queued_at", "claimed_at", "lease_until", "retry_at"]
    for d in Delivery.objects.filter(notice=notice, state__in=["pending", "sending"]):
        for name in fields:
            value = getattr(d, name)
            setattr(d, name, value - by if value else None)
        d.save(update_fields=fields)
        moved += 1
    return moved


def _run_relay(worker):
    """The periodic relay, run by the real worker (as beat would queue it)."""
    from notices import tasks

    before = worker.finished("notices.tasks.relay")
    tasks.relay.delay()
    wait_for(lambda: worker.finished("notices.tasks.relay") > before, timeout=20, message="the worker to run the relay")


def _assert_once_each(smtp, committee):
    counts = smtp.per_recipient(committee.addresses)
    missing = committee.addresses - set(counts)
    assert not missing, f"never received: {sorted(missing)}"
    twice = {a: n for a, n in counts.items() if n > 1}
    assert not twice, f"received more than once: {twice}"


def _stale_by():
    from notices import services

    return max(services.REQUEUE_AFTER, services.STALE_AFTER) + dt.timedelta(seconds=5)


def test_broker_down_when_written_then_relay_sends_each_once(worker, smtp, celery_live):
    """The broker is unreachable when the notice is written: the notice and its deliveries are committed
    all the same and stay pending; once the broker is back the relay sends each mail once."""
    from notices.models import Delivery, Notice

    committee = build_committee(members=12)
    good_broker = celery_live.conf.broker_url
    set_broker(celery_live, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    raised = None
    started = time.monotonic()
    try:
        notice = _send(committee)
    except Exception as exc:  # noqa: BLE001 - reported below, after the rest has been checked
        raised = exc
    finally:
        set_broker(celery_live, good_broker)
    took = time.monotonic() - started

    notice = Notice.objects.filter(meeting=committee.meeting, kind="convocation").first()
    assert notice is not None, f"the notice was not committed (notice_send raised {raised!r})"
    assert raised is None, f"notice_send raised {raised!r} although the notice was committed"
    assert took < 20, f"notice_send took {took:.1f} s with the broker down"
    assert states(notice) == {"pending": 12}
    time.sleep(1.0)
    assert smtp.count() == 0, "nothing can have been queued"

    # The next relay: the deliveries were written (and a queueing attempted) more than a minute ago.
    _later(notice, by=_stale_by())
    _run_relay(worker)
    wait_settled(notice, timeout=30, expected=12)
    wait_for(lambda: len(smtp.per_recipient(committee.addresses)) == 12, timeout=10, message="twelve mails")
    assert states(notice) == {"sent": 12}
    _assert_once_each(smtp, committee)
    assert Delivery.objects.filter(notice=notice, message_id__isnull=True).count() == 0


def test_worker_killed_mid_batch_every_recipient_gets_it_once(worker, smtp):
    """SIGKILL the worker (and its pool) while a batch of thirty is going out; a new worker and the relay
    finish the batch. The batch task claimed all thirty at once; it marks accepted mails sent MARK_EVERY at
    a time, or each on its own when a mail takes longer than MARK_WITHIN (here the server takes 0.2 s). So
    a duplicate is possible only for a mail the server had accepted and whose row was not marked yet: here
    at most the one in flight at the kill (documented in notices.outbox)."""
    from notices import outbox

    assert outbox.MARK_WITHIN < 0.2
    committee = build_committee(members=30)
    smtp.delay = 0.2
    notice = _send(committee)
    wait_for(lambda: smtp.count() >= 8, timeout=30, message="eight mails before the kill")
    worker.kill()
    time.sleep(0.5)  # a DATA the server was still answering when the client died is recorded by now
    at_kill = smtp.count()
    smtp.delay = 0.0
    assert at_kill < 30, "the batch finished before the kill; slow the SMTP server down"
    rows_at_kill = {d.email.lower(): d for d in deliveries(notice)}
    received_at_kill = {r.lower() for m in smtp.snapshot() for r in m.rcpt_tos}
    sent_at_kill = {a for a, d in rows_at_kill.items() if d.state == "sent"}
    claimed_at_kill = {a for a, d in rows_at_kill.items() if d.state == "sending"}
    assert sent_at_kill <= received_at_kill, "a row marked sent whose mail never arrived"
    assert len(claimed_at_kill) > 1, "the batch was claimed as a whole"
    # accepted by the server, not marked when the worker died: the only ones that may come twice
    unmarked = claimed_at_kill & received_at_kill
    assert len(unmarked) <= 1, (unmarked, {a: d.state for a, d in rows_at_kill.items()})

    # The relay runs later (the rows are moved back while no worker runs: moving a row a live worker is
    # sending would fake a stale claim). A new worker takes the rest of the queue; the relay takes what the
    # dead one held and queues the pending ones again, which the claim turns into no-ops.
    _later(notice, by=_stale_by())
    worker.start()
    _run_relay(worker)
    rows = wait_settled(notice, timeout=45, expected=30)
    assert {d.state for d in rows} == {"sent"}, {d.email: (d.state, d.last_error) for d in rows if d.state != "sent"}
    wait_for(lambda: len(smtp.per_recipient(committee.addresses)) == 30, timeout=10, message="thirty recipients")
    time.sleep(0.5)  # let any (wrong) late duplicate arrive before counting

    counts = smtp.per_recipient(committee.addresses)
    assert set(counts) == committee.addresses, f"never received: {sorted(committee.addresses - set(counts))}"
    twice = {a: n for a, n in counts.items() if n > 1}
    assert all(n == 2 for n in twice.values()), twice
    assert set(twice) <= unmarked, (
        f"{sorted(twice)} got two mails but only {sorted(unmarked)} had been accepted and not marked at the kill; "
        f"rows at the kill: { {a: d.state for a, d in rows_at_kill.items()} }"
    )


def test_a_task_run_twice_sends_one_mail(worker, smtp):
    """The same delivery queued again, once while the first run (the notice's batch task) is sending and
    twice after it is sent, and run once more in this process: one mail."""
    from notices import tasks

    committee = build_committee(members=1)
    smtp.delay = 1.0  # the worker's first run is still talking to the SMTP server…
    notice = _send(committee)
    [delivery] = deliveries(notice)
    wait_for(lambda: deliveries(notice)[0].state == "sending", timeout=15, message="the worker to claim it")
    tasks.deliver.delay(delivery.pk)  # …when a second copy arrives (queued behind it)
    try:
        tasks.deliver.apply(args=[delivery.pk])  # and a third runs here, concurrently
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"a second run of a claimed delivery raised {exc!r}")
    wait_settled(notice, timeout=20, expected=1)
    smtp.delay = 0.0
    tasks.deliver.delay(delivery.pk)
    tasks.deliver.delay(delivery.pk)
    # every run the worker received has finished: the first, the one queued while sending, these two
    wait_for(
        lambda: worker.finished("notices.tasks.deliver") + worker.finished("notices.tasks.deliver_batch") >= 4,
        timeout=20,
        message=f"the worker to run the task four times:\n{worker.log_tail()}",
    )
    time.sleep(0.3)
    assert smtp.count() == 1, [m.rcpt_tos for m in smtp.snapshot()]
    d = deliveries(notice)[0]
    assert d.state == "sent" and d.attempts == 1, (d.state, d.attempts)


def test_rolled_back_transaction_sends_nothing(worker, smtp):
    """notice_send inside an action that then fails: no notice, no delivery, no task, no mail."""
    from notices.models import Delivery, Notice

    committee = build_committee(members=12)

    class RolledBackError(Exception):
        pass

    with pytest.raises(RolledBackError), transaction.atomic():
        _send(committee)
        raise RolledBackError
    assert Notice.objects.count() == 0
    assert Delivery.objects.count() == 0
    committee.meeting.refresh_from_db()
    assert committee.meeting.status == "planned"

    # The same notice sent for real afterwards goes out once each: the worker was there to send anything
    # the rolled-back one might have queued, and the queue is processed in order.
    notice = _send(committee)
    wait_settled(notice, timeout=30, expected=12)
    wait_for(lambda: len(smtp.per_recipient(committee.addresses)) == 12, timeout=10, message="twelve mails")
    time.sleep(0.3)
    assert smtp.count() == 12
    _assert_once_each(smtp, committee)


def test_one_invalid_address_among_fifty(worker, smtp):
    """The SMTP server refuses one recipient (550): forty-nine sent, one failed with the reason, tried once."""
    committee = build_committee(members=50, bad={37})
    bad = "bad-m037@members.test"
    smtp.refuse = {bad}
    started = timezone.now()
    notice = _send(committee)
    rows = wait_settled(notice, timeout=60, expected=50)
    by_state = {d.email.lower(): d for d in rows}
    failed = [d for d in rows if d.state == "failed"]
    assert [d.email for d in failed] == [bad], [(d.email, d.state, d.last_error) for d in rows if d.state != "sent"]
    assert sum(d.state == "sent" for d in rows) == 49
    reason = by_state[bad].last_error
    assert "550" in reason and bad in reason or "User unknown" in reason or "rejected" in reason.lower(), reason
    assert by_state[bad].attempts == 1, "a permanent refusal is not retried"

    good = committee.addresses - {bad}
    counts = smtp.per_recipient(good)
    assert set(counts) == good and set(counts.values()) == {1}
    assert smtp.refused == [bad]
    assert not smtp.to(bad)

    # shown to the secretariat: the failed delivery, its reason and a resend button on the notices page,
    # and nothing to resend for the forty-nine that were sent
    from django.test import Client
    from django.urls import reverse

    from notices import selectors

    assert [d.email for d in selectors.failed_deliveries(notice)] == [bad]
    secretariat = Client()
    secretariat.force_login(committee.secretariat, backend="django.contrib.auth.backends.ModelBackend")
    page = secretariat.get(reverse("notices:status", args=[committee.meeting.pk]), follow=False)
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    assert bad in html
    assert reverse("notices:resend", args=[by_state[bad].pk]) in html
    resend_buttons = re.findall(reverse("notices:resend", args=[0]).replace("/0/", r"/\d+/"), html)
    assert resend_buttons == [reverse("notices:resend", args=[by_state[bad].pk])], "one resend button, for it"
    assert started <= notice.created_at


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_temporary_smtp_error_is_retried_and_sent_once(worker, smtp, stage):
    """A 451 (greylisting) answered twice for one recipient, at RCPT or at the end of DATA: the delivery
    is retried with backoff and sent once; the others are not held up."""
    committee = build_committee(members=3)
    grey = "m002@members.test"
    getattr(smtp, f"defer_{stage}")[grey] = 2
    notice = _send(committee)
    rows = wait_settled(notice, timeout=40, expected=3)
    by_email = {d.email.lower(): d for d in rows}
    assert by_email[grey].state == "sent", (by_email[grey].state, by_email[grey].last_error)
    assert smtp.deferred == [grey, grey], smtp.deferred
    assert by_email[grey].attempts == 3
    _assert_once_each(smtp, committee)

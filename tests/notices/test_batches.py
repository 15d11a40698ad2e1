"""The batch task: one claim, one SMTP connection, per-recipient outcomes, a lost connection."""

import smtplib

import pytest

from notices import outbox, services
from notices.addressing import message_id_for
from notices.models import Delivery, Notice
from tests.meetings.conftest import appoint_others

pytestmark = pytest.mark.django_db


class Server:
    """smtplib.SMTP stand-in: records connections and mails; answers by address."""

    connections: list = []
    refuse: dict = {}  # address -> (code, text) at RCPT
    drop_after: int | None = None  # the connection is lost at this mail (0-based count over all)
    sent: list = []

    def __init__(self, *args, **kwargs):
        Server.connections.append(self)

    def sendmail(self, sender, recipients, data):
        if Server.drop_after is not None and len(Server.sent) >= Server.drop_after:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        refused = {r: Server.refuse[r] for r in recipients if r in Server.refuse}
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        Server.sent.append((recipients, data))
        return refused

    def quit(self):
        pass

    def close(self):
        pass


@pytest.fixture
def server(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    monkeypatch.setattr("django.core.mail.backends.smtp.smtplib.SMTP", Server)
    Server.connections, Server.refuse, Server.drop_after, Server.sent = [], {}, None, []
    return Server


@pytest.fixture
def notice(approved, meeting, secretariat, chair, member, unit_email, django_capture_on_commit_callbacks):
    """A 開催通知 to eight members with addresses, written and not yet sent."""
    for n, appointment in enumerate(appoint_others(meeting.body, 6)):
        person = appointment.person
        person.email = f"other{n}@test.example"
        person.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=False):
        return services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)


def ids(notice):
    return list(notice.deliveries.order_by("pk").values_list("pk", flat=True))


def send_deliveries(ids):
    return outbox.send("delivery", ids)


def due_now():
    """Move every waiting retry to now, as if its backoff had passed."""
    Delivery.objects.filter(state="pending").update(retry_at=None)


def test_a_batch_goes_over_one_connection_and_is_marked_sent(server, notice, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):  # whatever the batch's size
        outcome = send_deliveries(ids(notice))
    # eight members and one copy to the secretariat, each a message of its own with one envelope recipient
    assert (outcome.claimed, outcome.sent, outcome.failed) == (9, 9, 0)
    assert len(server.connections) == 1 and len(server.sent) == 9
    assert all(len(recipients) == 1 for recipients, _data in server.sent)
    assert set(notice.deliveries.values_list("state", flat=True)) == {"sent"}
    assert send_deliveries(ids(notice)).claimed == 0  # run again: nothing to claim, nothing sent
    assert len(server.sent) == 9


def test_per_recipient_refusals_in_a_batch(server, notice):
    server.refuse = {"other1@test.example": (550, b"5.1.1 no such user"), "other2@test.example": (451, b"greylisted")}
    outcome = send_deliveries(ids(notice))
    rows = {d.email: d for d in notice.deliveries.all()}
    assert rows["other1@test.example"].state == "failed" and "550" in rows["other1@test.example"].last_error
    assert rows["other2@test.example"].state == "pending" and "451" in rows["other2@test.example"].last_error
    assert [pk for ids in outcome.retry.values() for pk in ids] == [rows["other2@test.example"].pk]
    assert sum(d.state == "sent" for d in rows.values()) == 7  # six members and the copy
    # the greylisted one later: sent, on its second attempt
    server.refuse = {}
    due_now()
    send_deliveries(ids(notice))
    row = Delivery.objects.get(email="other2@test.example")
    assert row.state == "sent" and row.attempts == 2


def test_a_lost_connection_leaves_the_rest_pending_for_a_retry(server, notice):
    server.drop_after = 3
    outcome = send_deliveries(ids(notice))
    rows = list(notice.deliveries.order_by("pk"))
    assert [d.state for d in rows] == ["sent"] * 3 + ["pending"] * 6
    assert rows[3].attempts == 1  # the one being sent when the connection dropped: tried
    assert {d.attempts for d in rows[4:]} == {0}  # never tried: no attempt counted
    assert all("SMTPServerDisconnected" in d.last_error or "closed" in d.last_error for d in rows[3:])
    assert outcome.retrying == 6
    server.drop_after = None
    due_now()
    send_deliveries(ids(notice))
    assert set(notice.deliveries.values_list("state", flat=True)) == {"sent"}
    assert len(server.sent) == 9  # none twice


def test_the_lease_is_renewed_while_a_batch_is_sent(server, notice, monkeypatch):
    """A slow batch keeps its rows: the lease is renewed every third of it, so no relay takes them back."""
    from django.utils import timezone

    clock = {"now": timezone.now()}
    monkeypatch.setattr("notices.outbox.time.monotonic", lambda: clock["now"].timestamp())

    def slow_sendmail(sender, recipients, data):
        clock["now"] += services.LEASE / 2  # every mail takes half a lease
        server.sent.append((recipients, data))
        return {}

    monkeypatch.setattr(Server, "sendmail", staticmethod(slow_sendmail))
    claimed = []
    real_renew = services.mail_renew
    monkeypatch.setattr(services, "mail_renew", lambda *a: claimed.append(len(a[1])) or real_renew(*a))
    outcome = send_deliveries(ids(notice))
    assert outcome.sent == 9
    assert len(claimed) >= 4  # renewed between mails, for the rows still held
    assert claimed == sorted(claimed, reverse=True)


def test_notice_send_queues_batches(approved, meeting, secretariat, chair, member, monkeypatch,
                                    django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    monkeypatch.setattr("notices.tasks.deliver_batch.delay", lambda batch: queued.append(batch))
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    assert queued == [[pk] for pk in ids(notice)]
    assert all(d.message_id == message_id_for(notice.pk, d.pk) for d in notice.deliveries.all())


def test_a_large_send_is_shared_evenly_among_the_worker_processes():
    """1,001 deliveries go in 8 tasks of at most 126 rows (2 worker processes take 4 each), not 5 of 200 and
    one of 1, of which the last runs alone; a small send stays in one task, none gets fewer than 50."""
    sizes = {n: services.batch_size(n) for n in (1, 40, 50, 100, 400, 1001, 1600, 5000)}
    assert sizes == {1: 50, 40: 50, 50: 50, 100: 50, 400: 50, 1001: 126, 1600: 200, 5000: 200}


def test_notice_send_queues_batches_of_batch_size(approved, meeting, secretariat, chair, member, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(services, "MIN_BATCH", 1)
    monkeypatch.setattr(services, "BATCHES", 2)
    monkeypatch.setattr("notices.tasks.deliver_batch.delay", lambda batch: queued.append(batch))
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    every = ids(notice)
    assert len(every) >= 2 and [pk for batch in queued for pk in batch] == every
    assert len(queued) == 2 and len(queued[0]) == services.batch_size(len(every)) == (len(every) + 1) // 2


def test_notice_send_works_out_the_roster_of_the_day_once(approved, meeting, secretariat, chair, member, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    """The recipients and the attendance rows the answer links point to come from one roster (at 1,000 members
    each working out took about 0.2 s of the notice's 0.9 s: bench/notices_throughput.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from committee.models import Affiliation
    from meetings import selectors as meeting_selectors
    from meetings.models import Attendance

    calls = []
    original = meeting_selectors.invited_members
    monkeypatch.setattr(
        meeting_selectors, "invited_members", lambda m, **kwargs: calls.append(m.pk) or original(m, **kwargs)
    )
    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    assert calls == [meeting.pk]
    # Names and addresses only: the 所属 are not read (prefetching them cost a queryset per member, about a
    # third of the notice's time at 1,000 members).
    assert not [q["sql"] for q in queries.captured_queries if Affiliation._meta.db_table in q["sql"]]
    invited = {a.pk for a in original(meeting)}
    assert set(Attendance.objects.filter(meeting=meeting).values_list("appointment_id", flat=True)) == invited
    recipients = notice.deliveries.filter(role=Delivery.Role.RECIPIENT)
    assert {d.person_id for d in recipients} == {a.person_id for a in original(meeting)}


def test_prepared_bytes_go_to_smtplib_without_the_backend_parsing_their_addresses(server, notice, monkeypatch):
    """MessageBuilder.raw sanitised the addresses already; the backend's parsing of both addresses of every
    message took about a tenth of the worker's time per mail (py-spy on bench/notices_throughput.py)."""
    monkeypatch.setattr(
        "django.core.mail.backends.smtp.sanitize_address", lambda *args: pytest.fail("addresses parsed again")
    )
    outcome = send_deliveries(ids(notice))
    assert (outcome.sent, outcome.failed) == (9, 0)
    assert len(server.connections) == 1 and len(server.sent) == 9


def test_a_runs_bookkeeping_does_not_wait_for_the_disk_and_leaves_the_connection_as_it_was(server, notice,
                                                                                             monkeypatch):
    """On PostgreSQL the claims and marks of a run commit with synchronous_commit off (a commit cost 5.6 ms
    waiting for the disk here, 0.3 ms without, and a batch commits about once per 20 mails); the setting is
    the connection's again once the run ends, whatever happened."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    seen = []
    real = Server.sendmail
    monkeypatch.setattr(Server, "sendmail", lambda self, *args: seen.append(setting()) or real(self, *args))
    before = setting()
    outcome = outbox.send("delivery", ids(notice))
    assert outcome.sent == len(seen) >= 8 and set(seen) == {"off"} and before == "on"
    assert setting() == "on"
    Server.drop_after = 0  # a run that fails leaves it as it was too
    Delivery.objects.filter(notice=notice).update(state=Delivery.State.PENDING)
    outbox.send("delivery", ids(notice))
    assert setting() == "on"

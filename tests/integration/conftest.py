"""Integration fixtures: a real SMTP server (aiosmtpd), a real `celery worker` process on Redis and the
PostgreSQL test database, and a committee with a meeting whose 次第 is approved.

Needs PostgreSQL (the worker, a separate process, must see the test database; SQLite's test database
lives in memory), CELERY_BROKER_URL pointing at a reachable Redis, and aiosmtpd. Where one is missing
the tests skip with the reason; CI (DXPLAN_CI_STRICT=1) turns a skip into a failure.

The worker is started once per session and restarted when a test killed it. Its log goes to
var/ci/celery-worker.log so a CI failure can be read. No test here travels in time: the worker runs on
the real clock, so the committee's terms and the meeting are placed around today.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "var" / "ci"
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
WORKER_START_TIMEOUT = 120  # an upper bound: about 3 s on an idle machine, 30+ s seen on a busy one
# The broker's Redis database may hold others' keys: this run's queue lives under its own key prefix
# (CELERY_BROKER_KEY_PREFIX for the worker, `global_keyprefix` here) and only those keys are removed.
BROKER_KEY_PREFIX = f"dxplan-it-{uuid.uuid4().hex[:10]}:"
RETRY_FIRST_SECONDS = 1
RETRY_MAX_SECONDS = 8
MEMBER_DOMAIN = "members.test"


def wait_for(predicate, *, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


# --- the preconditions ---------------------------------------------------------------------------


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL", "")


def _redis_reachable(url: str) -> str | None:
    try:
        import redis
    except ImportError:  # pragma: no cover - celery[redis] brings it
        return "the redis client is not installed"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        return f"Redis is not reachable at {url} ({exc.__class__.__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def integration_env(django_db_setup, django_db_blocker):
    """Skip (with the reason) unless PostgreSQL, Redis and aiosmtpd are there."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            f"integration tests need PostgreSQL (DATABASE_URL=postgres://…): the worker process must see "
            f"the test database, and the {connection.vendor} test database is private to this process"
        )
    url = broker_url()
    if not url:
        pytest.skip(f"integration tests need CELERY_BROKER_URL (e.g. {DEFAULT_BROKER}) and a Redis there")
    problem = _redis_reachable(url)
    if problem:
        pytest.skip(f"integration tests need Redis: {problem}")
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        pytest.skip("integration tests need aiosmtpd (pip install -r requirements-dev.txt)")
    try:
        import notices.tasks  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the notices app is not importable: {exc}")
    return url


# --- the SMTP server ----------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    at: float

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Recorder:
    """An aiosmtpd handler that records every message it accepts. Thread-safe: the server runs in its own
    thread. `refuse` holds addresses answered with 550 at RCPT; `delay` slows every DATA down."""

    messages: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    # address -> how many more times to answer 451 (greylisting), at RCPT or at the end of DATA
    defer_rcpt: dict[str, int] = field(default_factory=dict)
    defer_data: dict[str, int] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refused.clear()
            self.refuse.clear()
            self.defer_rcpt.clear()
            self.defer_data.clear()
            self.deferred.clear()
            self.delay = 0.0

    def _defer(self, table: dict[str, int], address: str) -> bool:
        with self.lock:
            if table.get(address.lower(), 0) > 0:
                table[address.lower()] -= 1
                self.deferred.append(address.lower())
                return True
        return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address.lower() in self.refuse:
            with self.lock:
                self.refused.append(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        if self._defer(self.defer_rcpt, address):
            return f"451 4.7.1 <{address}>: Recipient address rejected: greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        if any(self._defer(self.defer_data, r) for r in envelope.rcpt_tos):
            return "451 4.3.0 Temporary failure, try again later"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, time.monotonic()))
        return "250 2.0.0 Message accepted for delivery"

    # -- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def per_recipient(self, addresses=None) -> Counter:
        counts: Counter = Counter()
        for received in self.snapshot():
            for rcpt in received.rcpt_tos:
                if addresses is None or rcpt.lower() in addresses:
                    counts[rcpt.lower()] += 1
        return counts

    def to(self, address: str) -> list[Received]:
        return [m for m in self.snapshot() if address.lower() in (r.lower() for r in m.rcpt_tos)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def smtp_server(integration_env):
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server) -> Recorder:
    """The session's SMTP server, emptied for this test."""
    recorder: Recorder = smtp_server.handler
    recorder.reset()
    yield recorder
    recorder.reset()


# --- the worker ---------------------------------------------------------------------------------


def worker_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(s['NAME'], safe='')}"


class Worker:
    """A `celery -A dxplan worker` process in its own process group (so a kill takes its pool children)."""

    def __init__(self, *, broker: str, smtp_port: int, var_dir: Path, log_path: Path, name: str = "test"):
        self.name = name
        self.extra_env: dict[str, str] = {}
        self.broker = broker
        self.smtp_port = smtp_port
        self.var_dir = var_dir
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self._log = None
        self._log_start = 0
        self._mark = 0
        self.content_types: tuple = ()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="dxplan.settings",
            DEBUG="true",
            DATABASE_URL=worker_database_url(),
            CONN_MAX_AGE="0",
            CELERY_BROKER_URL=self.broker,
            CELERY_BROKER_KEY_PREFIX=BROKER_KEY_PREFIX,
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            DXPLAN_VAR_DIR=str(self.var_dir),
            PYTHONUNBUFFERED="1",
            # Retries after 1, 2, 4, 8, 8 … s: a test waits seconds, not the production 30 s … 10 min.
            DXPLAN_MAIL_RETRY_FIRST_SECONDS=str(RETRY_FIRST_SECONDS),
            DXPLAN_MAIL_RETRY_MAX_SECONDS=str(RETRY_MAX_SECONDS),
            **self.extra_env,
        )
        return env

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.generation += 1
        celery = Path(sys.executable).with_name("celery")
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        self._log.write(f"\n===== worker start #{self.generation} at {stamp} UTC =====\n".encode())
        self._log.flush()
        self._log_start = self.log_path.stat().st_size
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(celery), "-A", "dxplan", "worker", "--loglevel", "INFO", "--concurrency", "1",
                "--pool", "prefork", "-Q", "celery", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "-n", f"{self.name}{self.generation}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the celery worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            if b" ready." in self._read_log():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the celery worker was not ready in {WORKER_START_TIMEOUT} s:\n{self.log_tail()}")

    def _read_log(self) -> bytes:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_start)
            return f.read()

    def log(self) -> str:
        return self._read_log().decode("utf-8", "replace")

    def mark(self) -> None:
        """Count finished tasks (see `finished`) from here on."""
        self._mark = self.log_path.stat().st_size

    def finished(self, task: str) -> int:
        """How many runs of `task` (e.g. "notices.tasks.deliver") the worker finished since `mark()`, by its log:
        each logs "Task <name>[<id>] succeeded in …", "… raised …" or "… retry: …"."""
        with open(self.log_path, "rb") as f:
            f.seek(self._mark)
            text = f.read().decode("utf-8", "replace")
        return sum(
            1
            for line in text.splitlines()
            if f"Task {task}[" in line and (" succeeded in " in line or " raised " in line or " retry: " in line)
        )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: a crash, not a shutdown."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # warm shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # leftover pool children
        self._close()

    def _close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proc = None


def purge(url: str) -> None:
    """Remove this run's broker keys (its queue and unacknowledged messages); nobody else's."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        for key in client.scan_iter(match=f"{BROKER_KEY_PREFIX}*", count=500):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="package")
def worker_process(integration_env, smtp_server):
    var_dir = Path(tempfile.mkdtemp(prefix="dxplan-worker-"))
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    xdist = os.environ.get("PYTEST_XDIST_WORKER", "")
    log_path = LOG_DIR / (f"celery-worker-{xdist}.log" if xdist else "celery-worker.log")
    log_path.write_bytes(b"")
    purge(integration_env)
    worker = Worker(broker=integration_env, smtp_port=smtp_server.port, var_dir=var_dir, log_path=log_path)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        purge(integration_env)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
def celery_live(integration_env, settings, smtp_server):
    """This process queues to the real broker (not eagerly) and, should it send mail itself, uses the SMTP
    server. The Celery app read its settings at import, so its configuration is set here and restored."""
    from dxplan.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    before = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    before_options = dict(app.conf.broker_transport_options or {})
    before_env = os.environ.get("CELERY_BROKER_URL")
    app.conf.broker_transport_options = {**before_options, "global_keyprefix": BROKER_KEY_PREFIX}
    set_broker(app, integration_env)
    app.conf.task_always_eager = False
    yield app
    app.conf.broker_transport_options = before_options
    set_broker(app, before["broker_url"] or "")
    app.conf.update(before)
    if before_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = before_env


def set_broker(app, url: str) -> None:
    """Point the Celery app of this process at `url`, dropping connections made to the previous one."""
    from kombu import pools

    # Celery's pools are kombu's global ones, keyed by the broker address: clear them all, so that no
    # closed pool stays registered for the address switched back to.
    with contextlib.suppress(Exception):
        pools.reset()
    app._pool = None
    with contextlib.suppress(Exception):
        app.amqp._producer_pool = None
    # Celery's `conf.broker_url` prefers the CELERY_BROKER_URL environment variable to the setting.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_write_url = None
    app.conf.broker_read_url = None


@pytest.fixture
def worker(worker_process: Worker, celery_live, transactional_db):
    """A running worker (restarted if a test killed it) with an empty queue at the start of the test."""
    # pytest-django empties every table after a transactional test and Django creates the content types
    # again under new ids; a worker started before holds the old ids in its ContentType cache (audit
    # entries would then point at missing rows). So the worker is restarted whenever they changed.
    from django.contrib.contenttypes.models import ContentType

    content_types = tuple(ContentType.objects.order_by("pk").values_list("pk", flat=True))
    if not worker_process.alive or worker_process.content_types != content_types:
        worker_process.stop()
        purge(worker_process.broker)
        worker_process.start()
        worker_process.content_types = content_types
    worker_process.mark()
    yield worker_process
    if not worker_process.alive:
        worker_process.stop()


# --- the committee and its meeting --------------------------------------------------------------


@dataclass
class Committee:
    body: object
    secretariat: object
    chair: object
    appointments: list
    meeting: object

    @property
    def addresses(self) -> set[str]:
        return {a.person.email.lower() for a in self.appointments}


def today_tokyo() -> dt.date:
    return dt.datetime.now(TOKYO).date()


def build_committee(*, members: int, bad: set[int] = frozenset(), meeting_in_days: int = 21) -> Committee:
    """A committee of `members` members (the first is the chair), each with a distinct address
    `mNNN@members.test` (`bad` numbers get `bad-mNNN@members.test`), in office from 30 days ago for a
    year, and a meeting in `meeting_in_days` days at 14:00 Tokyo with its 次第 approved by the chair."""
    from committee import services as committee
    from committee.models import Guideline
    from meetings import services as meetings
    from meetings.models import Agenda
    from tests import factories

    today = today_tokyo()
    appointed = today - dt.timedelta(days=30)
    unit = factories.OrgUnitFactory(code=f"unit-{time.monotonic_ns()}", name__name="DX推進課")
    body = factories.BodyFactory(
        name="「(仮称)青森県DX推進プラン」策定委員会", short_name="策定委員会", secretariat=unit, seats=max(members, 12)
    )
    factories.GuidelineFactory(
        body=body,
        effective_on=appointed - dt.timedelta(days=1),
        term_fixed_end=today + dt.timedelta(days=365),
        vice_chair_selection=Guideline.Selection.NOMINATED_BY_CHAIR,
    )
    secretariat = factories.StaffAssignmentFactory(unit=unit, user__email=f"secretariat-{body.pk}@test.example").user
    appointments = []
    chair = None
    for n in range(1, members + 1):
        user = factories.UserFactory(email=f"user{n:03d}-{body.pk}@login.test") if n == 1 else None
        address = f"{'bad-' if n in bad else ''}m{n:03d}@{MEMBER_DOMAIN}"
        person = factories.PersonFactory(
            family_name=f"委員{n:03d}", given_name="花子", family_name_kana="いいん", given_name_kana="はなこ",
            email=address, user=user,
        )
        appointment = committee.appointment_create(
            actor=None, body=body, person=person, appointed_on=appointed, affiliation=f"所属{n:03d}"
        )
        appointments.append(appointment)
        if n == 1:
            committee.officer_elect_chair(actor=None, body=body, appointment=appointment, selected_on=appointed)
            chair = user
    day = today + dt.timedelta(days=meeting_in_days)
    start = dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=TOKYO)
    meeting = meetings.meeting_create(
        actor=secretariat, body=body, start_at=start, end_at=start + dt.timedelta(hours=2),
        venue_name="青森県庁", venue_room="北棟8階 会議室",
    )
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="議事")
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="閉会")
    version = meetings.agenda_submit(actor=secretariat, meeting=meeting)
    meetings.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.APPROVED
    meeting.refresh_from_db()
    return Committee(body=body, secretariat=secretariat, chair=chair, appointments=appointments, meeting=meeting)


@pytest.fixture
def committee(worker) -> Committee:
    """Twelve members and a meeting in three weeks with an approved 次第."""
    return build_committee(members=12)


# --- reading what arrived -----------------------------------------------------------------------


def calendar_of(received: Received):
    """The parsed .ics of a received mail (icalendar.Calendar) and its MIME part."""
    import icalendar

    parts = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert parts, f"no text/calendar part in the mail to {received.rcpt_tos}"
    part = parts[0]
    payload = part.get_payload(decode=True)
    return icalendar.Calendar.from_ical(payload), part


def deliveries(notice):
    from notices.models import Delivery

    return list(Delivery.objects.filter(notice=notice).order_by("pk"))


def states(notice) -> Counter:
    return Counter(d.state for d in deliveries(notice))


def wait_settled(notice, *, timeout: float, expected: int | None = None) -> list:
    """Wait until no delivery of `notice` is pending or sending; return them."""
    from notices.models import Delivery

    def settled():
        rows = list(Delivery.objects.filter(notice=notice))
        if expected is not None and len(rows) != expected:
            return None
        if rows and all(d.state in ("sent", "failed") for d in rows):
            return rows
        return None

    try:
        return wait_for(settled, timeout=timeout, message=f"the deliveries of notice {notice.pk} to settle")
    except pytest.fail.Exception as exc:
        raise pytest.fail.Exception(f"{exc} (states now: {dict(states(notice))})") from None

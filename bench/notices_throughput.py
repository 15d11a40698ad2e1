"""Benchmark: one notice to 1,000 recipients through a real Celery worker (issue 5, Acceptance). Not a test.

Creates a PostgreSQL database (dxplan_bench), migrates it, starts an SMTP sink (aiosmtpd, counting only) and
a `celery -A dxplan worker` on Redis, builds a committee of 1,000 members with addresses and a meeting whose
次第 is approved, then times `notices.services.notice_send(kind="convocation")` from the call until the sink
has received all 1,000 mails and every delivery row is 'sent'. In the same run it sends the same 1,000
messages (the bytes the worker's batch task sends, `notices.email.MessageBuilder.raw`, built beforehand)
with a plain `smtplib` loop over one connection, and again with one connection per message.

    .venv/bin/python bench/notices_throughput.py
    BENCH_RECIPIENTS=200 BENCH_CONCURRENCY=1 .venv/bin/python bench/notices_throughput.py

Environment: BENCH_RECIPIENTS (1000), BENCH_CONCURRENCY (worker processes, default min(8, CPUs)),
BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (dxplan_bench, dropped and re-created),
BENCH_BROKER (redis://127.0.0.1:6379/14, flushed before and after), BENCH_TIME_LIMIT seconds (300).
Exit status: 0 the worker reached half the plain loop's rate, 1 it did not, 2 the run failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = int(os.environ.get("BENCH_RECIPIENTS", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", str(min(8, os.cpu_count() or 1))))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_DB", "dxplan_bench")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/14")
TIME_LIMIT = int(os.environ.get("BENCH_TIME_LIMIT", "300"))
TARGET = 0.5


class Sink:
    """aiosmtpd handler: counts messages and envelope recipients, keeps nothing else."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.rcpts: Counter = Counter()

    def reset(self):
        with self.lock:
            self.count = 0
            self.rcpts.clear()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.count += 1
            self.rcpts.update(r.lower() for r in envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def flush_broker() -> None:
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    client.flushdb()
    client.close()


def wait(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def build(n: int):
    """A committee of `n` members (the first the chair, via the services; the rest bulk-created) and a
    meeting in three weeks with its 次第 approved."""
    from committee.models import Affiliation, Appointment, Person
    from core import kana
    from tests.integration.conftest import build_committee

    committee = build_committee(members=1)
    chair = committee.appointments[0]
    people = Person.objects.bulk_create(
        Person(
            family_name=f"委員{i:04d}",
            given_name="花子",
            family_name_kana="いいん",
            sort_key=kana.sort_key("いいん") + f"{i:04d}",
            email=f"m{i:04d}@bench.test",
        )
        for i in range(2, n + 1)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(
            body=committee.body,
            person=person,
            guideline=chair.guideline,
            appointed_on=chair.appointed_on,
            term_start=chair.term_start,
            term_end=chair.term_end,
        )
        for person in people
    )
    Affiliation.objects.bulk_create(
        Affiliation(appointment=a, text="所属", valid_from=a.term_start) for a in appointments
    )
    return committee


class Worker:
    def __init__(self, env: dict, log_path: Path):
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self):
        celery = Path(sys.executable).with_name("celery")
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [str(celery), "-A", "dxplan", "worker", "--loglevel", "WARNING", "--concurrency", str(CONCURRENCY),
             "--pool", "prefork", "-Q", "celery", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"bench-{os.getpid()}@%h"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def stop(self):
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()
        self.proc = None


def run() -> int:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    var_dir = Path(tempfile.mkdtemp(prefix="dxplan-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dxplan.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"{PG}/{DB}",
        "CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DXPLAN_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    worker = Worker(env, var_dir / "worker.log")
    created = False
    try:
        print(f"database {DB}, broker {BROKER}, SMTP sink 127.0.0.1:{port}, {N} recipients, "
              f"worker concurrency {CONCURRENCY}")
        pg_admin(f'DROP DATABASE IF EXISTS "{DB}"')
        pg_admin(f'CREATE DATABASE "{DB}"')
        created = True
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
            timeout=TIME_LIMIT,
        )
        flush_broker()

        import django

        django.setup()
        from django.db import connection
        from django.urls import get_resolver

        from notices import services
        from notices.email import MessageBuilder, answer_urls, build_message
        from notices.models import Delivery

        get_resolver().url_patterns  # noqa: B018 - loaded, as in the web process that sends the notice
        started = time.monotonic()
        committee = build(N)
        print(f"data: {N} members in {time.monotonic() - started:.1f} s")

        worker.start()
        # ready when a ping answers
        from dxplan.celery import app

        app.conf.task_always_eager = False
        wait(lambda: bool(app.control.inspect(timeout=0.5).ping()), 60, "the worker to answer a ping", 0.2)
        time.sleep(1.0)  # let every pool process finish starting

        # --- through the worker -----------------------------------------------------------------
        sink.reset()
        t0 = time.perf_counter()
        notice = services.notice_send(actor=committee.secretariat, meeting=committee.meeting, kind="convocation")
        t_written = time.perf_counter() - t0
        wait(lambda: sink.count >= N, TIME_LIMIT, f"{N} mails at the sink (have {sink.count})", 0.01)
        t_received = time.perf_counter() - t0
        wait(
            lambda: not Delivery.objects.filter(notice=notice).exclude(state="sent").exists(),
            60, "every delivery marked sent", 0.05,
        )
        t_marked = time.perf_counter() - t0
        rows = list(Delivery.objects.filter(notice=notice).order_by("pk"))
        assert len(rows) == N, f"{len(rows)} deliveries for {N} members"
        members = {r.email.lower() for r in rows}
        counts = {a: sink.rcpts[a] for a in members}
        assert set(counts.values()) == {1}, f"not once each: {Counter(counts.values())}"
        worker_count = sink.count
        retried = [r for r in rows if r.attempts != 1]
        if retried:
            print(f"{len(retried)} deliveries took more than one attempt, e.g. {retried[0].last_error!r}")
        print(f"\nworker: notice and {N} deliveries written and queued in {t_written:.2f} s; "
              f"{worker_count} mails received in {t_received:.2f} s, all rows sent at {t_marked:.2f} s")

        # --- the same messages with a plain smtplib loop ----------------------------------------
        messages = []
        t0 = time.perf_counter()
        rows = list(Delivery.objects.filter(notice=notice).select_related("person").order_by("pk"))
        builder = MessageBuilder(notice)
        urls = answer_urls(notice, rows)
        for row in rows:
            sender, rcpts, _to, raw = builder.raw(row, urls.get(row.person_id, ""))  # the worker's bytes
            messages.append((sender, rcpts, raw))
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        for row in rows[:100]:
            build_message(row)  # one delivery on its own: the notice-wide parts and its queries every time
        t_build_one = (time.perf_counter() - t0) / min(100, len(rows))
        sink.reset()
        t0 = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for sender, rcpts, raw in messages:
                smtp.sendmail(sender, rcpts, raw)
        t_plain = time.perf_counter() - t0
        assert sink.count == N
        sink.reset()
        t0 = time.perf_counter()
        for sender, rcpts, raw in messages:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.sendmail(sender, rcpts, raw)
        t_plain_each = time.perf_counter() - t0
        assert sink.count == N

        rate_worker = N / t_marked
        rate_plain = N / t_plain
        rate_each = N / t_plain_each
        ratio = rate_worker / rate_plain
        print()
        print(f"{'path':<52} {'seconds':>8} {'msg/s':>8}")
        print(f"{'worker (notice_send → all rows sent)':<52} {t_marked:>8.2f} {rate_worker:>8.0f}")
        print(f"{'plain smtplib loop, one connection':<52} {t_plain:>8.2f} {rate_plain:>8.0f}")
        print(f"{'plain smtplib loop, a connection per message':<52} {t_plain_each:>8.2f} {rate_each:>8.0f}")
        print(f"{'(building the messages in this process, not sent)':<52} {t_build:>8.2f} {N / t_build:>8.0f}")
        print(f"{'(one message built on its own, build_message)':<52} {t_build_one:>8.4f} {1 / t_build_one:>8.0f}")
        print(f"\nratio worker / plain loop: {ratio:.2f} (target ≥ {TARGET}); "
              f"worker / per-message loop: {rate_worker / rate_each:.2f}")
        connection.close()
        return 0 if ratio >= TARGET else 1
    except Exception as exc:
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        log = var_dir / "worker.log"
        if log.exists():
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 2
    finally:
        worker.stop()
        controller.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            flush_broker()
        if created:
            with contextlib.suppress(Exception):
                pg_admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run())

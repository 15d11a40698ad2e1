"""Benchmark: one notice to 1,000 recipients through a real Celery worker, against a plain smtplib loop
(issues 5 and 13). Not a test.

Creates a PostgreSQL database of its own (dxplan_bench_notices_<random>: CREATE DATABASE fails rather than
reuse one), migrates it, takes an empty Redis database for the broker (its keys under a prefix of this run),
starts an SMTP sink (aiosmtpd, counting only) in a process of its own and a `celery -A dxplan worker` with
production settings (DEBUG off), builds a committee of 1,000 members with addresses, then, BENCH_RUNS times,
for a new meeting whose 次第 the chair approved: times `notices.services.notice_send(kind="convocation")` from
the call until the sink has received all 1,000 mails and every delivery row is 'sent', and sends the same
1,000 messages (the bytes the worker's batch task sends, `notices.email.MessageBuilder.raw`, built
beforehand) with a plain `smtplib` loop over one connection to the same sink.

    .venv/bin/python bench/notices_throughput.py
    BENCH_RECIPIENTS=200 BENCH_RUNS=3 BENCH_CONCURRENCY=1 .venv/bin/python bench/notices_throughput.py

Environment: BENCH_RECIPIENTS (1000), BENCH_RUNS (5), BENCH_CONCURRENCY (worker processes, default as
deployed: two per CPU, at most 8, the rule of deploy/env/worker.env.example), BENCH_PG
(postgres://postgres@127.0.0.1:5432: only the database it creates there is used and dropped),
BENCH_REDIS_URL (redis://127.0.0.1:6379) and BENCH_REDIS_DB (one database, used only if empty; else the first
empty one of 1–15; only the keys of this run are deleted), BENCH_TIME_LIMIT seconds (300).
Targets (issue 13): the worker at least 0.5 of the plain loop's rate in every run, and 0.7 in the median.
Exit status: 0 met, 1 missed, 2 the run failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

N = int(os.environ.get("BENCH_RECIPIENTS", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# As deployed (deploy/env/worker.env.example, CELERY_CONCURRENCY): two processes per CPU, since a batch task
# spends much of its time waiting for the SMTP server and PostgreSQL.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", str(min(8, 2 * (os.cpu_count() or 1)))))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
TIME_LIMIT = int(os.environ.get("BENCH_TIME_LIMIT", "300"))
EVERY_RUN, MEDIAN = 0.5, 0.7


def _sink_main(port: int, count, commands) -> None:  # noqa: ANN001 - multiprocessing's objects
    """The SMTP sink's process: aiosmtpd counting messages and envelope recipients, nothing kept; answers
    "report", "reset" and "stop" on its pipe."""
    from aiosmtpd.controller import Controller

    recipients: Counter = Counter()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            recipients.update(r.lower() for r in envelope.rcpt_tos)
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    commands.send("ready")
    while True:
        command = commands.recv()
        if command == "report":
            commands.send(dict(recipients))
        elif command == "reset":
            recipients.clear()
            with count.get_lock():
                count.value = 0
            commands.send("ok")
        else:
            controller.stop()
            commands.send("ok")
            return


class Sink:
    """The SMTP sink in a process of its own, as the mail server is for the worker and the plain loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self._count = multiprocessing.Value("i", 0)
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_sink_main, args=(self.port, self._count, child), daemon=True)
        self._process.start()
        if not self._pipe.poll(20) or self._pipe.recv() != "ready":
            raise RuntimeError("the SMTP sink did not start")

    @property
    def count(self) -> int:
        return int(self._count.value)

    def _ask(self, command: str):  # noqa: ANN202
        self._pipe.send(command)
        return self._pipe.recv()

    def reset(self) -> None:
        self._ask("reset")

    def recipients(self) -> dict[str, int]:
        return self._ask("report")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._ask("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def another_meeting(committee, in_days: int):
    """A new meeting of the committee in `in_days` days with its 次第 approved by the chair (each run sends
    the convocation of a meeting of its own)."""
    import datetime as dt

    from meetings import services as meetings
    from tests.integration.conftest import TOKYO, today_tokyo

    day = today_tokyo() + dt.timedelta(days=in_days)
    start = dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=TOKYO)
    meeting = meetings.meeting_create(
        actor=committee.secretariat, body=committee.body, start_at=start, end_at=start + dt.timedelta(hours=2),
        venue_name="青森県庁", venue_room="北棟8階 会議室",
    )
    for title in ("開会", "議事", "閉会"):
        meetings.agenda_item_add(actor=committee.secretariat, meeting=meeting, title=title)
    version = meetings.agenda_submit(actor=committee.secretariat, meeting=meeting)
    meetings.agenda_approve(actor=committee.chair, meeting=meeting, sha256=version.sha256)
    meeting.refresh_from_db()
    return meeting


def one_run(sink: Sink, committee, meeting) -> tuple[float, float, float, float, int]:
    """The worker's seconds from the call to every row sent, the plain loop's seconds for the same messages,
    the seconds `notice_send` took and until the last mail arrived, and how many deliveries needed more than
    one attempt."""
    from notices import services
    from notices.email import MessageBuilder, answer_urls
    from notices.models import Delivery

    sink.reset()
    t0 = time.perf_counter()
    notice = services.notice_send(actor=committee.secretariat, meeting=meeting, kind="convocation")
    t_written = time.perf_counter() - t0
    wait(lambda: sink.count >= N, TIME_LIMIT, f"{N} mails at the sink", 0.01)
    t_received = time.perf_counter() - t0
    wait(lambda: not Delivery.objects.filter(notice=notice).exclude(state="sent").exists(), 60,
         "every delivery marked sent", 0.02)
    t_worker = time.perf_counter() - t0
    rows = list(Delivery.objects.filter(notice=notice).select_related("person").order_by("pk"))
    assert len(rows) == N, f"{len(rows)} deliveries for {N} members"
    received = sink.recipients()
    once = Counter(received.get(r.email.lower(), 0) for r in rows)
    assert set(once) == {1}, f"not once each: {once}"
    retried = sum(1 for r in rows if r.attempts != 1)

    builder = MessageBuilder(notice)
    urls = answer_urls(notice, rows)
    messages = [builder.raw(row, urls.get(row.person_id, "")) for row in rows]  # the worker's bytes
    sink.reset()
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for sender, rcpts, _to, raw in messages:
            smtp.sendmail(sender, rcpts, raw)
    t_plain = time.perf_counter() - t0
    wait(lambda: sink.count >= N, 30, "the plain loop's mails at the sink", 0.01)
    return t_worker, t_plain, t_written, t_received, retried


def run() -> int:  # noqa: PLR0915 - one straight run
    from pages import _drop_postgres, _drop_redis_keys, _own_postgres, _own_redis_cache

    sink = Sink()  # forked before anything else starts
    var_dir = Path(tempfile.mkdtemp(prefix="dxplan-bench-notices-"))
    database_url, database = _own_postgres(f"{PG}/postgres")
    redis = _own_redis_cache()
    worker = None
    try:
        if redis is None:
            raise RuntimeError("no empty Redis database for the broker (BENCH_REDIS_URL, BENCH_REDIS_DB)")
        cache_url, prefix = redis
        broker = cache_url.split("?")[0]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CELERY_", "EMAIL_", "CACHE_URL"))},
            "DJANGO_SETTINGS_MODULE": "dxplan.settings", "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": "http://127.0.0.1", "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60", "CELERY_BROKER_URL": broker, "CELERY_BROKER_KEY_PREFIX": f"{prefix}:",
            "CACHE_URL": cache_url, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "DXPLAN_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"), "STATIC_ROOT": str(var_dir / "static"), "LOG_LEVEL": "WARNING",
        }
        os.environ.clear()
        os.environ.update(env)
        print(f"database {database}, broker {broker} (keys {prefix}:*), SMTP sink 127.0.0.1:{sink.port} in its own "
              f"process, {N} recipients, {RUNS} runs, worker concurrency {CONCURRENCY}, production settings")
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
            timeout=TIME_LIMIT,
        )

        import django

        django.setup()
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - loaded, as in the web process that sends the notice
        started = time.monotonic()
        committee = build(N)
        meetings = [committee.meeting] + [another_meeting(committee, 21 + n) for n in range(1, RUNS)]
        print(f"data: {N} members and {RUNS} meetings in {time.monotonic() - started:.1f} s")

        worker = Worker(env, var_dir / "worker.log")
        worker.start()
        from dxplan.celery import app

        app.conf.task_always_eager = False
        wait(lambda: bool(app.control.inspect(timeout=0.5).ping()), 60, "the worker to answer a ping", 0.2)
        time.sleep(1.0)  # let every pool process finish starting

        print("\n| run | worker s (notice_send, last mail) | worker msg/s | plain loop s | plain msg/s | ratio "
              "| retried | load average |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        ratios = []
        for number, meeting in enumerate(meetings, start=1):
            t_worker, t_plain, t_written, t_received, retried = one_run(sink, committee, meeting)
            ratio = (N / t_worker) / (N / t_plain)
            ratios.append(ratio)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"| {number} | {t_worker:.2f} ({t_written:.2f}, {t_received:.2f}) | {N / t_worker:.0f} | "
                  f"{t_plain:.2f} | {N / t_plain:.0f} | {ratio:.2f} | {retried} | {load} |")
        median = statistics.median(ratios)
        met = min(ratios) >= EVERY_RUN and median >= MEDIAN
        print(f"\nratio worker / plain loop: lowest {min(ratios):.2f} (target ≥ {EVERY_RUN} in every run), "
              f"median {median:.2f} (target ≥ {MEDIAN}): {'met' if met else 'MISSED'}")
        return 0 if met else 1
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        log = var_dir / "worker.log"
        if log.exists():
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 2
    finally:
        if worker is not None:
            worker.stop()
        sink.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if redis is not None:
            with contextlib.suppress(Exception):
                _drop_redis_keys(*redis)
        with contextlib.suppress(Exception):
            _drop_postgres(f"{PG}/postgres", database)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run())

"""Benchmark: memory and throughput of material downloads (issue 4, Acceptance). Not a pytest test.

Starts the app under gunicorn (one sync worker, as in production) on 127.0.0.1 with a temporary
SQLite database and MEDIA_ROOT, creates a 200 MB material and a meeting with 30 materials, then
downloads the single file and the ZIP of the 30 with a streaming HTTP client while sampling the
worker's resident memory (psutil if installed, else /proc/<pid>/status VmRSS). Reports the growth
over the worker's memory after a warm-up download (target < 20 MB) and the throughput next to
reading the same file straight from disk in the same run.

    .venv/bin/python bench/download_memory.py            # 200 MB file, 30 × 5 MB in the ZIP
    BENCH_BIG_MB=50 .venv/bin/python bench/download_memory.py

Exits 1 when a download grows the worker by 20 MB or more, 2 on a failed run. Bounded by
BENCH_TIME_LIMIT seconds (default 300); everything it made is removed at the end.
"""
from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIG_MB = int(os.environ.get("BENCH_BIG_MB", "200"))
ZIP_COUNT = int(os.environ.get("BENCH_ZIP_COUNT", "30"))
ZIP_EACH_MB = int(os.environ.get("BENCH_ZIP_EACH_MB", "5"))
TIME_LIMIT = int(os.environ.get("BENCH_TIME_LIMIT", "300"))
TARGET_MB = 20
CHUNK = 1024 * 1024
MB = 1024 * 1024


# --- measuring ----------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except ImportError:
        pass
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Sampler(threading.Thread):
    """Samples a process's RSS every few milliseconds until stopped; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.01):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = self.start_rss = rss_bytes(pid)
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self.samples += 1
            time.sleep(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


@dataclass
class Result:
    name: str
    size: int
    seconds: float
    baseline: int = 0
    peak: int = 0
    samples: int = 0

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds if self.seconds else float("inf")


def fetch(port: int, path: str, cookie: str) -> tuple[int, float]:
    """GET `path`, reading the body in 1 MiB pieces and dropping them; returns (bytes, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {response.read(500)!r}")
    expected = int(response.getheader("Content-Length", "-1"))
    received = 0
    while piece := response.read(CHUNK):
        received += len(piece)
    seconds = time.perf_counter() - started
    connection.close()
    if expected >= 0 and received != expected:
        raise RuntimeError(f"GET {path}: {received} bytes, Content-Length said {expected}")
    return received, seconds


def read_disk(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    received = 0
    with open(path, "rb") as handle:
        while piece := handle.read(CHUNK):
            received += len(piece)
    return received, time.perf_counter() - started


def measured(pid: int, name: str, fetcher, runs: int = 3) -> Result:
    """`runs` downloads: the median time, and the largest growth over the RSS before the first one."""
    baseline = rss_bytes(pid)
    times, peak, samples, size = [], baseline, 0, 0
    for _ in range(runs):
        sampler = Sampler(pid)
        sampler.start()
        try:
            size, seconds = fetcher()
        finally:
            sampler.stop()
        times.append(seconds)
        peak, samples = max(peak, sampler.peak), samples + sampler.samples
    return Result(name, size, statistics.median(times), baseline, peak, samples)


# --- the data ----------------------------------------------------------------------------------


def write_pdf_like(path: Path, size: int) -> None:
    """A file that passes the content check as a PDF, filled with incompressible bytes."""
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.4\n")
        left = size - 9 - 6
        while left > 0:
            piece = os.urandom(min(CHUNK, left))
            handle.write(piece)
            left -= len(piece)
        handle.write(b"\n%%EOF")


def build(tmp: Path) -> dict:
    """Body, secretariat, one member, three meetings (warm-up, big file, 30 materials) and a session."""
    import datetime as dt
    import zoneinfo
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.files import File

    from committee.models import Appointment, Body, OrgUnit, OrgUnitName, Person, StaffAssignment
    from core.models import User
    from documents import services
    from meetings import services as meeting_services

    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    unit = OrgUnit.objects.create(code="bench", kind=OrgUnit.Kind.DIVISION)
    OrgUnitName.objects.create(unit=unit, name="DX推進課", valid_from=dt.date(2000, 4, 1))
    body = Body.objects.create(name="ベンチマーク委員会", short_name="ベンチ", slug="bench", secretariat=unit,
                               kind=Body.Kind.GUIDELINE_COMMITTEE)
    secretariat = User.objects.create_user(email="secretariat@bench.example", password=None)
    StaffAssignment.objects.create(user=secretariat, unit=unit, start_on=dt.date(2020, 4, 1))
    member = User.objects.create_user(email="member@bench.example", password=None)
    person = Person.objects.create(family_name="委員", given_name="花子", family_name_kana="いいん", user=member)
    # A member in office today (a member's rights end with the term), and meetings within the term.
    today = dt.date.today()
    Appointment.objects.create(body=body, person=person, appointed_on=today - dt.timedelta(days=60),
                               term_start=today - dt.timedelta(days=60), term_end=today + dt.timedelta(days=300))

    def meeting(day: int):
        on = today + dt.timedelta(days=day)
        start = dt.datetime(on.year, on.month, on.day, 14, 0, tzinfo=tokyo)
        return meeting_services.meeting_create(actor=secretariat, body=body, start_at=start)

    def material(on, path: Path, title: str):
        with open(path, "rb") as handle:
            return services.material_create(actor=secretariat, meeting=on, title=title, visibility="members",
                                            upload=File(handle, name=f"{title}.pdf"))

    files = tmp / "source"
    files.mkdir()
    warm, big, many = meeting(1), meeting(7), meeting(14)
    write_pdf_like(files / "warm.pdf", 256 * 1024)
    warm_material = material(warm, files / "warm.pdf", "準備")
    write_pdf_like(files / "big.pdf", BIG_MB * MB)
    big_material = material(big, files / "big.pdf", "大きな資料")
    for n in range(ZIP_COUNT):
        write_pdf_like(files / f"m{n}.pdf", ZIP_EACH_MB * MB)
        material(many, files / f"m{n}.pdf", f"資料その{n + 1}")
    shutil.rmtree(files)

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(member.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = member.get_session_auth_hash()
    store.create()
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
        "warm": (warm_material.pk, warm.pk),
        "big": big_material.pk,
        "big_path": Path(settings.MEDIA_ROOT) / big_material.current_version.file.name,
        "many": many.pk,
    }


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict, port: int, log: Path, *, sendfile: bool) -> tuple[subprocess.Popen, int]:
    """gunicorn with one sync worker; returns the master and the worker's pid (the one that serves).

    With sendfile the kernel copies a FileResponse's file to the socket; without it (as for files
    that are not local, e.g. S3) Python reads and writes every block."""
    command = [sys.executable, "-m", "gunicorn", "dxplan.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--worker-class", "sync", "--timeout", "120", "--chdir", str(ROOT)]
    if not sendfile:
        command.append("--no-sendfile")
    # A fixed command line: nothing in it comes from outside this script.
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            connection.getresponse().read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise RuntimeError("gunicorn did not answer within 30 s")
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return server, int(children[0])


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- main --------------------------------------------------------------------------------------


def report(results: list[Result], disk: Result) -> bool:
    print("\nmedian of 3 runs each; growth: highest RSS sampled during them over the RSS before the first")
    print(f"{'download (gunicorn, 1 sync worker)':<46}{'size':>10}{'time':>9}{'MB/s':>9}"
          f"{'RSS before':>12}{'peak':>9}{'growth':>9}")
    ok = True
    for r in results:
        within = r.growth < TARGET_MB * MB
        ok &= within
        print(f"{r.name:<46}{r.size / MB:>8.1f}MB{r.seconds:>8.2f}s{r.mb_per_s:>9.0f}"
              f"{r.baseline / MB:>10.1f}MB{r.peak / MB:>7.1f}MB{r.growth / MB:>7.1f}MB {'ok' if within else 'OVER'}")
    print(f"{disk.name:<46}{disk.size / MB:>8.1f}MB{disk.seconds:>8.2f}s{disk.mb_per_s:>9.0f}")
    print(f"\ntarget: growth < {TARGET_MB} MB per download: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError(f"over {TIME_LIMIT} s")))
    signal.alarm(TIME_LIMIT)
    tmp = Path(tempfile.mkdtemp(prefix="dxplan-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dxplan.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "DXPLAN_VAR_DIR": str(tmp / "var"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DXPLAN_REQUIRE_2FA": "false",
        "DXPLAN_UPLOAD_MAX_MB": str(BIG_MB + 10),
        "DXPLAN_X_ACCEL_REDIRECT_PREFIX": "",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("AWS_STORAGE_BUCKET_NAME", "CONN_MAX_AGE"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    server = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        data = build(tmp)
        print(f"data: 1 × {BIG_MB} MB and {ZIP_COUNT} × {ZIP_EACH_MB} MB materials "
              f"in {time.perf_counter() - started:.1f} s under {tmp}")

        cookie = data["cookie"]
        warm_pk, warm_meeting = data["warm"]
        single, many = f"/materials/{data['big']}/download/", f"/meetings/{data['many']}/materials.zip"
        results = []
        for sendfile in (True, False):
            port = free_port()
            server, worker = start_server(env, port, tmp / "gunicorn.log", sendfile=sendfile)
            mode = "sendfile" if sendfile else "no sendfile"
            print(f"{mode}: worker RSS after start-up {rss_bytes(worker) / MB:.1f} MB")
            # Warm-up: the first requests import the views, zipstream and the templates.
            for _ in range(2):
                fetch(port, f"/materials/{warm_pk}/download/", cookie)
                fetch(port, f"/meetings/{warm_meeting}/materials.zip", cookie)
            results += [
                measured(worker, f"single file ({BIG_MB} MB), {mode}", lambda p=port: fetch(p, single, cookie)),
                measured(worker, f"ZIP of {ZIP_COUNT} materials, {mode}", lambda p=port: fetch(p, many, cookie)),
            ]
            stop_server(server)
            server = None
        reads = [read_disk(data["big_path"]) for _ in range(3)]
        disk = Result(f"disk read, same file ({BIG_MB} MB)", reads[0][0], statistics.median(t for _, t in reads))
        return 0 if report(results, disk) else 1
    except Exception as exc:  # a failed run says why and leaves nothing behind
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        log = tmp / "gunicorn.log"
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        if server is not None:
            stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

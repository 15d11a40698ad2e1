"""Benchmark: material downloads through nginx (issue 15) and the 資料一式 ZIP (issue 13), against `cat`.
Not a pytest test.

Starts gunicorn (one sync worker, production settings) on a temporary SQLite database and MEDIA_ROOT, and
Debian's nginx with deploy/nginx/dxplan.conf (TLS with a throwaway certificate) in front of it, all on
127.0.0.1. Makes a member, a BENCH_BIG_MB (200) members-only material and a meeting of BENCH_ZIP_COUNT (20)
members-only materials of BENCH_ZIP_EACH_MB (10), then runs BENCH_RUNS (5) rounds, each row once per round
in turn, so that the machine's load falls on all rows alike:

single file                                         ZIP of the meeting's materials (資料一式)
- `cat FILE > /dev/null`  (read, no consumer)       - `cat FILES > /dev/null`
- `cat FILE | cat > /dev/null`  (THE BASELINE)      - `cat FILES | cat > /dev/null`  (THE BASELINE)
- nginx over TLS: Django's check, X-Accel-Redirect  - nginx over TLS: Django streams the ZIP through nginx
- the same with curl instead of bench/fetch.py      - nginx over plain HTTP
- nginx over plain HTTP (the same server block      - gunicorn alone (what issue 13 measured)
  without its ssl_ lines: TLS ended in front)
- gunicorn alone (FileResponse with sendfile)

The client of the download rows is bench/fetch.py in its own process: one GET read into a 4 MiB buffer and
dropped, timed from the connection to the last byte (TLS handshake and Django's check included). The
baseline is `cat FILE | cat`: a download hands every byte to another process, and so does that pipe; `cat
FILE > /dev/null` has no reader at all and is printed beside it. See bench/README.md.

For every row the CPU time of all processes involved is added up (the client or the shell and its cats, the
nginx workers, the gunicorn worker): unlike the seconds, it hardly moves with the machine's load.

The gunicorn workers' resident memory is sampled every 10 ms during every download: the growth over their
RSS before the first measured download must stay under BENCH_RSS_MB (20) MB.

    .venv/bin/python bench/nginx_download.py
    BENCH_RUNS=3 BENCH_BIG_MB=100 .venv/bin/python bench/nginx_download.py

Targets: the single file through nginx over TLS at least 0.8 × the baseline; the ZIP at least 0.5 × its
baseline from the app server (as issue 13 measured it; through nginx printed beside it); memory growth under
BENCH_RSS_MB. Exit status: 0 all met, 1 one missed, 2 the run failed. Everything it made is removed at the end.
"""
from __future__ import annotations

import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BENCH_ZIP_COUNT", "20")  # download_memory's data builder: the ZIP's materials
os.environ.setdefault("BENCH_ZIP_EACH_MB", "10")
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import download_memory as dm  # noqa: E402 - after the path and the defaults above

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
RSS_LIMIT_MB = int(os.environ.get("BENCH_RSS_MB", "20"))
TARGET_SINGLE = 0.8
TARGET_ZIP = 0.5
MB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    """One path: how to run it once (returns its seconds), and what it measured in each round."""

    name: str
    run: Callable[[], float]
    worker: int | None = None  # the gunicorn worker whose memory is sampled during the run
    servers: list[int] = field(default_factory=list)  # server processes whose CPU time the row includes
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    growth: int = 0  # the highest RSS sampled over the worker's RSS before the first run

    def median(self) -> float:
        return statistics.median(self.seconds)


def shell(command: str) -> float:
    started = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", command], check=True)  # noqa: S603 - fixed commands of this script
    return time.perf_counter() - started


def fetch(url: str, cookie: str, cert: Path, size: int | None) -> tuple[int, float]:
    """bench/fetch.py in its own process (standard library only, started with -I)."""
    command = [sys.executable, "-I", str(ROOT / "bench" / "fetch.py"), url, cookie, str(cert)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"bench/fetch.py {url}: {done.stderr.strip()}")
    received, seconds = done.stdout.split()
    if size is not None and int(received) != size:
        raise RuntimeError(f"{url}: {received} bytes, expected {size}")
    return int(received), float(seconds)


def curl(url: str, cookie: str, cert: Path, size: int) -> float:
    """curl -o /dev/null: an ordinary client, for comparison (it reads 100 KB at a time)."""
    command = ["/usr/bin/curl", "-sS", "--fail", "-o", "/dev/null", "--cacert", str(cert), "-H", f"Cookie: {cookie}",
               "-w", "%{size_download} %{time_total}", url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()  # noqa: S603
    if int(out[0]) != size:
        raise RuntimeError(f"{url}: {out[0]} bytes, expected {size}")
    return float(out[1])


def plain_http_copy(port: int):
    """The site's HTTPS server block once more on a plain-HTTP port (its ssl_ lines dropped): the same
    nginx without TLS, as behind a load balancer that ends TLS. Not part of the deployed file."""

    def transform(site: str) -> str:
        block = site[site.rindex("server {"):]
        lines = [line for line in block.splitlines() if not line.strip().startswith("ssl_")]
        copy = "\n".join(lines)
        copy = re.sub(r"listen [^;]+ ssl;", f"listen 127.0.0.1:{port};", copy, count=1)
        return site + "\n" + copy + "\n"

    return transform


def children(pid: int, timeout: float = 30) -> list[int]:
    """The processes `pid` started (gunicorn's workers, nginx's), once there are any."""
    deadline = time.monotonic() + timeout
    while not (found := [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]):
        if time.monotonic() > deadline:
            raise RuntimeError(f"process {pid} started no worker in {timeout} s")
        time.sleep(0.1)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def measure(row: Row, baselines: dict[int, int]) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    servers = cpu_seconds(row.servers)
    sampler = dm.Sampler(row.worker) if row.worker is not None else None
    if sampler is not None:
        sampler.start()
    try:
        row.seconds.append(row.run())
    finally:
        if sampler is not None:
            sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                   + cpu_seconds(row.servers) - servers)
    if sampler is not None and row.worker is not None:
        row.growth = max(row.growth, sampler.peak - baselines[row.worker])


def ktls() -> str:
    try:
        ulps = Path("/proc/sys/net/ipv4/tcp_available_ulp").read_text().split()
    except OSError:
        return "unknown"
    return "available" if "tls" in ulps else f"not available (tcp_available_ulp: {' '.join(ulps) or 'none'})"


def table(title: str, rows: list[Row], size: int, index: int | None) -> None:
    print(f"\n{title}")
    print(f"  {'path':<54}{'seconds':>8}{'MB/s':>7}{'× cat|cat':>10}{'× cat>null':>11}{'CPU s':>7}")

    def pick(values: list[float]) -> float:
        return values[index] if index is not None else statistics.median(values)

    baseline, read_only = pick(rows[1].seconds), pick(rows[0].seconds)
    for row in rows:
        seconds = pick(row.seconds)
        print(f"  {row.name:<54}{seconds:>8.3f}{size / MB / seconds:>7.0f}{baseline / seconds:>10.2f}"
              f"{read_only / seconds:>11.2f}{pick(row.cpu):>7.2f}")


def main() -> int:  # noqa: PLR0915 - one straight run
    from tests.servers import Nginx, free_port, gunicorn, self_signed_certificate, wait_listening
    tmp = Path(tempfile.mkdtemp(prefix="dxplan-bench-nginx-"))
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "dxplan.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "MEDIA_ROOT": str(tmp / "media"),
        "STATIC_ROOT": str(tmp / "static"), "DXPLAN_VAR_DIR": str(tmp / "var"), "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1", "DXPLAN_REQUIRE_2FA": "false",
        "DXPLAN_UPLOAD_MAX_MB": str(max(dm.BIG_MB, dm.ZIP_EACH_MB) + 10),
        "DXPLAN_X_ACCEL_REDIRECT_PREFIX": "/protected/",
        "PROXY_COUNT": "1", "BEHIND_HTTPS_PROXY": "true", "CELERY_BROKER_URL": "", "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",  # the plain-HTTP rows must not be redirected
    }
    for name in ("AWS_STORAGE_BUCKET_NAME", "CONN_MAX_AGE"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    processes = []
    nginx = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        from documents.models import Material

        call_command("migrate", verbosity=0)
        data = dm.build(tmp)
        big = data["big_path"]
        size = big.stat().st_size
        members = [Path(m.current_version.file.path) for m in
                   Material.objects.filter(meeting_id=data["many"]).select_related("current_version")
                   .order_by("position", "id")]
        single_path, zip_path = f"/materials/{data['big']}/download/", f"/meetings/{data['many']}/materials.zip"

        web_port, direct_port, https_port, http_port, plain_port = (free_port() for _ in range(5))
        processes.append(gunicorn("bench-web", web_port, env, tmp / "web.log", workers=1))
        direct_env = {**env, "DXPLAN_X_ACCEL_REDIRECT_PREFIX": "", "PROXY_COUNT": "0", "BEHIND_HTTPS_PROXY": "false",
                      "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false"}
        processes.append(gunicorn("bench-direct", direct_port, direct_env, tmp / "direct.log", workers=1))
        for process, port in zip(processes, (web_port, direct_port), strict=True):
            wait_listening(port, process.proc, timeout=60, log=process.log)
        web_worker, direct_worker = (children(p.proc.pid)[0] for p in processes)  # type: ignore[union-attr]
        cert, key = self_signed_certificate(tmp)
        nginx_dir = tmp / "nginx"
        nginx_dir.mkdir()
        nginx = Nginx(nginx_dir, {
            "DXPLAN_SERVER_NAME": "127.0.0.1", "DXPLAN_SITE_URL": f"https://127.0.0.1:{https_port}",
            "DXPLAN_HTTP_LISTEN": f"127.0.0.1:{http_port}", "DXPLAN_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "DXPLAN_TLS_CERTIFICATE": str(cert), "DXPLAN_TLS_KEY": str(key),
            "DXPLAN_UPSTREAM_SERVERS": f"server 127.0.0.1:{web_port};", "DXPLAN_STATIC_ROOT": str(tmp / "static"),
            "DXPLAN_MEDIA_ROOT": str(tmp / "media"), "DXPLAN_CLIENT_MAX_BODY_SIZE": f"{dm.BIG_MB + 11}m",
        }, https_port=https_port, http_port=http_port, transform=plain_http_copy(plain_port)).start()
        nginx_workers = children(nginx.process.proc.pid)  # type: ignore[union-attr]

        cookie = data["cookie"]
        tls, plain = f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{plain_port}"
        direct = f"http://127.0.0.1:{direct_port}"
        zipped = fetch(direct + zip_path, cookie, cert, None)[0]
        for base in (tls, plain, direct):  # warm-up: imports, templates, the page cache, TLS session cache
            for _ in range(2):
                fetch(base + single_path, cookie, cert, size)
                fetch(base + zip_path, cookie, cert, zipped)
        files = " ".join(f"'{p}'" for p in members)
        proxy = [*nginx_workers, web_worker]

        def get(url: str, expected: int) -> Callable[[], float]:
            return lambda: fetch(url, cookie, cert, expected)[1]

        single = [
            Row("cat FILE > /dev/null (read only, no consumer)", lambda: shell(f"/bin/cat '{big}' > /dev/null")),
            Row("cat FILE | cat > /dev/null (BASELINE)", lambda: shell(f"/bin/cat '{big}' | /bin/cat > /dev/null")),
            Row("nginx, TLS: Django's check, X-Accel sendfile", get(tls + single_path, size), web_worker, proxy),
            Row("  the same, client curl", lambda: curl(tls + single_path, cookie, cert, size), web_worker, proxy),
            Row("nginx, plain HTTP: the same", get(plain + single_path, size), web_worker, proxy),
            Row("gunicorn alone: FileResponse (sendfile)", get(direct + single_path, size), direct_worker,
                [direct_worker]),
        ]
        many = [
            Row("cat FILES > /dev/null (read only, no consumer)", lambda: shell(f"/bin/cat {files} > /dev/null")),
            Row("cat FILES | cat > /dev/null (BASELINE)", lambda: shell(f"/bin/cat {files} | /bin/cat > /dev/null")),
            Row("nginx, TLS: ZIP streamed by Django", get(tls + zip_path, zipped), web_worker, proxy),
            Row("nginx, plain HTTP: the same", get(plain + zip_path, zipped), web_worker, proxy),
            Row("gunicorn alone: the same ZIP", get(direct + zip_path, zipped), direct_worker, [direct_worker]),
        ]
        rss = {pid: dm.rss_bytes(pid) for pid in (web_worker, direct_worker)}
        loads = []
        for _ in range(RUNS):
            loads.append(os.getloadavg())
            for row in single + many:
                measure(row, rss)

        print(f"\n{size / MB:.0f} MB members-only material; ZIP of {len(members)} materials of {dm.ZIP_EACH_MB} MB "
              f"({zipped / MB:.1f} MB, stored); {RUNS} rounds; {os.cpu_count()} CPUs; kernel TLS {ktls()}")
        for n, load in enumerate(loads):
            text = f"load average {' '.join(f'{x:.2f}' for x in load)}"
            table(f"round {n + 1}, single file ({text})", single, size, n)
            table(f"round {n + 1}, ZIP ({text})", many, zipped, n)
        table(f"median of {RUNS}, single file", single, size, None)
        table(f"median of {RUNS}, ZIP", many, zipped, None)
        print("\n× cat | cat in each round, then the median (the table bench/README.md carries)")
        print(f"  {'load average (1 min) at the start of the round':<54}" + "".join(f"{x[0]:>7.2f}" for x in loads))
        for title, rows in (("single file", single), ("ZIP", many)):
            for row in rows[2:]:
                ratios = [base / seconds for base, seconds in zip(rows[1].seconds, row.seconds, strict=True)]
                print(f"  {title + ': ' + row.name.strip():<54}" + "".join(f"{r:>7.2f}" for r in ratios)
                      + f"  median {rows[1].median() / row.median():.2f}")
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"gunicorn workers' RSS before: behind nginx {rss[web_worker] / MB:.1f} MB, "
              f"alone {rss[direct_worker] / MB:.1f} MB; highest growth during a download:")
        memory_ok = True
        for row in single + many:
            if row.worker is not None:
                within = row.growth < RSS_LIMIT_MB * MB
                memory_ok &= within
                print(f"  {row.name:<54}{row.growth / MB:>7.1f} MB {'ok' if within else 'OVER'}")

        def ratio(rows: list[Row], index: int) -> float:
            return rows[1].median() / rows[index].median()

        single_ok, zip_ok = ratio(single, 2) >= TARGET_SINGLE, ratio(many, 4) >= TARGET_ZIP
        print(f"target: single file through nginx over TLS at least {TARGET_SINGLE} × cat | cat: "
              f"{'met' if single_ok else 'NOT met'} ({ratio(single, 2):.2f}; plain HTTP {ratio(single, 4):.2f})")
        print(f"target: ZIP from the app server at least {TARGET_ZIP} × cat | cat: {'met' if zip_ok else 'NOT met'} "
              f"({ratio(many, 4):.2f}; through nginx over TLS {ratio(many, 2):.2f}, plain HTTP {ratio(many, 3):.2f})")
        print(f"target: memory growth under {RSS_LIMIT_MB} MB: {'met' if memory_ok else 'NOT met'}")
        return 0 if single_ok and zip_ok and memory_ok else 1
    except Exception as exc:  # a failed run says why and leaves nothing behind
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        for process in processes:
            print(process.tail(), file=sys.stderr)
        if nginx is not None:
            print(nginx.error_log()[-2000:], file=sys.stderr)
        return 2
    finally:
        if nginx is not None:
            nginx.stop()
        for process in processes:
            process.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

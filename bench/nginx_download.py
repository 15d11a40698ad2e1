"""Benchmark: a members-only material served by nginx after Django's check (X-Accel-Redirect), against
`cat` of the same file (issue 15). Not a pytest test.

Starts gunicorn (one sync worker, production settings) on a temporary SQLite database and MEDIA_ROOT,
and Debian's nginx with deploy/nginx/dxplan.conf (TLS with a throwaway certificate) in front of it, all on
127.0.0.1. Creates a member and a BENCH_BIG_MB (200) material, then times, seven times each:
- `cat FILE > /dev/null` (the file is in the page cache: the ceiling of any reader on this machine);
- `cat FILE | cat > /dev/null`: the same bytes handed to a second process through a pipe;
- `curl -o /dev/null https://…/materials/N/download/` with the member's session: TLS, Django's access
  check and download log, then nginx's sendfile from the internal location;
- the same over plain HTTP (a copy of the site's server block without TLS, for comparison only);
- the same through gunicorn alone, no nginx (FileResponse with sendfile, plain HTTP), for comparison.
Prints the medians, the ratio nginx / cat (target at least 0.8) and the load averages before and after.

    .venv/bin/python bench/nginx_download.py
    BENCH_BIG_MB=500 .venv/bin/python bench/nginx_download.py

Exit status: 0 target met, 1 not met, 2 the run failed. Everything it made is removed at the end.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BENCH_ZIP_COUNT", "1")  # download_memory's data builder: one small ZIP material
os.environ.setdefault("BENCH_ZIP_EACH_MB", "1")
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import download_memory as dm  # noqa: E402 - after the path and the defaults above

RUNS = 7
TARGET = 0.8
MB = 1024 * 1024


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed commands
    return time.perf_counter() - started


def curl(url: str, cookie: str, cert: Path, size: int) -> float:
    command = ["/usr/bin/curl", "-sS", "--fail", "-o", "/dev/null", "--cacert", str(cert), "-H", f"Cookie: {cookie}",
               "-w", "%{size_download} %{time_total}", url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()  # noqa: S603
    if int(out[0]) != size:
        raise RuntimeError(f"{url}: {out[0]} bytes, expected {size}")
    return float(out[1])


def plain_http_copy(port: int):
    """For comparison only: the site's HTTPS server block once more on a plain-HTTP port (its ssl_ lines
    dropped), to show what TLS costs on this machine. Not part of the deployed configuration."""

    def transform(site: str) -> str:
        block = site[site.rindex("server {"):]
        lines = [line for line in block.splitlines() if not line.strip().startswith("ssl_")]
        copy = "\n".join(lines)
        copy = re.sub(r"listen [^;]+ ssl;", f"listen 127.0.0.1:{port};", copy, count=1)
        return site + "\n" + copy + "\n"

    return transform


def main() -> int:  # noqa: PLR0915 - one straight run
    from tests.servers import Nginx, free_port, gunicorn, self_signed_certificate, wait_listening
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="dxplan-bench-nginx-"))
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "dxplan.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "MEDIA_ROOT": str(tmp / "media"),
        "STATIC_ROOT": str(tmp / "static"), "DXPLAN_VAR_DIR": str(tmp / "var"), "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1", "DXPLAN_REQUIRE_2FA": "false",
        "DXPLAN_UPLOAD_MAX_MB": str(dm.BIG_MB + 10), "DXPLAN_X_ACCEL_REDIRECT_PREFIX": "/protected/",
        "PROXY_COUNT": "1", "BEHIND_HTTPS_PROXY": "true", "CELERY_BROKER_URL": "", "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",  # the plain-HTTP comparison row must not be redirected
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
        call_command("migrate", verbosity=0)
        data = dm.build(tmp)
        size = data["big_path"].stat().st_size
        path = f"/materials/{data['big']}/download/"

        web_port, direct_port, https_port, http_port, plain_port = (free_port() for _ in range(5))
        processes.append(gunicorn("bench-web", web_port, env, tmp / "web.log", workers=1))
        direct_env = {**env, "DXPLAN_X_ACCEL_REDIRECT_PREFIX": "", "PROXY_COUNT": "0", "BEHIND_HTTPS_PROXY": "false",
                      "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false"}
        processes.append(gunicorn("bench-direct", direct_port, direct_env, tmp / "direct.log", workers=1))
        for process, port in zip(processes, (web_port, direct_port), strict=True):
            wait_listening(port, process.proc, timeout=60, log=process.log)
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

        via_nginx = f"https://127.0.0.1:{https_port}{path}"
        plain = f"http://127.0.0.1:{plain_port}{path}"
        direct = f"http://127.0.0.1:{direct_port}{path}"
        for url in (via_nginx, plain, direct):  # warm-up: imports, page cache, TLS session
            curl(url, data["cookie"], cert, size)
        rows = []
        cat = statistics.median(timed(["/bin/cat", str(data["big_path"])]) for _ in range(RUNS))
        rows.append(("cat FILE > /dev/null", cat))
        piped = statistics.median(timed(["/bin/sh", "-c", f"/bin/cat '{data['big_path']}' | /bin/cat > /dev/null"])
                                  for _ in range(RUNS))
        rows.append(("cat FILE | cat > /dev/null (bytes to another process)", piped))
        rows.append(("nginx: TLS, Django's check, X-Accel sendfile (curl)",
                     statistics.median(curl(via_nginx, data["cookie"], cert, size) for _ in range(RUNS))))
        rows.append(("nginx, same but plain HTTP (comparison only)",
                     statistics.median(curl(plain, data["cookie"], cert, size) for _ in range(RUNS))))
        rows.append(("gunicorn alone: FileResponse, plain HTTP (curl)",
                     statistics.median(curl(direct, data["cookie"], cert, size) for _ in range(RUNS))))
        load_after = os.getloadavg()

        print(f"\n{size / MB:.0f} MB members-only material, median of {RUNS} runs, {os.cpu_count()} CPUs")
        print(f"{'path':<56}{'seconds':>9}{'MB/s':>9}{'× cat':>8}")
        for name, seconds in rows:
            print(f"{name:<56}{seconds:>9.3f}{size / MB / seconds:>9.0f}{cat / seconds:>8.2f}")
        ratio = cat / rows[2][1]
        print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; "
              f"after: {' '.join(f'{x:.2f}' for x in load_after)}")
        print(f"target: nginx at least {TARGET} × cat: {'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f})")
        return 0 if ratio >= TARGET else 1
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

"""Real servers the storage and deployment tests start themselves: moto's standalone S3 server, nginx (with
deploy/nginx/dxplan.conf rendered into a temporary directory) and gunicorn. Each runs as a child process in
its own process group, on 127.0.0.1, and is stopped by the test that started it.

Ports: any free one, or, with DXPLAN_TEST_PORTS=8140-8159, only those (a shared machine).
Nothing here touches a database, bucket, Redis key or directory it did not create: bucket names and
directories are random and removed at the end.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "nginx" / "dxplan.conf"
_taken: set[int] = set()


def strict() -> bool:
    return os.environ.get("DXPLAN_CI_STRICT") == "1"


def require_local_redis() -> None:
    """Skip the test, with the reason, when no Redis listens on 127.0.0.1:6379; under CI (strict) fail."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if strict():
            raise
        pytest.skip("no Redis server on 127.0.0.1:6379")


@contextlib.contextmanager
def redis_calls(client):
    """What the redis-py `client` sends while the block runs: the commands it executes one by one, and the
    number of commands in each pipeline it executes."""
    commands: list[str] = []
    pipelines: list[int] = []
    original_command, original_pipeline = client.execute_command, client.pipeline

    def pipeline(*args, **kwargs):
        made = original_pipeline(*args, **kwargs)
        original_execute = made.execute
        made.execute = lambda *a, **k: pipelines.append(len(made.command_stack)) or original_execute(*a, **k)
        return made

    client.execute_command = lambda *a, **k: commands.append(a[0]) or original_command(*a, **k)
    client.pipeline = pipeline
    try:
        yield commands, pipelines
    finally:
        del client.execute_command, client.pipeline


def free_port() -> int:
    """A port nothing listens on: from DXPLAN_TEST_PORTS (e.g. 8140-8159) when set, else any."""
    spec = os.environ.get("DXPLAN_TEST_PORTS", "")
    candidates: list[int] = []
    if spec:
        low, _, high = spec.partition("-")
        candidates = [p for p in range(int(low), int(high or low) + 1) if p not in _taken]
    for port in candidates or [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = s.getsockname()[1]
        _taken.add(chosen)
        return chosen
    raise RuntimeError(f"no free port left in DXPLAN_TEST_PORTS={spec}")


def wait_listening(port: int, proc: subprocess.Popen | None = None, timeout: float = 20, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{text}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} after {timeout} s")


@dataclass
class Process:
    """A child process in its own session, so that killing it takes its children (pool, workers)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    proc: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - argv built by the tests
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.kill(signal.SIGKILL)  # leftover children of a process that died first

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# --- moto's standalone S3 server ------------------------------------------------------------------


def moto_missing() -> str | None:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
        import storages  # noqa: F401
    except ImportError as exc:
        return f"the S3 tests need boto3, django-storages and moto[s3] (pip install -r requirements-dev.txt): {exc}"
    return None


@dataclass
class S3Server:
    endpoint: str
    process: Process
    access_key: str = "dxplan-test"
    secret_key: str = "dxplan-test-secret"  # noqa: S105 - moto accepts any key
    region: str = "us-east-1"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    def new_bucket(self) -> str:
        name = f"dxplan-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def drop_bucket(self, bucket: str) -> None:
        """Empty and remove a bucket this test run created (never another)."""
        assert bucket.startswith("dxplan-test-"), bucket
        client = self.client()
        for key in self.keys(bucket):
            client.delete_object(Bucket=bucket, Key=key)
        client.delete_bucket(Bucket=bucket)

    def storage_options(self, bucket: str) -> dict[str, Any]:
        """The S3Storage OPTIONS dxplan/settings.py builds, for this server and bucket."""
        return {
            "bucket_name": bucket, "endpoint_url": self.endpoint, "region_name": self.region,
            "access_key": self.access_key, "secret_key": self.secret_key, "default_acl": "private",
            "querystring_auth": True, "querystring_expire": 60, "file_overwrite": False,
            "signature_version": "s3v4", "max_memory_size": 10 * 1024 * 1024,
        }

    def env(self, bucket: str) -> dict[str, str]:
        """The environment a web or worker process needs to use this bucket, as in production."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": self.region, "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }


def start_s3(log_dir: Path) -> S3Server:
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    process = Process("moto", [str(server), "-H", "127.0.0.1", "-p", str(port)], dict(os.environ),
                      log_dir / "moto.log").start()
    wait_listening(port, process.proc, log=process.log)
    return S3Server(endpoint=f"http://127.0.0.1:{port}", process=process)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's standalone S3 server on 127.0.0.1, spoken to over HTTP with boto3 as in production."""
    missing = moto_missing()
    if missing:
        pytest.skip(missing)
    server = start_s3(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.process.stop()


# --- nginx ------------------------------------------------------------------------------------------


def nginx_missing() -> str | None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed (apt-get install nginx-light; .ci/run does)"
    return None


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def render_conf(template: str, values: dict[str, str]) -> str:
    """Replace each ${DXPLAN_...} as envsubst does with the names listed (nginx's own $vars stay)."""

    def value(match: re.Match) -> str:
        if match[1] not in values:
            raise KeyError(f"{match[1]} has no value for deploy/nginx/dxplan.conf")
        return values[match[1]]

    return re.sub(r"\$\{(DXPLAN_[A-Z0-9_]+)\}", value, template)


@dataclass
class Nginx:
    """deploy/nginx/dxplan.conf rendered with `values`, under a main configuration of the test's own."""

    directory: Path
    values: dict[str, str]
    https_port: int
    http_port: int
    process: Process | None = None
    transform: Any = None  # a benchmark may derive more from the rendered site (a function of its text)

    def start(self) -> Nginx:
        site = render_conf(NGINX_CONF.read_text(), self.values)
        if self.transform is not None:
            site = self.transform(site)
        (self.directory / "dxplan.conf").write_text(site)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.directory / name).mkdir(exist_ok=True)
        # Running as root, nginx's workers would switch to an unprivileged user that cannot read the
        # test's temporary media directory; they keep the test's user instead.
        user = "user root;" if os.geteuid() == 0 else ""
        d = self.directory
        main = f"""{user}
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/dxplan.conf;
}}
"""
        (d / "nginx.conf").write_text(main)
        check = subprocess.run(  # noqa: S603
            [nginx_binary(), "-t", "-q", "-e", str(d / "error.log"), "-p", str(d), "-c", str(d / "nginx.conf")],
            capture_output=True, text=True, check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}\n{site}")
        self.process = Process(
            "nginx",
            [nginx_binary(), "-e", str(d / "error.log"), "-p", str(d), "-c", str(d / "nginx.conf"), "-g",
             "daemon off;"],
            dict(os.environ), d / "nginx.out",
        ).start()
        wait_listening(self.https_port, self.process.proc, log=d / "error.log")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with openssl for this run only."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(  # noqa: S603
        [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


# --- gunicorn ---------------------------------------------------------------------------------------


def gunicorn(name: str, port: int, env: dict[str, str], log: Path, workers: int = 2) -> Process:
    binary = Path(sys.executable).with_name("gunicorn")
    argv = [str(binary), "dxplan.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-", "--name", name, "--preload"]
    process = Process(name, argv, env, log).start()
    return process


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10, context: Any = None,
             follow: bool = False) -> tuple[int, Any, bytes]:
    """GET without following redirects (unless `follow`); returns status, headers (case-insensitive) and body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    handlers: list[Any] = [] if follow else [NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - the tests' own servers
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()

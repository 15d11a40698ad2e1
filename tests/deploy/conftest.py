"""The production form, run for real: gunicorn web nodes behind Debian's nginx (deploy/nginx/dxplan.conf,
rendered into a temporary directory), with TLS, on the PostgreSQL test database.

Needs PostgreSQL (the web processes must see the test database) and nginx; where one is missing the
tests skip with the reason, and CI (DXPLAN_CI_STRICT=1) turns a skip into a failure. Every process is a
child of the test, in its own process group, on 127.0.0.1, and is stopped by it; every directory is a
temporary one of this run.
"""
from __future__ import annotations

import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import (
    ROOT,
    Nginx,
    Process,
    free_port,
    gunicorn,
    nginx_missing,
    self_signed_certificate,
    wait_listening,
)

LOG_DIR = ROOT / "var" / "ci"


def database_url() -> str:
    from tests.integration.conftest import worker_database_url

    return worker_database_url()


@pytest.fixture(scope="session")
def deploy_env(django_db_setup, django_db_blocker) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"the deployment tests need PostgreSQL (DATABASE_URL=postgres://…): the web processes must "
                    f"see the test database, and the {connection.vendor} one is private to this process")
    missing = nginx_missing()
    if missing:
        pytest.skip(f"the deployment tests need nginx: {missing}")


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production process (DEBUG off), on the test database."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    for name in ("AWS_STORAGE_BUCKET_NAME", "DXPLAN_X_ACCEL_REDIRECT_PREFIX", "CELERY_BROKER_URL", "EMAIL_URL"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="dxplan.settings", DEBUG="false", SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=database_url(), CONN_MAX_AGE="0", ALLOWED_HOSTS="127.0.0.1,localhost",
        PROXY_COUNT="1", BEHIND_HTTPS_PROXY="true", EMAIL_URL="consolemail://", DXPLAN_REQUIRE_2FA="false",
        PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def static_root(deploy_env, tmp_path_factory) -> Path:
    """collectstatic once for the session, as production does (manifest and compressed copies)."""
    root = tmp_path_factory.mktemp("static")
    env = production_env(STATIC_ROOT=str(root), DXPLAN_VAR_DIR=str(tmp_path_factory.mktemp("var")))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,  # noqa: S603
                   check=True)
    return root


@dataclass
class Stack:
    """nginx in front of `web` gunicorn nodes; `https` is the address clients use."""

    nginx: Nginx
    web: list[Process]
    web_ports: list[int]
    https: str
    http: str
    cert: Path
    media_root: Path
    directory: Path
    processes: list[Process] = field(default_factory=list)

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def stop(self) -> None:
        self.nginx.stop()
        for process in [*self.web, *self.processes]:
            process.stop()

    def logs(self) -> str:
        parts = [f"--- {p.name} ---\n{p.tail(30)}" for p in [*self.web, *self.processes]]
        return "\n".join(parts) + "\n--- nginx error.log ---\n" + self.nginx.error_log()[-3000:]


def start_stack(directory: Path, static_root: Path, *, nodes: int = 1, workers: int = 2,
                env: dict[str, str] | None = None, max_body: str = "51m") -> Stack:
    """Web nodes on the test database behind nginx with TLS; materials on local disk under `directory`."""
    media_root = directory / "media"
    media_root.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(directory)
    https_port, http_port = free_port(), free_port()
    web_ports = [free_port() for _ in range(nodes)]
    base = production_env(
        MEDIA_ROOT=str(media_root), STATIC_ROOT=str(static_root), DXPLAN_X_ACCEL_REDIRECT_PREFIX="/protected/",
        SITE_URL=f"https://127.0.0.1:{https_port}", DXPLAN_VAR_DIR=str(directory / "var"),
        **(env or {}),
    )
    web = []
    for n, port in enumerate(web_ports, start=1):
        web.append(gunicorn(f"dxplan-web{n}", port, base, directory / f"web{n}.log", workers=workers))
    for process, port in zip(web, web_ports, strict=True):
        wait_listening(port, process.proc, timeout=180, log=process.log)  # an upper bound (busy machine)
    values = {
        "DXPLAN_SERVER_NAME": "127.0.0.1 localhost",
        "DXPLAN_SITE_URL": f"https://127.0.0.1:{https_port}",
        "DXPLAN_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "DXPLAN_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        "DXPLAN_TLS_CERTIFICATE": str(cert),
        "DXPLAN_TLS_KEY": str(key),
        "DXPLAN_UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in web_ports),
        "DXPLAN_STATIC_ROOT": str(static_root),
        "DXPLAN_MEDIA_ROOT": str(media_root),
        "DXPLAN_CLIENT_MAX_BODY_SIZE": max_body,
    }
    nginx_dir = directory / "nginx"
    nginx_dir.mkdir()
    nginx = Nginx(nginx_dir, values, https_port=https_port, http_port=http_port)
    try:
        nginx.start()
    except Exception:
        for process in web:
            process.stop()
        raise
    return Stack(nginx=nginx, web=web, web_ports=web_ports, https=f"https://127.0.0.1:{https_port}",
                 http=f"http://127.0.0.1:{http_port}", cert=cert, media_root=media_root, directory=directory)


@pytest.fixture
def stack(deploy_env, static_root, tmp_path, settings, transactional_db) -> Iterator[Stack]:
    """One web node (two gunicorn workers) behind nginx; this process stores uploads where it serves them."""
    running = start_stack(tmp_path, static_root, max_body="2m", env={"DXPLAN_UPLOAD_MAX_MB": "1"})
    settings.MEDIA_ROOT = running.media_root
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = "/protected/"
    try:
        yield running
    finally:
        running.stop()


def session_cookie(user: Any) -> str:
    """A session of `user` in the shared database, as a login through the site would make."""
    from django.test import Client

    user.save(update_fields=["password"])
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies["sessionid"].value


def _redis_delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def broker(deploy_env, settings):
    """The Redis of CELERY_BROKER_URL, used under a key prefix of this run only (removed at the end)."""
    from tests.integration.conftest import _redis_reachable, set_broker

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        pytest.skip("the multi-node test needs CELERY_BROKER_URL (a Redis database) for its workers")
    problem = _redis_reachable(url)
    if problem:
        pytest.skip(f"the multi-node test needs Redis: {problem}")
    from dxplan.celery import app

    prefix = f"dxplan-test-{uuid.uuid4().hex[:10]}:"
    before = (app.conf.task_always_eager, dict(app.conf.broker_transport_options or {}), app.conf.broker_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": 3600, "global_keyprefix": prefix}
    set_broker(app, url)
    yield url, prefix
    app.conf.broker_transport_options = before[1]
    set_broker(app, before[2] or "")
    app.conf.task_always_eager = before[0]
    _redis_delete_prefix(url, prefix)

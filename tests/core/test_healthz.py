"""/healthz: JSON for load balancers, 200 when healthy, 503 naming the failed check, never an HTML 500."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from celery import current_app
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.urls import reverse

from tests.servers import require_local_redis

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the connection is refused at once
DEAD_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}


def probe(client):
    response = client.get(reverse("healthz"))
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response, response.json()


def test_healthy_answers_200_ok(client, eager_celery):
    response, data = probe(client)
    assert response.status_code == 200
    assert data["status"] == "ok"
    assert data["checks"] == {"database": "ok", "cache": "ok", "broker": "skipped"}  # eager: no broker


def test_database_down_is_503_json_not_html_500(client):
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("db down")):
        response, data = probe(client)
    assert response.status_code == 503
    assert data["status"] == "error"
    assert data["failed"] == ["database"]
    assert data["checks"]["cache"] == "ok"
    assert "db down" not in response.content.decode()


def test_cache_down_is_503(client):
    with override_settings(CACHES=DEAD_CACHE):
        response, data = probe(client)
    assert response.status_code == 503
    assert data["failed"] == ["cache"]
    assert data["checks"]["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()


def test_cache_that_drops_values_is_503(client):
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        response, data = probe(client)
    assert response.status_code == 503 and data["failed"] == ["cache"]


@pytest.fixture
def broker(monkeypatch):
    """Tasks sent to a broker (not eagerly), at the address the test sets."""

    eager = current_app.conf.task_always_eager

    def use(url: str):
        current_app.conf.task_always_eager = False
        monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its own settings
        monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
        return override_settings(CELERY_BROKER_URL=url)

    yield use
    current_app.conf.task_always_eager = eager


def test_broker_down_is_503(client, broker):
    with broker(DEAD_REDIS):
        response, data = probe(client)
    assert response.status_code == 503
    assert data["failed"] == ["broker"]
    assert data["checks"]["database"] == "ok" and data["checks"]["cache"] == "ok"
    assert "127.0.0.1" not in response.content.decode()


def test_broker_up_is_checked(client, broker):
    url = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"
    require_local_redis()
    with broker(url):
        response, data = probe(client)
    assert response.status_code == 200, data
    assert data["checks"]["broker"] == "ok"


def test_every_failure_is_named(client, broker):
    with (
        broker(DEAD_REDIS),
        override_settings(CACHES=DEAD_CACHE),
        mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("x")),
    ):
        response, data = probe(client)
    assert response.status_code == 503
    assert data["failed"] == ["broker", "cache", "database"]


def test_no_session_or_cookie_needed(client, eager_celery):
    response = client.get(reverse("healthz"), HTTP_COOKIE="")
    assert response.status_code == 200
    assert not response.cookies

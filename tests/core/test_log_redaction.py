"""Tokens never reach the logs (issue 11, W7): core.logredact on every record, whoever logs it."""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager

import pytest
from django.test import Client
from django.urls import reverse

from core.logredact import REDACTED, RedactTokens, redact
from notices.tokens import answer_token_for, feed_token

SIGNED = answer_token_for(41, 7)  # eyJhIjo0MSwibSI6N30:1u…:… (its timestamp changes: not in test ids)
# The same shape, fixed, for parametrised ids (pytest-xdist's workers must collect the same ids).
FIXED_SIGNED = "eyJhIjo0MSwibSI6N30:1xY7Gt:lk5aWRSpSbgtjJmbFMKrF5b_3ExSEPF_Z7mLEzsmA3g"


@contextmanager
def captured(logger_name: str = ""):
    """What the handlers already configured on `logger_name` write (their streams swapped for a buffer)."""
    logger = logging.getLogger(logger_name)
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, f"no stream handler on {logger_name or 'root'}"
    buffer = io.StringIO()
    old = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, old, strict=True):
            handler.setStream(stream)


@pytest.mark.parametrize(
    "path",
    [
        f"/answer/{FIXED_SIGNED}/",
        f"/guest/{FIXED_SIGNED}/materials/3/",
        "/calendar/12.Zk3m0p9QxVb7nE2rT4yU6iO8aS1dF5gH.ics",
        "/accounts/reset/MTI/c4x2ab-0f1e2d3c4b5a69788796a5b4c3d2e1f0/",
        "/accounts/invitation/MTI/c4x2ab-0f1e2d3c4b5a69788796a5b4c3d2e1f0/",
        "/meetings/3/observe/confirm/AbCdEf0123456789xyz/",
        "/meetings/3/observe/cancel/AbCdEf0123456789xyz/",
        "/subscriptions/confirm/AbCdEf0123456789xyz/",
        "/subscriptions/unsubscribe/AbCdEf0123456789xyz/",
        "/somewhere/?token=AbCdEf0123456789xyz&page=2",
        "/somewhere/?page=2&key=AbCdEf0123456789xyz",
    ],
)
def test_redact_removes_the_token_and_keeps_the_rest(path):
    token = path.split("token=")[-1].split("&")[0] if "token=" in path else None
    text = redact(f'GET {path} HTTP/1.1" 404')
    assert REDACTED in text
    for secret in (FIXED_SIGNED, "Zk3m0p9QxVb7nE2rT4yU6iO8aS1dF5gH", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                   "AbCdEf0123456789xyz", token or "AbCdEf0123456789xyz"):
        assert secret not in text
    assert text.startswith("GET /") and text.endswith('HTTP/1.1" 404')
    assert redact(text) == text  # idempotent


def test_ordinary_paths_are_left_alone():
    for path in ["/meetings/3/", "/bodies/dx-plan/calendar.ics", "/manage/meetings/3/notices/", "/oparl/?page=2"]:
        assert redact(f"Not Found: {path}") == f"Not Found: {path}"


@pytest.mark.django_db
def test_a_refused_answer_link_is_logged_without_its_token():
    """Django's own 'Bad Request: /answer/…/' warning (django.request, propagated to the root handler)."""
    token = answer_token_for(999_999, 1) + "x"
    with captured() as out:
        response = Client().get(reverse("notices:answer", args=[token]))
    assert response.status_code == 400
    logged = out.getvalue()
    assert "/answer/" in logged and REDACTED in logged
    assert token not in logged and token[:-1] not in logged and token.split(":")[0] not in logged


@pytest.mark.django_db
def test_a_404_with_a_reset_token_is_logged_without_it():
    with captured() as out:
        response = Client().get("/accounts/reset/MTI/c4x2ab-0f1e2d3c4b5a69788796a5b4c3d2e1f0/extra/")
    assert response.status_code == 404
    logged = out.getvalue()
    assert "Not Found" in logged
    assert "0f1e2d3c4b5a69788796a5b4c3d2e1f0" not in logged


@pytest.mark.django_db
def test_the_feed_token_is_logged_without_it(member):
    token = feed_token(member)
    with captured() as out:
        logging.getLogger("django.request").warning("Not Found: %s", f"/calendar/{token}.ics")
    assert token not in out.getvalue()
    assert "/calendar/" + REDACTED in out.getvalue()


def test_runserver_access_lines_are_redacted():
    """django.server has its own handler and does not propagate to the root logger."""
    with captured("django.server") as out:
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /answer/{SIGNED}/ HTTP/1.1", "400", "12")
    assert SIGNED not in out.getvalue() and REDACTED in out.getvalue()


def test_gunicorn_access_lines_are_redacted():
    """gunicorn's access logger has gunicorn's handlers; the filter sits on the logger itself."""
    access = logging.getLogger("gunicorn.access")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    access.addHandler(handler)
    try:
        assert any(isinstance(f, RedactTokens) for f in access.filters)
        access.info('%(h)s "%(r)s" %(s)s', {"h": "192.0.2.1", "r": f"GET /guest/{SIGNED}/?t=abc HTTP/1.0", "s": "404"})
    finally:
        access.removeHandler(handler)
    assert SIGNED not in buffer.getvalue()
    assert buffer.getvalue().startswith('192.0.2.1 "GET /guest/' + REDACTED)


def test_an_exception_carrying_a_token_is_redacted():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", (f"/answer/{SIGNED}/",), None)
    try:
        raise ValueError(f"bad token {SIGNED}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactTokens().filter(record)
    assert SIGNED not in record.getMessage()
    assert SIGNED not in (record.exc_text or "") and "ValueError" in (record.exc_text or "")


def test_a_celery_worker_s_own_log_handlers_get_the_filter():
    from celery.signals import after_setup_logger

    logger = logging.getLogger("test.worker.root")
    buffer = io.StringIO()
    logger.addHandler(logging.StreamHandler(buffer))
    logger.propagate = False
    after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False)
    logger.warning("retrying /answer/%s/", SIGNED)
    assert SIGNED not in buffer.getvalue() and REDACTED in buffer.getvalue()

"""Settings of the production form (issue 15): object storage downloads, stale deliveries, key prefix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_settings import BASE_DIR, load_settings

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "k3y-" + "x" * 60, "ALLOWED_HOSTS": "committees.pref.example.jp"}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DXPLAN_S3_DOWNLOADS": "proxy"}, "DXPLAN_S3_DOWNLOADS must be stream or redirect, not 'proxy'."),
        ({"DXPLAN_S3_URL_SECONDS": "1"}, "DXPLAN_S3_URL_SECONDS must be at least 5, not 1."),
        ({"DXPLAN_MAIL_LEASE_SECONDS": "20", "EMAIL_TIMEOUT": "10"},
         "DXPLAN_MAIL_LEASE_SECONDS (20) must be at least three times EMAIL_TIMEOUT (10)."),
        ({"EMAIL_TIMEOUT": "20"},
         "DXPLAN_MAIL_LEASE_SECONDS (30) must be at least three times EMAIL_TIMEOUT (20)."),
        ({"DXPLAN_MAIL_LEASE_SECONDS": "5"}, "DXPLAN_MAIL_LEASE_SECONDS must be at least 15, not 5."),
        ({"PROXY_COUNT": "-1"}, "PROXY_COUNT must be at least 0, not -1."),
    ],
)
def test_bad_values_stop_the_start(tmp_path: Path, variables: dict, message: str):
    result = load_settings(tmp_path, **PRODUCTION, **variables)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_production_form_reads_its_variables(tmp_path: Path):
    script = (
        "import os, json; os.environ['DJANGO_SETTINGS_MODULE']='dxplan.settings'\n"
        "from django.conf import settings as s\n"
        "print(json.dumps({'opts': s.STORAGES['default'].get('OPTIONS', {}), 'mode': s.DXPLAN_S3_DOWNLOADS,"
        " 'transport': s.CELERY_BROKER_TRANSPORT_OPTIONS, 'stale': s.DXPLAN_DELIVERY_STALE_SECONDS,"
        " 'limits': [s.CELERY_TASK_TIME_LIMIT, s.CELERY_TASK_SOFT_TIME_LIMIT], 'proxies': s.PROXY_COUNT,"
        " 'first': s.MIDDLEWARE[0], 'cache': s.CACHES['default']['BACKEND'], 'sessions': s.SESSION_ENGINE}))"
    )
    environment = {**PRODUCTION, "AWS_STORAGE_BUCKET_NAME": "dxplan-materials", "DXPLAN_S3_DOWNLOADS": "redirect",
                   "DXPLAN_S3_URL_SECONDS": "45", "CELERY_BROKER_KEY_PREFIX": "pref-a:", "CELERY_TASK_TIME_LIMIT": "10",
                   "DXPLAN_DELIVERY_STALE_SECONDS": "15", "PROXY_COUNT": "1", "AWS_S3_ADDRESSING_STYLE": "path",
                   "CACHE_URL": "redis://127.0.0.1:6379/3"}
    run = subprocess.run(  # noqa: S603 - a fixed script run by this interpreter
        [sys.executable, "-c", script], cwd=BASE_DIR, capture_output=True, text=True, check=False,
        env={**_clean_environment(tmp_path), **environment},
    )
    assert run.returncode == 0, run.stderr
    values = json.loads(run.stdout.splitlines()[-1])
    assert values["opts"]["bucket_name"] == "dxplan-materials" and values["opts"]["querystring_expire"] == 45
    assert values["opts"]["addressing_style"] == "path" and values["opts"]["signature_version"] == "s3v4"
    assert values["mode"] == "redirect"
    assert values["transport"] == {"visibility_timeout": 3600, "global_keyprefix": "pref-a:"}
    assert values["stale"] == 15 and values["limits"] == [10, 8]
    assert values["proxies"] == 1 and values["first"] == "core.middleware.ClientAddressMiddleware"
    # Django's Redis cache with its clients kept (core/cache.py); sessions read from it first.
    assert values["cache"] == "core.cache.RedisCache"
    assert values["sessions"] == "django.contrib.sessions.backends.cached_db"


def _clean_environment(tmp_path: Path) -> dict[str, str]:
    import os

    from tests.core.test_settings import variables_read_by_settings

    excluded = variables_read_by_settings()
    environment = {name: value for name, value in os.environ.items() if name not in excluded}
    environment["DXPLAN_VAR_DIR"] = str(tmp_path / "var")
    return environment

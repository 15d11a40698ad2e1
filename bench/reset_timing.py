"""W5: median time of a password-reset POST for known and unknown addresses (issue 11).

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://…/N .venv/bin/python bench/reset_timing.py [runs]

Uses the database and broker of the environment, as production would (a migrated database of your own:
the script adds `runs` accounts named reset-bench-…@example.invalid and deletes them, their audit
entries and outbox rows again). Tasks are only queued (no worker runs): their messages go under the
broker key prefix `reset-bench-`, deleted at the end. Known and unknown requests alternate, each to a
new address, so every known one is a first request (no cooldown) and both see the same noise.
Prints the medians and the load average.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dxplan.settings")
os.environ.setdefault("CELERY_BROKER_KEY_PREFIX", "reset-bench-")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from core.models import AuditEntry, User  # noqa: E402


def main(runs: int) -> int:
    setup_test_environment()
    tag = uuid.uuid4().hex[:8]
    known = [f"reset-bench-{tag}-{n}@example.invalid" for n in range(runs + 2)]
    unknown = [f"reset-bench-{tag}-nobody-{n}@example.invalid" for n in range(runs + 2)]
    users = [User.objects.create_user(email=e, password=None) for e in known]
    url = reverse("password_reset")
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    try:
        for n in range(runs + 2):  # the first pair warms up (templates, content types, connections)
            for kind, address in (("known", known[n]), ("unknown", unknown[n])) if n % 2 else (
                ("unknown", unknown[n]), ("known", known[n])
            ):
                client = Client()
                start = time.perf_counter()
                response = client.post(url, {"email": address}, secure=True)
                elapsed = time.perf_counter() - start
                assert response.status_code == 302, response.status_code
                if n >= 2:
                    times[kind].append(elapsed)
    finally:
        ids = [str(u.pk) for u in users]
        AuditEntry.objects.filter(target_id__in=ids, action="password_reset_requested").delete()
        try:
            from notices.models import OutboxMail

            OutboxMail.objects.filter(to__in=known + unknown).delete()
        except ImportError:
            pass
        User.objects.filter(pk__in=[u.pk for u in users]).delete()
        _drop_broker_keys()
    for kind, values in times.items():
        print(f"{kind:8} median {statistics.median(values) * 1000:7.1f} ms  "
              f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, n={len(values)})")
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0


def _drop_broker_keys() -> None:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match="reset-bench-*"):
        client.delete(key)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))

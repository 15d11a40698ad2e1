"""Benchmark: every page type against Django's own cost, at 1×, 10× and 100× the demo (issue 13). Not a
pytest test.

    .venv/bin/python bench/pages.py                           # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pages.py
    BENCH_SCALES=1,10 BENCH_REPEAT=9 .venv/bin/python bench/pages.py

With a PostgreSQL DATABASE_URL the script creates a database of its own (dxplan_bench_<random>) on that
server and drops it at the end; it never uses, flushes or drops the database the URL names. Without one,
SQLite in a temporary directory. Mail goes nowhere, Celery runs in-process. The cache is Redis, as in
production (sessions cached_db, public pages cached): an empty database of BENCH_REDIS_URL (default
redis://127.0.0.1:6379; BENCH_REDIS_DB=n takes only database n, and only if it is empty) under a key
prefix of this run, whose keys are deleted at the end; without Redis,
the local-memory cache, and so no page cache.

For each scale:
1. the data grows with the project's models (1× is `load_demo`; 10× and 100× add bodies, members in office,
   meetings across the 年度, and materials, agenda items and invitations on one meeting, as issue 13 sized
   them: at 100×, 600 bodies, 1,212 members, about 1,000 meetings, one meeting with 707 materials);
2. each page is fetched once in this process with Django's test client, counting queries and bytes;
3. gunicorn starts with 2 sync workers and production settings (DEBUG off, collected static files), with a
   trivial view mounted in the same process (`bench/bench_urls.py`: "ok", through the whole middleware);
4. after a warm-up, page and trivial requests are interleaved BENCH_REPEAT times (median latency ratio; the
   trivial request carries the same cookies as the page, so a member page is compared with a member's
   trivial request: the session, and the CSRF cookie a browser holds once signed in), then 4 clients
   request the page for BENCH_SECONDS and the trivial view for as long (throughput share).

Targets (issue 13): public pages ≤ 1.5× the trivial view's latency and ≥ 50 % of its throughput; signed-in
pages ≤ 3×; at the largest scale every page ≤ 2× its own latency at 1× and ≤ 200 KB of HTML.
Prints one table per scale and the load average; exit status 0 when every target is met, 1 when one is
missed, 2 when the run failed. Everything it made is removed at the end.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import http.client
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
SCALES = [int(s) for s in os.environ.get("BENCH_SCALES", "1,10,100").split(",") if s.strip()]
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
CLIENTS = 4
PUBLIC_RATIO, PUBLIC_SHARE, SIGNED_IN_RATIO = 1.5, 0.5, 3.0
GROWTH, MAX_BYTES = 2.0, 200 * 1024
TRIVIAL = "/__bench__/ok/"
sys.path[:0] = [str(ROOT), str(BENCH)]


@dataclass
class Page:
    name: str
    url: str
    who: str  # "public", "member", "chair", "secretariat"
    queries: int = 0
    size: int = 0
    status: int = 0


@dataclass
class Row:
    page: Page
    ratio: float
    share: float
    median_ms: float
    problems: list[str] = field(default_factory=list)


# --- the database ------------------------------------------------------------------------------------


def _own_postgres(url: str) -> tuple[str, str]:
    """A new database on the server of `url`; returns its URL and its name."""
    import psycopg

    parts = urlsplit(url)
    name = f"dxplan_bench_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_postgres(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the cache --------------------------------------------------------------------------------------


def _own_redis_cache() -> tuple[str, str] | None:
    """A cache in Redis as production has it (sessions and public pages), in an empty database of
    BENCH_REDIS_URL (default redis://127.0.0.1:6379) under a key prefix of this run; None without Redis."""
    try:
        import redis
    except ImportError:
        return None
    base = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    prefix = f"dxplan-bench-{secrets.token_hex(4)}"
    only = os.environ.get("BENCH_REDIS_DB")  # one given database, used only if it is empty
    for db in [int(only)] if only else range(1, 16):
        try:
            client = redis.Redis.from_url(f"{base}/{db}")
            empty = client.dbsize() == 0
            client.close()
        except redis.RedisError:
            return None
        if empty:
            return f"{base}/{db}?key_prefix={prefix}", prefix
    return None


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url.split("?")[0])
    try:
        for key in client.scan_iter(match=f"*{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


# --- the data ----------------------------------------------------------------------------------------


def _fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _the_scene() -> dict:
    """The demo's committee, its best-furnished meeting and the demo accounts."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from committee.models import Body
    from meetings.models import Meeting

    committee = Body.objects.annotate(n=Count("appointments")).order_by("-n", "pk").first()
    meeting = (
        Meeting.objects.filter(body=committee).annotate(n=Count("materials")).order_by("-n", "-start_at").first()
    )
    users = get_user_model().objects
    return {
        "committee": committee,
        "meeting": meeting,
        "member": users.get(email="member@demo.dxplan.example"),
        "chair": users.get(email="chair@demo.dxplan.example"),
        "secretariat": users.get(email="secretariat@demo.dxplan.example"),
    }


def grow(scene: dict, factor: int) -> None:  # noqa: PLR0914 - one straight build
    """Add rows until the data is `factor` times the demo's (bulk rows, as the query tests make them)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from committee.models import Affiliation, Appointment, Body, Guideline, Person
    from core import kana
    from documents.models import Material, MaterialVersion
    from meetings.models import Agenda, AgendaItem, Attendance, Meeting

    committee, meeting = scene["committee"], scene["meeting"]
    today = timezone.localdate()
    fy = _fiscal_year(today)
    with transaction.atomic():
        base_bodies = 6
        have = Body.objects.count()
        bodies = list(
            Body.objects.bulk_create(
                Body(name=f"ベンチ審議会{n}", short_name=f"ベンチ{n}", slug=f"bench-{n}", kind=committee.kind,
                     secretariat=committee.secretariat, has_external_members=True, display_order=200 + n)
                for n in range(have, base_bodies * factor)
            )
        )
        for body in bodies:
            body.save()  # the history row every body has
        guideline = Guideline.objects.filter(body=committee).order_by("-effective_on").first()
        users = get_user_model().objects
        have = Appointment.objects.filter(body=committee).count()
        wanted = 12 * factor
        start = users.count() + 1
        new_users = users.bulk_create(
            get_user_model()(email=f"bench{n}@bench.example") for n in range(start, start + max(0, wanted - have))
        )
        kanas = "あいうえおかきくけこ"
        people = Person.objects.bulk_create(
            Person(family_name=f"委員{u.pk:05d}", given_name="花子",
                   family_name_kana="".join(kanas[int(d)] for d in f"{u.pk:05d}"),
                   sort_key=kana.sort_key("".join(kanas[int(d)] for d in f"{u.pk:05d}")), user=u)
            for u in new_users
        )
        term_start = dt.date(fy, 4, 1)
        appointments = Appointment.objects.bulk_create(
            Appointment(body=committee, person=p, guideline=guideline, appointed_on=term_start, term_start=term_start,
                        term_end=dt.date(fy + 1, 3, 31))
            for p in people
        )
        Affiliation.objects.bulk_create(
            Affiliation(appointment=a, text=f"所属{a.person.family_name}", valid_from=term_start) for a in appointments
        )
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, appointment=a, reply=Attendance.Reply.VENUE) for a in appointments
        )
        have = Meeting.objects.count()
        all_bodies = list(Body.objects.order_by("pk"))
        zone = timezone.get_current_timezone()
        new_meetings = Meeting.objects.bulk_create(
            Meeting(body=all_bodies[n % len(all_bodies)], number=100 + n, title=all_bodies[n % len(all_bodies)].name,
                    fiscal_year=fy, start_at=dt.datetime(fy, 4 + n % 9, 1 + n % 28, 14, tzinfo=zone))
            for n in range(have, 10 * factor)
        )
        Agenda.objects.bulk_create(Agenda(meeting=m) for m in new_meetings)
        template = MaterialVersion.objects.filter(material__meeting=meeting).order_by("pk").first()
        have = Material.objects.filter(meeting=meeting).count()
        wanted = 7 * factor
        materials = Material.objects.bulk_create(
            Material(meeting=meeting, label=f"参考資料{n}", title=f"参考資料{n}", position=1000 + n,
                     visibility=("public", "members", "secretariat")[n % 3],
                     published_at=timezone.now() if n % 3 == 0 else None)
            for n in range(have, wanted)
        )
        if template is not None:
            versions = MaterialVersion.objects.bulk_create(
                MaterialVersion(material=m, number=1, file=template.file.name, original_name=template.original_name,
                                extension=template.extension, content_type=template.content_type, size=template.size,
                                sha256=template.sha256, uploaded_by=template.uploaded_by)
                for m in materials
            )
            for m, v in zip(materials, versions, strict=True):
                m.current_version = v
            Material.objects.bulk_update(materials, ["current_version"])
        agenda = Agenda.objects.get(meeting=meeting)
        have = AgendaItem.objects.filter(agenda=agenda).count()
        AgendaItem.objects.bulk_create(
            AgendaItem(agenda=agenda, title=f"報告事項{n}", position=1000 + n) for n in range(have, 7 * factor)
        )


def pages(scene: dict) -> list[Page]:
    from django.urls import reverse

    from notices.tokens import feed_token

    committee, meeting = scene["committee"], scene["meeting"]
    pk = meeting.pk
    fy = meeting.fiscal_year
    return [
        Page("home", reverse("committee:home"), "public"),
        Page("body", reverse("committee:body_detail", args=[committee.slug]), "public"),
        Page("body meetings", reverse("meetings:body_meetings", args=[committee.slug]), "public"),
        Page("meeting (public)", reverse("meetings:detail", args=[pk]), "public"),
        Page("schedule", reverse("meetings:schedule_year", args=[fy]), "public"),
        Page("search", reverse("search:search") + "?q=DX", "public"),
        Page("calendar.ics (body)", reverse("notices:body_calendar", args=[committee.slug]), "public"),
        Page("Atom (site)", reverse("opendata:site_feed"), "public"),
        Page("OParl meetings", f"/oparl/body/{_body_code()}/meeting/", "public"),
        Page("meeting (member)", reverse("meetings:detail", args=[pk]), "member"),
        Page("my meetings", reverse("meetings:my_meetings"), "member"),
        Page("calendar.ics (member)", reverse("notices:member_calendar", args=[feed_token(scene["member"])]),
             "public"),
        Page("approvals", reverse("meetings:approvals"), "chair"),
        Page("dashboard", reverse("meetings:dashboard"), "secretariat"),
        Page("manage meeting", reverse("meetings:manage", args=[pk]), "secretariat"),
        Page("material list", reverse("documents:manage", args=[pk]), "secretariat"),
        Page("roster (manage)", reverse("committee:roster_manage", args=[committee.slug]), "secretariat"),
        Page("composition", reverse("committee:composition"), "secretariat"),
        Page("notices", reverse("notices:status", args=[pk]), "secretariat"),
        Page("not downloaded", reverse("documents:not_downloaded", args=[_members_material(meeting)]),
             "secretariat"),
        Page("audit log", reverse("committee:audit_log"), "secretariat"),
    ]


def _members_material(meeting) -> int:
    from documents.models import Material

    return Material.objects.filter(meeting=meeting, visibility="members").order_by("position", "pk")[0].pk


def _body_code() -> str:
    from django.conf import settings

    return settings.DXPLAN_LOCAL_GOVERNMENT_CODE


def count_in_process(page_list: list[Page], cookies: dict[str, str], csrf: dict[str, str]) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for page in page_list:
        client = Client(HTTP_ACCEPT_LANGUAGE="ja", HTTP_HOST="127.0.0.1")
        if page.who != "public":
            client.cookies[settings.SESSION_COOKIE_NAME] = cookies[page.who]
            client.cookies[settings.CSRF_COOKIE_NAME] = csrf[page.who]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        page.queries, page.size, page.status = len(queries), len(body), response.status_code


# --- the server ---------------------------------------------------------------------------------------


def _request(port: int, url: str, cookie: str | None) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Language": "ja", "Host": "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("GET", url, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, len(body)


def _timed(port: int, url: str, cookie: str | None) -> float:
    started = time.perf_counter()
    status, _size = _request(port, url, cookie)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return time.perf_counter() - started


def _throughput(port: int, url: str, cookie: str | None) -> float:
    """Requests per second with CLIENTS clients for SECONDS."""
    deadline = time.perf_counter() + SECONDS

    def client() -> int:
        done = 0
        while time.perf_counter() < deadline:
            _timed(port, url, cookie)
            done += 1
        return done

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(lambda _: client(), range(CLIENTS)))
    return total / (time.perf_counter() - started)


def warm_up(port: int, targets: list[tuple[str, str | None]]) -> None:
    """Every page and the trivial view requested by CLIENTS clients at once, so that each gunicorn worker has
    served each of them before anything is measured (its first request of a page imports, loads templates and
    connects; otherwise the first page measured pays that in its throughput)."""
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for url, cookie in targets:
            list(pool.map(_timed, [port] * CLIENTS * 3, [url] * CLIENTS * 3, [cookie] * CLIENTS * 3))


def measure(port: int, page: Page, cookie: str | None) -> tuple[float, float, float]:
    for _ in range(2):  # warm-up: imports, templates, connections
        _timed(port, page.url, cookie)
        _timed(port, TRIVIAL, cookie)
    page_times, trivial_times = [], []
    for _ in range(REPEAT):
        page_times.append(_timed(port, page.url, cookie))
        trivial_times.append(_timed(port, TRIVIAL, cookie))
    ratio = statistics.median(page_times) / statistics.median(trivial_times)
    share = _throughput(port, page.url, cookie) / _throughput(port, TRIVIAL, cookie)
    return ratio, share, statistics.median(page_times) * 1000


def main() -> int:  # noqa: PLR0915 - one straight run
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="dxplan-bench-pages-"))
    given = os.environ.get("DATABASE_URL", "")
    own_db = None
    if given.startswith(("postgres://", "postgresql://")):
        database_url, own_db = _own_postgres(given)
    else:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    secret = secrets.token_urlsafe(64)
    redis_cache = _own_redis_cache()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CELERY_", "EMAIL_", "CACHE_URL"))},
        "DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": f"{ROOT}:{BENCH}", "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(tmp / "media"), "STATIC_ROOT": str(tmp / "static"), "DXPLAN_VAR_DIR": str(tmp / "var"),
        "DEBUG": "false", "SECRET_KEY": secret, "ALLOWED_HOSTS": "127.0.0.1", "DXPLAN_REQUIRE_2FA": "false",
        "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
        "EMAIL_URL": "dummymail://", "LOG_LEVEL": "WARNING", "DXPLAN_OPENDATA_RATE": "1000000/m",
        "SITE_URL": "http://127.0.0.1",
    }
    if redis_cache:
        env["CACHE_URL"] = redis_cache[0]
    os.environ.clear()
    os.environ.update(env)
    server = None
    all_rows: dict[int, list[Row]] = {}
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        call_command("load_demo", "--allow-production", verbosity=0)
        scene = _the_scene()
        from django.middleware.csrf import _get_new_csrf_string

        cookies, csrf = {}, {}
        for who in ("member", "chair", "secretariat"):
            client = Client()
            client.force_login(scene[who], backend="django.contrib.auth.backends.ModelBackend")
            cookies[who] = client.cookies[settings.SESSION_COOKIE_NAME].value
            # The CSRF cookie a browser holds after signing in (the login form set one, login() renewed it).
            csrf[who] = _get_new_csrf_string()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        for factor in SCALES:
            grow(scene, factor)
            page_list = pages(scene)
            count_in_process(page_list, cookies, csrf)
            from tests.servers import free_port, wait_listening

            port = free_port()
            log = open(tmp / f"gunicorn-{factor}.log", "wb")  # noqa: SIM115 - closed below
            server = subprocess.Popen(  # noqa: S603 - fixed arguments
                [gunicorn, "bench_wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "120",
                 "--preload"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            wait_listening(port, server, timeout=60, log=tmp / f"gunicorn-{factor}.log")
            rows = []

            def cookie_of(page: Page) -> str | None:
                if page.who == "public":
                    return None
                return (f"{settings.SESSION_COOKIE_NAME}={cookies[page.who]}; "
                        f"{settings.CSRF_COOKIE_NAME}={csrf[page.who]}")

            warm_up(port, [(p.url, cookie_of(p)) for p in page_list if p.status == 200]
                    + [(TRIVIAL, None)] + [(TRIVIAL, cookie_of(p)) for p in page_list if p.who != "public"][:1])
            for page in page_list:
                cookie = cookie_of(page)
                if page.status != 200:
                    rows.append(Row(page, float("nan"), float("nan"), float("nan"), [f"status {page.status}"]))
                    continue
                ratio, share, median_ms = measure(port, page, cookie)
                rows.append(Row(page, ratio, share, median_ms))
            server.terminate()
            server.wait(timeout=30)
            log.close()
            server = None
            all_rows[factor] = rows
            _print(factor, rows)
        return _verdict(all_rows, load_before)
    except Exception as exc:  # a failed run says why and leaves nothing behind
        import traceback

        traceback.print_exc()
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        for log in tmp.glob("gunicorn-*.log"):
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if redis_cache:
            _drop_redis_keys(*redis_cache)
        if own_db:
            from django.db import connections

            connections.close_all()
            _drop_postgres(given, own_db)
        shutil.rmtree(tmp, ignore_errors=True)


def _print(factor: int, rows: list[Row]) -> None:
    cache = "Redis cache" if os.environ.get("CACHE_URL") else "no shared cache: no page cache"
    print(f"\n{factor}× the demo ({'PostgreSQL' if 'postgres' in os.environ['DATABASE_URL'] else 'SQLite'}, {cache}, "
          f"gunicorn 2 sync workers, {REPEAT} interleaved requests, {CLIENTS} clients × {SECONDS:g} s)")
    print(f"| {'page':<24} | {'who':<11} | {'median ms':>9} | {'× trivial':>9} | {'throughput':>10} | {'queries':>7} "
          f"| {'KB':>7} |")
    print(f"|{'-' * 26}|{'-' * 13}|{'-' * 11}:|{'-' * 11}:|{'-' * 12}:|{'-' * 9}:|{'-' * 9}:|")
    for row in rows:
        p = row.page
        print(f"| {p.name:<24} | {p.who:<11} | {row.median_ms:>9.1f} | {row.ratio:>9.2f} | {row.share:>9.0%} "
              f"| {p.queries:>7} | {p.size / 1024:>7.1f} |")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _verdict(all_rows: dict[int, list[Row]], load_before: tuple[float, float, float]) -> int:
    missed = []
    smallest, largest = min(all_rows), max(all_rows)
    for factor, rows in all_rows.items():
        for row in rows:
            p = row.page
            if row.page.status != 200:
                missed.append(f"{factor}× {p.name}: answered {p.status}")
                continue
            limit = PUBLIC_RATIO if p.who == "public" else SIGNED_IN_RATIO
            if row.ratio > limit:
                missed.append(f"{factor}× {p.name}: {row.ratio:.2f}× the trivial view (limit {limit})")
            if p.who == "public" and row.share < PUBLIC_SHARE:
                missed.append(f"{factor}× {p.name}: {row.share:.0%} of the trivial view's throughput (limit 50 %)")
    if largest != smallest:
        base = {r.page.name: r for r in all_rows[smallest]}
        for row in all_rows[largest]:
            first = base[row.page.name]
            if row.median_ms > GROWTH * first.median_ms:
                missed.append(f"{largest}× {row.page.name}: {row.median_ms:.0f} ms, over {GROWTH}× its "
                              f"{first.median_ms:.0f} ms at {smallest}×")
            if row.page.size > MAX_BYTES:
                missed.append(f"{largest}× {row.page.name}: {row.page.size / 1024:.0f} KB of HTML (limit 200 KB)")
    print(f"\nload average before: {' '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if missed:
        print(f"targets missed ({len(missed)}):")
        for line in missed:
            print(f"- {line}")
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

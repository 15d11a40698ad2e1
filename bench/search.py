"""Benchmark: the search over 10,000 materials of about 20 pages and 1,000 minutes on PostgreSQL (issue 14).
Not a test.

Creates a PostgreSQL database of its own (a random name, dropped at the end), migrates it, builds a public body
with 1,000 held meetings, each with published minutes of 30 passages (speakers 委員長, 〇〇委員, 事務局) and
10 materials (every fourth for members only) whose index rows are a title and 20 pages of about 400
characters of Japanese administrative text. Then times what the search page does for one page of results
(search.views.results_page and hits_of: the ids of the results, capped at 1,000 as the page caps them,
the first 20 rows with the access rules in the query, and their highlighted snippets), as
the public and as a superuser, for terms of 1, 2, 4 and 10 characters and for speaker-filtered queries:
BENCH_RUNS runs each after one warm-up, median and p95 against the targets (100 ms and 300 ms), and the
CPU time one query costs (this process and its PostgreSQL backend, from /proc), which the load of a shared
machine does not inflate as it does the latency.

    .venv/bin/python bench/search.py
    BENCH_MATERIALS=1000 BENCH_MINUTES=100 .venv/bin/python bench/search.py

Environment: BENCH_MATERIALS (10000), BENCH_PAGES (20), BENCH_MINUTES (1000), BENCH_RUNS (20), BENCH_ROUNDS (1),
BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_KEEP (keep the database, for EXPLAIN).
The database is the script's own: dxplan_bench_search_<random>, created by it and dropped at its end.
Exit status: 0 every target met, 1 not, 2 the run failed. The machine's load averages are printed
before and after: on a shared machine the figures are an upper bound.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MATERIALS = int(os.environ.get("BENCH_MATERIALS", "10000"))
PAGES = int(os.environ.get("BENCH_PAGES", "20"))
MINUTES = int(os.environ.get("BENCH_MINUTES", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))  # the whole table again, on the same data
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
# A database of its own, with a name no one else uses: created here (CREATE fails rather than reuse one) and
# dropped at the end only if this run created it.
DB = f"dxplan_bench_search_{secrets.token_hex(6)}"
TARGET_MEDIAN, TARGET_P95 = 0.100, 0.300

# Pseudo-words of two to four kanji from a list without the characters asked for, drawn with a Zipf-like
# skew (a few words on every page, most rarely), between particles; the terms asked for are planted at
# rates like those of real 資料 (人材 on about one page in twenty).
KANJI = (
    "県市町村民生活産業経済計画推進方針基本施策事業予算行政手続情報技術活用連携支援体制構築環境教育医療福祉観光"
    "農林水商工雇用"
)
PARTICLES = ["の", "を", "に", "と", "は", "が", "、", "。", "について", "する", "\n"]
PLANTED = [("人材", 0.0004), ("地域交通", 0.0003), ("2025年の崖", 0.00005), ("デジタル人材の育成策", 0.00005)]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    return ["".join(rng.choice(KANJI) for _ in range(rng.choice((2, 2, 3, 4)))) for _ in range(size)]


SPEAKERS = ["委員長", "森委員", "池田委員", "佐藤委員", "事務局", "副委員長"]
QUERIES = [  # label, words, filters
    ("1 character", "崖", {}),
    ("2 characters", "人材", {}),
    ("4 characters", "地域交通", {}),
    ("10 characters", "デジタル人材の育成策", {}),
    ("speaker role", "人材", {"role": "member"}),
    ("speaker name", "人材", {"speaker": "森"}),
]


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def text(rng: random.Random, words: list[str], cum_weights: list[float], length: int) -> str:
    out, size = [], 0
    while size < length:
        roll, word = rng.random(), ""
        for planted, rate in PLANTED:
            if roll < rate:
                word = planted
                break
            roll -= rate
        if not word:
            word = rng.choice(PARTICLES) if rng.random() < 0.35 else rng.choices(words, cum_weights=cum_weights)[0]
        out.append(word)
        size += len(word)
    return "".join(out)


def build() -> None:
    from django.contrib.auth import get_user_model

    from committee.models import Body
    from documents.models import Material, MaterialVersion
    from meetings.models import Meeting, Minutes, MinutesEntry
    from search import indexer
    from search.models import SearchEntry
    from tests import factories

    rng = random.Random(14)  # noqa: S311 - made-up text, the same each run
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    get_user_model().objects.create_superuser(email="bench@bench.example", password="bench-" + "x" * 20)
    body = factories.BodyFactory(slug="bench", is_public=True)
    body = Body.objects.get(pk=body.pk)
    meetings_count = max(MINUTES, MATERIALS // 10)
    start = dt.datetime(2020, 4, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    meetings = Meeting.objects.bulk_create(
        Meeting(body=body, number=n + 1, title=f"第{n + 1}回 会議", fiscal_year=2020 + n // 200,
                start_at=start + dt.timedelta(days=n), status=Meeting.Status.MINUTES_PUBLISHED)
        for n in range(meetings_count)
    )
    started = time.monotonic()
    per_meeting = max(1, MATERIALS // len(meetings))
    materials = Material.objects.bulk_create(
        Material(meeting=m, label=f"資料{i}", title=f"資料{i} {rng.choice(words)}について", position=i,
                 visibility="members" if i % 4 == 0 else "public")
        for m in meetings for i in range(1, per_meeting + 1)
    )[:MATERIALS]
    versions = MaterialVersion.objects.bulk_create(
        MaterialVersion(material=mat, number=1, file="materials/x.pdf", original_name="x.pdf", extension="pdf",
                        content_type="application/pdf", size=1, sha256="0" * 64, text_status="done")
        for mat in materials
    )
    for mat, version in zip(materials, versions, strict=True):
        mat.current_version = version
    Material.objects.bulk_update(materials, ["current_version"], batch_size=2000)
    by_meeting = {m.pk: m for m in meetings}
    batch: list = []

    def flush(force: bool = False) -> None:
        if batch and (force or len(batch) >= 2000):
            SearchEntry.objects.bulk_create([indexer._finish(row) for row in batch])
            batch.clear()

    for mat, version in zip(materials, versions, strict=True):
        meeting = by_meeting[mat.meeting_id]
        common = {"kind": "material", "body_id": body.pk, "meeting_id": meeting.pk, "material_id": mat.pk,
                  "fiscal_year": meeting.fiscal_year, "date": meeting.start_at.date(), "title": mat.title}
        batch.append(SearchEntry(**common))
        for page in range(1, PAGES + 1):
            batch.append(SearchEntry(**common, version_id=version.pk, page=page, text=text(rng, words, weights, 400)))
        flush()
    print(f"  materials indexed in {time.monotonic() - started:.0f} s", flush=True)
    minutes = Minutes.objects.bulk_create(
        Minutes(meeting=m, status=Minutes.Status.PUBLISHED) for m in meetings[:MINUTES]
    )
    entries = MinutesEntry.objects.bulk_create(
        MinutesEntry(minutes=mi, position=p, speaker=rng.choice(SPEAKERS), text=text(rng, words, weights, 200))
        for mi in minutes for p in range(30)
    )
    minutes_of = {mi.pk: mi for mi in minutes}
    for entry in entries:
        meeting = by_meeting[minutes_of[entry.minutes_id].meeting_id]
        batch.append(SearchEntry(kind="minutes", body_id=body.pk, meeting_id=meeting.pk, minutes_entry_id=entry.pk,
                                 fiscal_year=meeting.fiscal_year, date=meeting.start_at.date(), title="議事録",
                                 text=entry.text, speaker=entry.speaker,
                                 speaker_role=indexer.speaker_role(entry.speaker)))
        flush()
    flush(force=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # every table, as autovacuum keeps a running site's statistics
    print(f"  built in {time.monotonic() - started:.0f} s: {SearchEntry.objects.count():,} index rows", flush=True)


def cpu_seconds() -> float | None:
    """CPU time used so far by this process and by its PostgreSQL backend (read from /proc: the database
    runs on this machine), or None: what a query costs, whatever else the shared machine is doing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure() -> bool:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    from meetings.access import viewer_for
    from search.selectors import Filters
    from search.text import terms_of
    from search.views import hits_of, results_page

    ok = True
    print("\n| who | query | term | results | median ms | p95 ms | CPU ms | target met |\n"
          "|---|---|---|---:|---:|---:|---:|---|")
    for who, user in (("public", AnonymousUser()), ("secretariat", get_user_model().objects.get(is_superuser=True))):
        for label, words, filters in QUERIES:
            timings, count = [], 0
            for run in range(RUNS + 1):
                if run == 1:
                    cpu_began = cpu_seconds()
                began = time.perf_counter()
                viewer = viewer_for(user)
                terms = terms_of(words)
                page, rows = results_page(viewer, terms, Filters(**filters), 1)
                hits = hits_of(rows, terms)
                count = page.paginator.count
                elapsed = time.perf_counter() - began
                if run:
                    timings.append(elapsed)
                assert len(hits) == min(20, count)
            cpu_ended = cpu_seconds()
            cpu = f"{(cpu_ended - cpu_began) / RUNS * 1000:.0f}" if cpu_ended and cpu_began else "–"
            timings.sort()
            median = statistics.median(timings)
            p95 = timings[min(len(timings) - 1, int(round(0.95 * len(timings))) - 1)]
            met = median <= TARGET_MEDIAN and p95 <= TARGET_P95
            ok &= met
            more = "+" if page.paginator.more else ""
            print(f"| {who} | {label} | {words} | {count:,}{more} | {median * 1000:.0f} | {p95 * 1000:.0f} | {cpu} | "
                  f"{'yes' if met else 'NO'} |", flush=True)
    return ok


def main() -> int:
    os.environ["DATABASE_URL"] = f"{PG}/{DB}"
    os.environ.setdefault("DEBUG", "true")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dxplan.settings")
    print(f"load averages before: {os.getloadavg()}", flush=True)
    pg_admin(f'CREATE DATABASE "{DB}"')  # raises if the name is taken: nothing existing is touched
    print(f"database {DB}", flush=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        build()
        ok = True
        for round_number in range(1, ROUNDS + 1):
            print(f"\nround {round_number} of {ROUNDS}, load averages: {os.getloadavg()}", flush=True)
            ok &= measure()
        from django.db import connections

        connections.close_all()
    except Exception:
        import traceback

        traceback.print_exc()
        return 2
    finally:
        print(f"load averages after: {os.getloadavg()}", flush=True)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up
            pass
        if os.environ.get("BENCH_KEEP"):
            print(f"kept database {DB}: drop it with DROP DATABASE \"{DB}\"", flush=True)
        else:
            pg_admin(f'DROP DATABASE "{DB}" WITH (FORCE)')  # the one this run created
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

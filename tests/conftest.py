"""Shared fixtures: a committee like the Aomori one, and the named people of every test.

The committee's terms run 2023-05-10 to 2024-03-31; tests that depend on "today" travel to
`IN_TERM` (2023-06-01, Asia/Tokyo) with the `in_term` fixture.
"""

import datetime as dt
import zoneinfo
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from committee import services
from committee.models import Appointment, Guideline
from tests import factories

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
APPOINTED = dt.date(2023, 5, 10)
IN_TERM = dt.datetime(2023, 6, 1, 10, 0, tzinfo=TOKYO)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests check behaviour, not the hash's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _open_data_unlimited(settings):
    # The open-data rate limit counts per address in the cache, and every test client is 127.0.0.1:
    # tests/opendata/test_exports.py sets its own limits to test it.
    settings.DXPLAN_OPENDATA_RATE = "100000/m"


@pytest.fixture(autouse=True)
def _password_resets_unlimited(settings):
    # Counted per client address in the cache like the open data: tests/core/test_reset_throttle.py sets its own.
    settings.DXPLAN_PASSWORD_RESET_RATE = "100000/m"
    settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE = "100000/m"


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    # Each test runs inside a transaction that never commits, so the on-commit hook that drops cached
    # public pages never runs: pages read twice around a change would be the cached ones. The cache and
    # its invalidation are tested on their own (tests/documents/test_pagecache.py), with commits.
    settings.DXPLAN_PAGE_CACHE = False


@pytest.fixture
def page_cache_on(settings):
    """The public page cache and the facts kept with it (core.pagecache) on, as production has them with
    Redis (the tests' default is off), from an empty cache."""
    settings.DXPLAN_PAGE_CACHE = True
    cache.clear()
    yield
    cache.clear()


# A one-page PDF: the demo's documents are rendered and checked in tests/documents; elsewhere rendering
# them would only take time.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo as `make run` loads it (today's), once per test module: loaded in a transaction that is
    rolled back when the module's tests are done, each test's own changes rolled back after it (the `db`
    fixture's savepoint inside). Returns the directory of its files (media, the accounts file)."""
    tmp = tmp_path_factory.mktemp("demo")
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, MEDIA_ROOT=tmp / "media", VAR_DIR=tmp),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("documents.demo.render_pdf", lambda *args, **kwargs: MINIMAL_PDF)
        with transaction.atomic():
            call_command("load_demo", stdout=StringIO())
            yield tmp
            transaction.set_rollback(True)


@pytest.fixture
def eager_celery():
    """Celery tasks run in this process (even where CELERY_BROKER_URL names a broker, as in CI), so their
    mail lands in Django's test outbox. Real workers: tests/integration/."""
    from dxplan.celery import app as celery_app

    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def in_term():
    with time_machine.travel(IN_TERM, tick=False):
        yield IN_TERM.date()


@pytest.fixture
def unit(db):
    return factories.OrgUnitFactory(code="dx-suishin", name__name="DX推進課")


@pytest.fixture
def body(unit):
    body = factories.BodyFactory(
        name="「(仮称)青森県DX推進プラン」策定委員会",
        short_name="策定委員会",
        slug="dx-plan",
        secretariat=unit,
        seats=12,
    )
    factories.GuidelineFactory(body=body, vice_chair_selection=Guideline.Selection.NOMINATED_BY_CHAIR)
    return body


@pytest.fixture
def guideline(body):
    return body.guidelines.get()


def _appoint(body, family, reading, *, given="太郎", user=None, affiliation="", gender=""):
    person = factories.PersonFactory(
        family_name=family, given_name=given, family_name_kana=reading, given_name_kana="", user=user, gender=gender
    )
    return services.appointment_create(
        actor=None, body=body, person=person, appointed_on=APPOINTED, affiliation=affiliation or f"{family}の所属"
    )


@pytest.fixture
def secretariat(unit):
    return factories.StaffAssignmentFactory(unit=unit, user__email="secretariat@test.example").user


@pytest.fixture
def chair_appointment(body):
    user = factories.UserFactory(email="chair@test.example")
    appointment = _appoint(body, "森", "もり", given="樹男", user=user)
    services.officer_elect_chair(actor=None, body=body, appointment=appointment, selected_on=APPOINTED)
    return appointment


@pytest.fixture
def chair(chair_appointment):
    return chair_appointment.person.user


@pytest.fixture
def vice_chair_appointment(body, chair_appointment):
    user = factories.UserFactory(email="vice@test.example")
    appointment = _appoint(body, "石井", "いしい", given="重成", user=user)
    services.officer_nominate_vice_chair(actor=None, body=body, appointment=appointment, selected_on=APPOINTED)
    return appointment


@pytest.fixture
def vice_chair(vice_chair_appointment):
    return vice_chair_appointment.person.user


@pytest.fixture
def member_appointment(body):
    user = factories.UserFactory(email="member@test.example")
    return _appoint(body, "佐藤", "さとう", given="志穂", user=user, gender="female")


@pytest.fixture
def member(member_appointment):
    return member_appointment.person.user


@pytest.fixture
def outsider(db):
    return factories.UserFactory(email="outsider@test.example")


@pytest.fixture
def other_body(db):
    other = factories.BodyFactory(name="別の審議会", short_name="別の審議会", slug="other-body")
    factories.GuidelineFactory(body=other)
    return other


@pytest.fixture
def other_member(other_body):
    user = factories.UserFactory(email="other-member@test.example")
    return _appoint(other_body, "加藤", "かとう", given="夢人", user=user).person.user


@pytest.fixture
def other_secretariat(other_body):
    return factories.StaffAssignmentFactory(unit=other_body.secretariat, user__email="other-sec@test.example").user


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="admin@test.example", is_staff=True, is_superuser=True)


def appoint(body, family, reading, **kwargs) -> Appointment:
    """Appoint a named person to `body` under its guidelines (used by tests that build rosters)."""
    return _appoint(body, family, reading, **kwargs)


# --- parallel runs (pytest-xdist) ---------------------------------------------------------------
# `make test` spreads the tests over processes with `--dist loadgroup`; each process has its own test
# database (pytest-django names them test_<name>_gw0, test_<name>_gw1, …). A browser test module runs in
# one process (its Chromium, its live server and the demo it loads once); so does an integration module
# (its celery worker). Each process's worker keeps its broker keys under a prefix of its own
# (tests/integration/conftest.py), so modules can run side by side. The deployment tests run in one
# process: they share one collectstatic and start web nodes, workers and beat of their own.
XDIST_GROUPS = {"browser": "module", "integration": "module", "deploy": "deploy"}
TESTS = Path(__file__).resolve().parent
# Tests that start processes of their own (workers, web nodes, nginx, Chromium) bound every wait themselves;
# pytest-timeout's 300 s (pyproject.toml) is only the last resort for a hung test. On a machine busy with
# other work their setup alone (imports, a worker's start) once took longer, so they get more.
SLOW_FOLDERS_TIMEOUT = {"browser": 600, "integration": 600, "deploy": 900}
# Coverage is measured by the unit and view tests. Tracing costs about 70 % more CPU (measured on
# tests/meetings/test_views.py + tests/committee/test_views.py: 126 s → 217 s), and CI is CPU-bound on two
# cores; these tests run code the others already reach, so they run untraced (pytest-cov's `no_cover`,
# extended below to their setup, where the browser tests build their scenes and load the demo):
# the browser tests, and the tests that build ten or a hundred times the data only to count queries.
UNTRACED_FOLDERS = {"browser"}
UNTRACED_TESTS = {
    "tests/meetings/test_every_page_queries.py::test_every_page_runs_the_same_queries_with_ten_times_the_data",
    "tests/committee/test_admin.py::test_every_changelist_loads_and_its_queries_do_not_grow_with_rows",
    "tests/opendata/test_queries.py::test_lists_run_a_fixed_number_of_queries",
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        if folder in UNTRACED_FOLDERS or item.nodeid.split("[")[0] in UNTRACED_TESTS:
            item.add_marker(pytest.mark.no_cover)
        if folder in SLOW_FOLDERS_TIMEOUT and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_FOLDERS_TIMEOUT[folder]))
        if folder in XDIST_GROUPS:
            group = XDIST_GROUPS[folder]
            if group == "module":
                group = f"{folder}-{item.path.stem}"
            item.add_marker(pytest.mark.xdist_group(group))


class _XdistGroupIds:
    """xdist 3.8 tells its scheduler a test's group by a suffix to the test id ("…::test@browser"), written
    to `item._nodeid`; pytest 9.2 keeps the id in `item._id`, so the suffix and the groups were lost
    (pytest-xdist issue 1386). This writes it where pytest 9.2 reads it, after xdist, unless xdist did."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        if not getattr(config.option, "loadgroup", False):
            return
        from _pytest.nodeid import NodeId

        for item in items:
            mark = item.get_closest_marker("xdist_group")
            if mark is not None and "@" not in item.nodeid.rpartition("]")[2]:
                item._id = NodeId.parse(f"{item.nodeid}@{mark.args[0]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """pytest-cov pauses coverage for a `no_cover` test's call only; its fixtures are set up untraced too."""
    plugin = item.config.pluginmanager.get_plugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    if controller is None or not getattr(controller, "started", False) or item.get_closest_marker("no_cover") is None:
        return (yield)
    controller.pause()
    try:
        return (yield)
    finally:
        controller.resume()


def pytest_configure(config):
    config.pluginmanager.register(_XdistGroupIds(), "dxplan-xdist-group-ids")


# --- CI strictness ---------------------------------------------------------------------------
# On a developer's machine tests that need Redis, a Celery worker or Chromium skip with the reason
# printed. CI sets DXPLAN_CI_STRICT=1: any skip there fails the run.


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("DXPLAN_CI_STRICT") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"DXPLAN_CI_STRICT: {len(skipped)} test(s) skipped; CI requires every test to run.", red=True
        )
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    """The mail scenarios' counts (tests/integration/test_mail_outbox.py: recipients served and doubled),
    listed at the end of every run that ran them, xdist included (they travel on the test reports)."""
    lines = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "call") == "call"
        for key, value in getattr(report, "user_properties", [])
        if key == "mail scenario"
    ]
    if lines:
        terminalreporter.section("mail scenarios")
        for line in lines:
            terminalreporter.line(line)

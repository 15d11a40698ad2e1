"""Take the README's screenshots again: `.venv/bin/python docs/screenshots/take.py`.

It loads the demo (`manage.py load_demo`) into a fresh SQLite file of its own under var/screenshots/,
serves it with `runserver` on 127.0.0.1:PORT (8230 unless `--port`), signs the demo accounts in (a session
written to that database, no password) and has Chromium (Playwright driving Debian's /usr/bin/chromium, or
DXPLAN_CHROMIUM, as tests/browser does) take four pages. Each PNG is reduced to a 256-colour palette so it
stays well under 200 KB. `--out DIR` writes elsewhere (e.g. to compare before and after a change).

Needs requirements-dev.txt (Playwright) and Chromium; touches no other database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DXPLAN_CHROMIUM", "/usr/bin/chromium")
SHOTS = (
    # file, who, what (a function of the demo's meetings giving the path), width, height
    ("public-meeting.png", None, "public", 1280, 1000),
    ("member-375.png", "member@demo.dxplan.example", "member", 375, 812),
    ("secretariat-meeting.png", "secretariat@demo.dxplan.example", "manage", 1280, 1000),
    ("chair-approval.png", "chair@demo.dxplan.example", "approval", 1280, 1000),
)


def _environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    # Its own database; no broker (tasks run at once), no shared cache: nothing of anyone else's is touched.
    env |= {"DATABASE_URL": f"sqlite:///{database}", "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "dxplan.settings"}
    env["CELERY_BROKER_URL"] = ""
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own local server)
                return
        time.sleep(0.5)
    raise SystemExit(f"the demo server did not answer at {url}")


def _paths_and_sessions(env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Which demo pages to show, and a session cookie value for each demo account used."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from core.models import User
    from meetings.models import Agenda, Meeting

    waiting = Meeting.objects.filter(agenda__status=Agenda.Status.SUBMITTED).order_by("start_at").first()
    past = Meeting.objects.filter(status=Meeting.Status.MINUTES_PUBLISHED).order_by("-start_at").first()
    if waiting is None or past is None:
        raise SystemExit("the demo has no 次第 waiting for the chair or no meeting with published minutes")
    paths = {
        "public": reverse("meetings:detail", args=[past.pk]),
        "member": reverse("meetings:my_meetings"),
        "manage": reverse("meetings:manage", args=[waiting.pk]),
        "approval": reverse("meetings:agenda_review", args=[waiting.pk]),
    }
    sessions = {}
    for _name, email, *_rest in SHOTS:
        if email and email not in sessions:
            client = Client()
            client.force_login(User.objects.get(email=email), backend="django.contrib.auth.backends.ModelBackend")
            sessions[email] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return paths, sessions


def _shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8230)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    work = ROOT / "var" / "screenshots"
    work.mkdir(parents=True, exist_ok=True)
    database = work / "demo.sqlite3"
    database.unlink(missing_ok=True)  # this script's own file, rebuilt every run
    env = _environment(database)
    _manage(env, "migrate", "--noinput")
    _manage(env, "load_demo")
    paths, sessions = _paths_and_sessions(env)
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(base + "/")
        _take(base, paths, sessions, args.out)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _take(base: str, paths: dict[str, str], sessions: dict[str, str], out: Path) -> None:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for name, email, what, width, height in SHOTS:
            context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
            if email:
                cookie = {"name": settings.SESSION_COOKIE_NAME, "value": sessions[email], "url": base}
                context.add_cookies([cookie])
            page = context.new_page()
            page.goto(base + paths[what], wait_until="networkidle")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(out / name))
            context.close()
            _shrink(out / name)
            print(f"{out / name}  {(out / name).stat().st_size // 1024} KB  {paths[what]}")
        browser.close()


if __name__ == "__main__":
    main()

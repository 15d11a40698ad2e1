"""Through the real proxy: Debian's nginx with deploy/nginx/dxplan.conf, TLS, in front of gunicorn.

The test client connects from 127.0.0.2 and nginx reaches gunicorn from 127.0.0.1, so the address in the
audit log tells which of the two Django believed.
"""
from __future__ import annotations

import http.client
import os
import re
import threading
import time
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEntry
from documents import services
from documents.models import Download
from tests import factories

from .conftest import Stack, session_cookie, start_stack

CLIENT = "127.0.0.2"


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes


def fetch(stack: Stack, path: str, *, cookie: str | None = None, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None, https: bool = True) -> Answer:
    host, port = (stack.https if https else stack.http).rsplit("//", 1)[1].split(":")
    if https:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port), context=stack.tls(), timeout=20, source_address=(CLIENT, 0))
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=20, source_address=(CLIENT, 0))
    sent = dict(headers or {})
    if cookie:
        sent["Cookie"] = f"sessionid={cookie}"
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def wait_for_line(log: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [row for row in log.read_text(errors="replace").splitlines() if text in row]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {log}")


def pdf(pages: int = 2) -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue() + b"%" + b"x" * 200_000 + b"\n"  # large enough that a copy through Django would show


@pytest.fixture
def committee(stack):
    from tests.integration.conftest import build_committee

    return build_committee(members=3)


def test_a_members_material_is_served_by_nginx_after_djangos_check(stack, committee):
    data = pdf()
    material = services.material_create(
        actor=committee.secretariat, meeting=committee.meeting, title="委員限り資料",
        upload=SimpleUploadedFile("資料.pdf", data, content_type="application/pdf"), visibility="members",
    )
    path = reverse("documents:download", args=[material.pk])
    member = session_cookie(committee.chair)

    # The member: Django checks, answers X-Accel-Redirect with an empty body, nginx sends the file.
    got = fetch(stack, path, cookie=member, headers={"X-Forwarded-For": "203.0.113.99"})
    assert got.status == 200, stack.logs()
    assert got.body == data
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment; filename=")
    assert got.headers["Content-Security-Policy"] == "sandbox"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got.headers["Cache-Control"]
    assert "X-Accel-Redirect" not in got.headers
    line = wait_for_line(stack.web[0].log, f"GET {path} ")  # gunicorn logs once the response is sent
    assert re.search(r'" 200 (0|-) ', line), line  # gunicorn sent no bytes of the file: nginx did

    # Audit: the client's address (127.0.0.2), not nginx's (127.0.0.1) nor what the client wrote.
    download = Download.objects.get(material=material)
    assert download.user == committee.chair and download.ip_address == CLIENT
    entry = AuditEntry.objects.get(action="material_downloaded", target_id=str(material.pk))
    assert entry.ip_address == CLIENT

    # Anyone else: 404 from Django, and no byte of the file.
    outsider = session_cookie(factories.UserFactory(email="outsider@test.example"))
    for cookie in (None, outsider):
        refused = fetch(stack, path, cookie=cookie)
        assert refused.status == 404 and data[:200] not in refused.body
    assert Download.objects.count() == 1

    # The internal location itself answers 404 to a client, with or without a session.
    direct = f"/protected/{material.current_version.file.name}"
    for cookie in (None, member):
        assert fetch(stack, direct, cookie=cookie).status == 404
    assert fetch(stack, "/protected/../" + material.current_version.file.name).status in (400, 404)


def test_static_files_tls_redirect_pages_and_the_upload_limit(stack, committee, static_root):
    css = next(p for p in static_root.rglob("*.css") if p.is_file() and ".gz" not in p.suffixes)
    got = fetch(stack, "/static/" + css.relative_to(static_root).as_posix())
    assert got.status == 200 and got.body == css.read_bytes()
    assert got.headers["Cache-Control"] == "public, max-age=3600"
    plain = fetch(stack, "/bodies/", https=False)
    assert plain.status == 301 and plain.headers["Location"] == f"{stack.https}/bodies/"
    page = fetch(stack, reverse("meetings:detail", args=[committee.meeting.pk]))
    assert page.status == 200, stack.logs()
    assert "Strict-Transport-Security" in page.headers  # Django sees HTTPS through X-Forwarded-Proto
    assert committee.meeting.body.name in page.body.decode()
    # A body over client_max_body_size (DXPLAN_UPLOAD_MAX_MB=1, so 2m) is refused by nginx, before Django.
    over = fetch(stack, "/accounts/login/", method="POST", body=b"x" * (3 * 1024 * 1024),
                 headers={"Content-Type": "application/octet-stream"})
    assert over.status == 413
    under = fetch(stack, "/accounts/login/", method="POST", body=b"x" * 1024,
                  headers={"Content-Type": "application/octet-stream"})
    assert under.status == 403  # it reached Django, which wants its CSRF token


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


@pytest.fixture
def one_worker(deploy_env, static_root, tmp_path, settings, transactional_db):
    """nginx in front of one web node with a single gunicorn worker: the one whose memory is measured."""
    running = start_stack(tmp_path / "stack", static_root, workers=1)
    settings.MEDIA_ROOT = running.media_root
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = "/protected/"
    try:
        yield running
    finally:
        running.stop()


def test_the_zip_streams_through_nginx_with_the_workers_memory_flat(one_worker, tmp_path):
    """The 資料一式 ZIP passes from the gunicorn worker through nginx in chunks: while a 32 MB ZIP goes out,
    the worker's resident memory grows by less than a quarter of it (built whole, it grew by 63 MB).
    Sampled every 5 ms from /proc."""
    from tests.integration.conftest import build_committee

    stack = one_worker
    committee = build_committee(members=3)

    def add(title: str, size: int):
        data = b"%PDF-1.4\n" + os.urandom(size - 15) + b"\n%%EOF"
        return services.material_create(
            actor=committee.secretariat, meeting=committee.meeting, title=title, visibility="members",
            upload=SimpleUploadedFile(f"{title}.pdf", data, content_type="application/pdf"))

    path = reverse("documents:download_all", args=[committee.meeting.pk])
    member = session_cookie(committee.chair)
    add("準備", 64 * 1024)
    for _ in range(2):  # warm-up: the URLconf (WeasyPrint), the views, the templates, a small ZIP
        assert fetch(stack, path, cookie=member).status == 200, stack.logs()
    master = stack.web[0].proc.pid
    workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    assert len(workers) == 1  # the one that served the warm-up
    for n in range(4):
        add(f"大きな資料{n}", 8 * 1024 * 1024)
    before = {pid: rss(pid) for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        host, port = stack.https.rsplit("//", 1)[1].split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=stack.tls(), timeout=60)
        connection.request("GET", path, headers={"Cookie": f"sessionid={member}"})
        response = connection.getresponse()
        assert response.status == 200, stack.logs()
        received = 0
        with open(tmp_path / "all.zip", "wb") as sink:
            while piece := response.read(1024 * 1024):
                received += len(piece)
                sink.write(piece)
        connection.close()
    finally:
        done.set()
        sampler.join()
    assert received == int(response.headers["Content-Length"]) > 32 * 1024 * 1024
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.testzip() is None and len(archive.namelist()) == 5
    growth = peak[workers[0]] - before[workers[0]]
    assert growth < 8 * 1024 * 1024, f"the web worker grew by {growth / 1024 / 1024:.1f} MB for a 32 MB ZIP"

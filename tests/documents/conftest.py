"""Fixtures for the materials tests: 第1回 of the fixture committee on 2023-06-07 14:00, real minimal
files of every allowed type, and a helper that adds a material through the service.

Uploads go to a MEDIA_ROOT under tmp_path, never to var/. "Now" is 2023-06-01 (`in_term`).
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image
from pypdf import PdfWriter

from documents import services
from documents.models import Material
from meetings import services as meeting_services
from meetings.models import Attendee, Meeting
from tests import factories
from tests.conftest import TOKYO

MEETING_DAY = dt.date(2023, 6, 7)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# The four levels a test builds materials at: 事務局のみ, 委員, 公開, and 非公開 (members only, never public).
SECRETARIAT_ONLY = "secretariat"
MEMBERS = "members"
PUBLIC = "public"
CLOSED = "closed"
LEVELS = (SECRETARIAT_ONLY, MEMBERS, PUBLIC, CLOSED)


# --- minimal real files -------------------------------------------------------------------------


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def ooxml_bytes(main_part: str) -> bytes:
    """A minimal Office Open XML package: filetype reads the type from the first entries' names
    ([Content_Types].xml, _rels/.rels, then word/, xl/ or ppt/)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr(main_part, '<?xml version="1.0"?><root/>')
    return out.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "委員名簿"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_bytes(kind: str) -> bytes:
    """An OLE compound file header with the sector-1 signature filetype uses for .doc / .xls."""
    signature = {"doc": b"\xec\xa5\xc1\x00", "xls": b"\x09\x08\x10\x00\x00\x06\x05\x00"}[kind]
    return (OLE_MAGIC + b"\x00" * 504 + signature).ljust(2048, b"\x00")


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = ""
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted by their English msgids, whatever translations exist.
    with translation.override("en"):
        yield


@pytest.fixture
def meeting(body, secretariat, in_term) -> Meeting:
    """第1回 on 2023-06-07 14:00 with a 次第 of three items (the second closed)."""
    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    meeting = meeting_services.meeting_create(
        actor=secretariat, body=body, start_at=start, end_at=start + dt.timedelta(hours=2), venue_name="青森県庁"
    )
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    meeting_services.agenda_item_add(
        actor=secretariat, meeting=meeting, title="人事案件", is_public=False, closure_basis="委員の承諾 (第4-4)"
    )
    return meeting


@pytest.fixture
def attendee(meeting):
    """A 参考人 invited to this meeting, with an account (no appointment to the body)."""
    user = factories.UserFactory(email="witness@test.example")
    person = factories.PersonFactory(family_name="参考", given_name="人子", family_name_kana="さんこう", user=user)
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.WITNESS, person=person, position=1)
    return user


@pytest.fixture
def add_material(meeting, secretariat):
    """add_material(level, **kwargs): a material with a PDF through the service, at one of LEVELS."""

    def add(level: str = MEMBERS, *, title: str = "策定及び推進について", data: bytes | None = None,
            name: str = "資料.pdf", **kwargs) -> Material:
        visibility = MEMBERS if level == CLOSED else level
        return services.material_create(
            actor=kwargs.pop("actor", secretariat), meeting=meeting, title=title,
            upload=upload(name, data if data is not None else pdf_bytes()),
            visibility=visibility, is_closed=level == CLOSED, **kwargs,
        )

    return add


def sign_in(client: Client, user) -> Client:
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def client_for(user, **defaults) -> Client:
    """A client signed in as `user` (None: anonymous); `defaults` go into every request's environ."""
    client = Client(**defaults)
    return client if user is None else sign_in(client, user)

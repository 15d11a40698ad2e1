"""Materials in S3-compatible object storage: moto's standalone server on 127.0.0.1, spoken to over HTTP
by django-storages and boto3 exactly as in production (an endpoint address, keys, a private bucket).

Each test makes its own bucket with a random name and removes it. Downloads are tested both ways
DXPLAN_S3_DOWNLOADS allows: streamed through Django, and a redirect to a short-lived presigned address
(the single file, the 資料一式 ZIP and the 会議資料一式 PDF).
"""
from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditEntry
from documents import services
from documents.models import Download
from documents.views import download_name
from tests.servers import S3Server, http_get, s3_server  # noqa: F401 - the fixture

from .conftest import MEMBERS, PUBLIC, SECRETARIAT_ONLY, client_for, pdf_bytes, upload


@pytest.fixture
def bucket(s3_server: S3Server, settings, media_root):  # noqa: F811 - the fixture imported above
    """A fresh bucket that the default storage uses, as settings.py configures S3 from the environment."""
    name = s3_server.new_bucket()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(name)},
    }
    settings.DXPLAN_S3_DOWNLOADS = "stream"
    settings.DXPLAN_S3_URL_SECONDS = 60
    yield name
    s3_server.drop_bucket(name)


def keys(s3: S3Server, bucket: str, prefix: str = "") -> list[str]:
    return s3.keys(bucket, prefix)


def test_materials_and_their_versions_are_stored_in_the_bucket(s3_server, bucket, add_material, secretariat,  # noqa: F811
                                                               media_root):
    material = add_material(MEMBERS, data=pdf_bytes(1))
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    stored = keys(s3_server, bucket)
    versions = list(material.versions.order_by("number"))
    assert stored == sorted(v.file.name for v in versions)
    assert all(key.startswith("materials/") and key.endswith(".pdf") for key in stored)
    body = s3_server.client().get_object(Bucket=bucket, Key=versions[1].file.name)["Body"].read()
    assert PdfReader(io.BytesIO(body)).get_num_pages() == 2
    assert not any(p.is_file() for p in media_root.rglob("*")) if media_root.exists() else True


def test_a_streamed_download_reads_the_object_with_the_usual_headers(bucket, add_material, member, secretariat):
    data = pdf_bytes(3)
    material = add_material(MEMBERS, data=data)
    response = client_for(member).get(reverse("documents:download", args=[material.pk]), REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == data
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Security-Policy"] == "sandbox" and response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    name = download_name(material, material.current_version)
    assert unquote(response["Content-Disposition"].split("UTF-8''")[1]) == name
    assert Download.objects.get(material=material).ip_address == "192.0.2.7"
    old = client_for(secretariat).get(reverse("documents:version_download", args=[material.pk, 1]))
    assert b"".join(old.streaming_content) == data


def _follow(location: str) -> tuple[int, Any, bytes]:
    return http_get(location)


def _presigned(response, s3: S3Server, seconds: int = 60) -> dict[str, list[str]]:
    assert response.status_code == 302
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert response["Referrer-Policy"] == "no-referrer"
    location = response["Location"]
    assert location.startswith(s3.endpoint + "/")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == [str(seconds)]  # short-lived
    assert "X-Amz-Signature" in query
    return query


def test_a_redirected_download_is_a_presigned_address_after_the_access_check(
    s3_server, bucket, settings, add_material, member, outsider, secretariat  # noqa: F811
):
    settings.DXPLAN_S3_DOWNLOADS = "redirect"
    settings.DXPLAN_S3_URL_SECONDS = 45
    data = pdf_bytes(2)
    material = add_material(MEMBERS, title="報告書", data=data)
    url = reverse("documents:download", args=[material.pk])
    assert client_for(outsider).get(url).status_code == 404  # the access check comes first: no address
    assert client_for(None).get(url).status_code == 404
    response = client_for(member).get(url)
    query = _presigned(response, s3_server, seconds=45)
    assert query["response-content-type"] == ["application/pdf"]
    status, headers, body = _follow(response["Location"])
    assert status == 200 and body == data
    name = download_name(material, material.current_version)
    assert headers["Content-Disposition"].startswith("attachment;")
    assert unquote(headers["Content-Disposition"].split("UTF-8''")[1]) == name
    assert Download.objects.filter(material=material, user=member).count() == 1
    assert AuditEntry.objects.filter(action="material_downloaded", target_id=str(material.pk)).count() == 1
    # The secretariat's earlier versions go the same way.
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(1)))
    old = client_for(secretariat).get(reverse("documents:version_download", args=[material.pk, 1]))
    assert _follow(old["Location"])[2] == data


@pytest.mark.parametrize("mode", ["stream", "redirect"])
def test_the_zip_of_all_materials_from_the_bucket(s3_server, bucket, settings, mode, add_material, member,  # noqa: F811
                                                  meeting):
    settings.DXPLAN_S3_DOWNLOADS = mode
    first = add_material(MEMBERS, title="委員向け", data=pdf_bytes(1))
    second = add_material(PUBLIC, title="公開", data=pdf_bytes(2))
    add_material(SECRETARIAT_ONLY, title="事務局のみ", data=pdf_bytes(1))
    response = client_for(member).get(reverse("documents:download_all", args=[meeting.pk]))
    if mode == "stream":
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        assert response["Content-Length"] == str(len(data))
    else:
        _presigned(response, s3_server)
        status, headers, data = _follow(response["Location"])
        assert status == 200 and headers["Content-Type"] == "application/zip"
        assert "UTF-8''" in headers["Content-Disposition"]
        generated = keys(s3_server, bucket, "generated/")
        assert len(generated) == 1 and generated[0].endswith(f"meeting-{meeting.pk}-materials.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == [download_name(m, m.current_version) for m in (first, second)]
        assert archive.read(names[1]) == second.current_version.file.open("rb").read()
    assert Download.objects.filter(user=member, via_zip=True).count() == 1  # the members-only one


@pytest.mark.parametrize("mode", ["stream", "redirect"])
def test_the_compiled_pdf_of_all_materials_from_the_bucket(s3_server, bucket, settings, mode, add_material,  # noqa: F811
                                                           member, meeting):
    settings.DXPLAN_S3_DOWNLOADS = mode
    add_material(MEMBERS, title="委員向け", data=pdf_bytes(2))
    add_material(PUBLIC, title="公開", data=pdf_bytes(3))
    response = client_for(member).get(reverse("print:materials_pdf", args=[meeting.pk]))
    if mode == "stream":
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        data = response.content
    else:
        _presigned(response, s3_server)
        status, headers, data = _follow(response["Location"])
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert [k for k in keys(s3_server, bucket, "generated/") if k.endswith(f"meeting-{meeting.pk}-materials.pdf")]
    reader = PdfReader(io.BytesIO(data))
    assert reader.get_num_pages() >= 2 + 3 + 2  # cover and contents, then both materials' pages
    assert Download.objects.filter(user=member, via_zip=True).count() == 1


def test_rejected_uploads_leave_nothing_in_the_bucket(s3_server, bucket, meeting, secretariat, add_material):  # noqa: F811
    with pytest.raises(ValidationError):
        services.material_create(actor=secretariat, meeting=meeting, title="偽装",
                                 upload=upload("x.pdf", b"<html><script>alert(1)</script></html>"))
    with pytest.raises(ValidationError):
        services.material_create(actor=secretariat, meeting=meeting, title="空", upload=upload("x.pdf", b""))
    # Checked by content and accepted, then refused by the rules (非公開 can never be public): the stored
    # object is removed again.
    with pytest.raises(ValidationError):
        services.material_create(actor=secretariat, meeting=meeting, title="非公開を公開", is_closed=True,
                                 visibility=PUBLIC, upload=upload("ok.pdf", pdf_bytes(1)))
    assert keys(s3_server, bucket) == []
    material = add_material(MEMBERS)
    services.material_withdraw(actor=secretariat, material=material, reason="誤り")
    with pytest.raises(ValidationError):
        services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(1)))
    assert keys(s3_server, bucket) == [material.current_version.file.name]

"""Downloads keep memory flat (issue 13): the single file and the 資料一式 ZIP are streamed in chunks, so the
Python memory a download allocates stays a few chunks however large the files are.

tracemalloc counts every Python allocation (each chunk read is a bytes object), so a download that read a
file or built the archive whole would show its full size here. The worker's resident memory through gunicorn
and nginx is measured by bench/nginx_download.py and tests/deploy/test_nginx.py.
"""
from __future__ import annotations

import os
import tracemalloc
import zipfile
import zlib

import pytest
from django.urls import reverse

from documents import delivery, zipping
from tests.servers import s3_server  # noqa: F401 - the fixture

from .conftest import MEMBERS, client_for
from .test_object_storage import bucket  # noqa: F401 - the fixture: a fresh bucket in moto's S3 server

MB = 1024 * 1024
EACH = 6 * MB
LIMIT = 2 * MB  # a few 256 KiB chunks; every file here is three times that, the ZIP twelve times


def pdf_like(size: int) -> bytes:
    """Passes the upload check as a PDF; incompressible, as real PDFs mostly are."""
    return b"%PDF-1.4\n" + os.urandom(size - 15) + b"\n%%EOF"


def streamed(response, sink) -> tuple[int, int]:
    """Reads the streamed body into `sink` (a file), returning its length and the peak of Python memory
    allocated while it was produced."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        total = 0
        for chunk in response.streaming_content:
            total += len(chunk)
            sink.write(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return total, peak


@pytest.fixture
def big(add_material):
    return [add_material(MEMBERS, title=f"大きな資料{n}", data=pdf_like(EACH)) for n in range(4)]


def test_a_large_file_streams_in_chunks(big, member, tmp_path):
    material = big[0]
    response = client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert response.status_code == 200 and response.streaming
    with open(tmp_path / "out", "wb") as sink:
        total, peak = streamed(response, sink)
    assert total == int(response["Content-Length"]) == EACH
    assert peak < LIMIT, f"a {EACH // MB} MB download allocated {peak / MB:.1f} MB"
    assert (tmp_path / "out").read_bytes() == material.current_version.file.open("rb").read()


def test_the_zip_streams_in_chunks_with_correct_checksums(big, member, meeting, tmp_path):
    response = client_for(member).get(reverse("documents:download_all", args=[meeting.pk]))
    assert response.status_code == 200 and response.streaming
    with open(tmp_path / "out.zip", "wb") as sink:
        total, peak = streamed(response, sink)
    assert total == int(response["Content-Length"]) > 4 * EACH
    assert peak < LIMIT, f"a {total // MB} MB ZIP allocated {peak / MB:.1f} MB"
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.testzip() is None  # every member's CRC-32 checked against its bytes
        assert [info.compress_type for info in archive.infolist()] == [zipfile.ZIP_STORED] * 4


def test_from_object_storage_the_file_and_the_zip_stream_in_chunks(bucket, add_material, member, meeting,  # noqa: F811
                                                                    tmp_path):
    """DXPLAN_S3_DOWNLOADS=stream: every byte passes through Python (boto3 reading the object's body)."""
    made = [add_material(MEMBERS, title=f"大きな資料{n}", data=pdf_like(EACH)) for n in range(2)]
    client = client_for(member)
    for path, expected in ((reverse("documents:download", args=[made[0].pk]), EACH),
                           (reverse("documents:download_all", args=[meeting.pk]), None)):
        response = client.get(path)
        assert response.status_code == 200 and response.streaming
        with open(tmp_path / "out", "wb") as sink:
            total, peak = streamed(response, sink)
        assert total == int(response["Content-Length"]) >= (expected or 2 * EACH)
        assert peak < LIMIT, f"{path}: {total // MB} MB from the bucket allocated {peak / MB:.1f} MB"
    with zipfile.ZipFile(tmp_path / "out") as archive:
        assert archive.testzip() is None


def test_the_zip_checksum_is_zlibs_crc32():
    """The fast CRC-32 zipstream-ng is given (zlib-ng's) gives zlib's values, chunk after chunk."""
    assert zipping.fast_crc32 is not None, "zlib-ng (requirements.txt) is not installed"
    data = os.urandom(3 * delivery.CHUNK_SIZE + 17)
    crc = 0
    for start in range(0, len(data), delivery.CHUNK_SIZE):
        crc = zipping.fast_crc32(data[start:start + delivery.CHUNK_SIZE], crc)
    assert crc == zlib.crc32(data)

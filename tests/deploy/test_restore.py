"""Backup and restore with deploy/backup/dxplan-backup (pg_dump of the database and `manage.py
files_backup` of the bucket) and dxplan-restore (pg_restore into a fresh database, `manage.py
files_restore` into a fresh bucket); a web node behind nginx on the restored pair serves the same meeting
and material. The database and buckets are made by this test under random names and removed by it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.servers import S3Server, s3_server  # noqa: F401 - the fixture

from .conftest import ROOT, production_env, session_cookie, start_stack
from .test_nginx import fetch

pytestmark = pytest.mark.integration


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"the restore test needs {name} (apt-get install postgresql-client)")
    return path


def _url(settings_dict: dict, name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{quote(name, safe='')}"


def _admin(sql: str, settings_dict: dict) -> None:
    import psycopg

    with psycopg.connect(_url(settings_dict, "postgres"), autocommit=True) as connection:
        connection.execute(sql)


def test_a_dump_and_a_bucket_copy_restore_the_same_site(
    deploy_env, static_root, tmp_path, settings, transactional_db, s3_server: S3Server  # noqa: F811
):
    from django.db import connection

    from documents import services as documents
    from tests.integration.conftest import build_committee

    pg_dump = _pg_tool("pg_dump")
    _pg_tool("pg_restore")
    source_bucket, fresh_bucket = s3_server.new_bucket(), s3_server.new_bucket()
    db = connection.settings_dict
    base = db["NAME"].removeprefix("test_")  # dxplan_<name>_restore_<random>: beside the project's database
    fresh_db = f"{base}_restore_{uuid.uuid4().hex[:12]}"
    stack = None
    created = False
    try:
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(source_bucket)}}
        committee = build_committee(members=3)
        data = b"%PDF-1.4\n" + uuid.uuid4().bytes * 1000 + b"\n%%EOF\n"
        material = documents.material_create(
            actor=committee.secretariat, meeting=committee.meeting, title="復元の確認資料", visibility="members",
            upload=SimpleUploadedFile("m.pdf", data, content_type="application/pdf"))
        member = session_cookie(committee.chair)

        # deploy/backup/dxplan-backup: pg_dump, then the bucket's files, into one dated directory.
        scripts = ROOT / "deploy" / "backup"
        tools = {"DXPLAN_APP": str(ROOT), "DXPLAN_PYTHON": sys.executable, "DXPLAN_BACKUP_DIR": str(tmp_path / "b"),
                 "PATH": f"{Path(pg_dump).parent}:{os.environ.get('PATH', '')}"}
        backup_env = production_env(**s3_server.env(source_bucket), **tools, DXPLAN_VAR_DIR=str(tmp_path / "var"),
                                    DATABASE_URL=_url(db, db["NAME"]))
        made = subprocess.run([str(scripts / "dxplan-backup")], env=backup_env, check=True,  # noqa: S603
                              capture_output=True, text=True)
        backup = Path(made.stdout.strip().splitlines()[-1])
        assert (backup / "dxplan.dump").is_file()
        assert (backup / "files" / material.current_version.file.name).read_bytes() == data

        # deploy/backup/dxplan-restore into a fresh database and a fresh bucket; it refuses a full database.
        _admin(f'CREATE DATABASE "{fresh_db}"', db)
        created = True
        restore_env = production_env(**s3_server.env(fresh_bucket), **tools, DATABASE_URL=_url(db, fresh_db),
                                     DXPLAN_VAR_DIR=str(tmp_path / "var"))
        subprocess.run([str(scripts / "dxplan-restore"), str(backup)], env=restore_env, check=True)  # noqa: S603
        assert s3_server.keys(fresh_bucket) == s3_server.keys(source_bucket)
        again = subprocess.run([str(scripts / "dxplan-restore"), str(backup)], env=restore_env,  # noqa: S603
                               capture_output=True, text=True, check=False)
        assert again.returncode == 2 and "not empty" in again.stderr

        # The site on the restored pair only.
        s3_server.drop_bucket(source_bucket)
        source_bucket = ""
        stack = start_stack(tmp_path / "site", static_root, nodes=1, workers=1, env={
            **s3_server.env(fresh_bucket), "DATABASE_URL": _url(db, fresh_db)})
        page = fetch(stack, reverse("meetings:detail", args=[committee.meeting.pk]), cookie=member)
        assert page.status == 200, stack.logs()
        assert committee.body.name in page.body.decode() and material.title in page.body.decode()
        got = fetch(stack, reverse("documents:download", args=[material.pk]), cookie=member)
        assert got.status == 200 and got.body == data
    finally:
        if stack is not None:
            stack.stop()
        for bucket in (source_bucket, fresh_bucket):
            if bucket:
                s3_server.drop_bucket(bucket)
        if created:
            _admin(f'DROP DATABASE IF EXISTS "{fresh_db}" WITH (FORCE)', db)

"""The running demo's public search finds 「2025年の崖」 inside 資料3: its materials are read on load,
through the upload service, like any upload."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from documents import demo
from documents.models import Material, MaterialVersion


def test_the_demo_finds_words_inside_its_materials(db, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path  # the demo accounts' passwords go to a file there
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())
    assert not MaterialVersion.objects.exclude(text_status=MaterialVersion.TextStatus.DONE).exists()
    material = Material.objects.get(label="資料3", meeting__number=1, meeting__body__slug=demo.COMMITTEE)
    page = Client().get(reverse("search:search"), {"q": "2025年の崖"}).content.decode()
    assert reverse("documents:download", args=[material.pk]) + "#page=1" in page
    assert "<mark>2025年の崖</mark>" in page
    # 人材 across documents: inside 資料3's file and in the published minutes.
    found = Client().get(reverse("search:search"), {"q": "人材"}).content.decode()
    assert reverse("documents:download", args=[material.pk]) + "#page=" in found
    assert "#minutes" in found

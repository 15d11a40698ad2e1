"""Fixtures for the open data tests: the Aomori demo as `make run` loads it, the project's JSON Schemas,
and a client that walks OParl by links alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import cache
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas"
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    # The rate limit counts in the cache: each test starts from zero and has room to walk the demo.
    settings.DXPLAN_OPENDATA_RATE = "100000/m"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(demo_loaded, db, settings):
    """The demo, loaded once for this module (tests/conftest.py: demo_loaded); its files stay where it wrote them."""
    settings.MEDIA_ROOT = demo_loaded / "media"
    settings.DEBUG = True
    settings.VAR_DIR = demo_loaded


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


OPARL = _schema("oparl-1.1.json")
POPOLO = _schema("popolo.json")


def oparl_validator(definition: str) -> Draft202012Validator:
    registry = Registry().with_resource(OPARL["$id"], Resource.from_contents(OPARL))
    return Draft202012Validator({"$ref": f"{OPARL['$id']}#/$defs/{definition}"}, registry=registry)


def popolo_validator() -> Draft202012Validator:
    return Draft202012Validator(POPOLO)


def validate_oparl(obj: dict, definition: str | None = None) -> None:
    """Raise with every problem found, naming the object."""
    definition = definition or obj["type"].rsplit("/", 1)[-1]
    errors = sorted(oparl_validator(definition).iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, f"{obj.get('id')}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

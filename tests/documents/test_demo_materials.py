"""The demo materials of the 策定委員会 第1回: the seed's 資料1–3 as PDFs made from its text, the 次第,
出席者名簿 and 席図 from the print templates, who may see each, and a second load that adds nothing."""
from __future__ import annotations

import io
import re
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from pypdf import PdfReader

from core.models import AuditEntry, User
from documents import demo
from documents.models import Material, MaterialVersion
from documents.selectors import materials_visible_to
from meetings.models import Meeting
from tests.conftest import IN_TERM

SEED_MATERIALS = ["次第", "出席者名簿", "席図", "資料1", "資料2", "資料3"]


@pytest.fixture
def loaded(db, settings, tmp_path):
    """The demo data, then the demo materials (load_demo may already attach them; a second load is a no-op)."""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path  # the demo accounts' passwords go to a file there
    call_command("load_demo", stdout=StringIO())
    secretariat = User.objects.get(email="secretariat@demo.dxplan.example")
    demo.load(secretariat=secretariat)
    return secretariat


def _meeting() -> Meeting:
    return Meeting.objects.get(body__slug=demo.COMMITTEE, number=1)


def _materials() -> dict[str, Material]:
    rows = _meeting().materials.select_related("current_version")
    return {m.label or m.title: m for m in rows}


def _text(material: Material) -> str:
    with material.current_version.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


def test_demo_materials(loaded):
    """One test, three checks: loading renders seven PDFs (a few seconds), done once here."""
    check_pdfs_with_their_text()
    check_visibility()
    check_loading_twice_adds_nothing(loaded)


def check_pdfs_with_their_text():
    materials = _materials()
    assert set(SEED_MATERIALS) | {demo.EXTRA_LABEL} == set(materials)
    for key, material in materials.items():
        version = material.current_version
        assert version is not None and version.extension == "pdf" and version.content_type == "application/pdf", key
        with version.file.open("rb") as handle:
            assert handle.read(5) == b"%PDF-", key
    expected = {
        "次第": ["第1回「(仮称)青森県DX推進プラン」策定委員会", "令和5年5月10日(水)14:00", "次第", "1.開会",
                "2.青森県企画政策部次長挨拶", "(2)意見交換", "【資料】", "資料3青森県DX推進方向"],
        "出席者名簿": ["策定委員会出席者名簿", "(五十音順、敬称略)", "池田右文", "株式会社池田介護研究所代表",
                  "蕨加奈子"],
        "席図": ["席図", "森樹男", "委員長"],
        "資料1": ["「(仮称)青森県DX推進プラン」策定委員会設置要綱",
                "第6委員会の庶務は、青森県企画政策部DX推進課において処理する。",
                "この要綱は、令和5年4月13日から施行する。", "本田政邦"],
        "資料2": ["(仮称)青森県DX推進プランの策定及び推進について", "1策定の趣旨",
                "2024年度(令和6年度)～2028年度(令和10年度)の5年間", "2023年度スケジュール（予定）", "第1回◆5/10"],
        "資料3": ["青森県DX推進方向", "令和5年3月7日(火)", "2025年の崖", "デジタル庁",
                "～青森県はDXでもっとおもしろくなる～", "基本方針3「行政経営」を支えるDX"],
        demo.EXTRA_LABEL: ["委員意見シート", "デモデータ"],
    }
    for key, phrases in expected.items():
        text = _text(materials[key])
        for phrase in phrases:
            assert phrase in text, (key, phrase)
    assert "参考資料1" not in _text(materials["次第"])  # the seed's list, not the demo's extra


def check_visibility():
    materials = _materials()
    for key in ("次第", "出席者名簿", "資料1", "資料2", "資料3"):
        assert materials[key].visibility == Material.Visibility.PUBLIC and materials[key].published_at, key
        assert AuditEntry.objects.filter(action="material_published", target_id=str(materials[key].pk)).exists()
    assert materials["席図"].visibility == Material.Visibility.PUBLIC
    assert materials[demo.EXTRA_LABEL].visibility == Material.Visibility.MEMBERS
    public = [m.label or m.title for m in materials_visible_to(AnonymousUser(), _meeting())]
    assert public == ["次第", "出席者名簿", "席図", "資料1", "資料2", "資料3"]
    chair = User.objects.get(email="chair@demo.dxplan.example")
    with time_machine.travel(IN_TERM, tick=False):  # the demo's terms ended on 2024-03-31
        assert demo.EXTRA_LABEL in [m.label for m in materials_visible_to(chair, _meeting())]
    assert demo.EXTRA_LABEL not in [m.label for m in materials_visible_to(chair, _meeting())]


def check_loading_twice_adds_nothing(secretariat):
    before = (Material.objects.count(), MaterialVersion.objects.count(), AuditEntry.objects.count(),
              sorted(MaterialVersion.objects.values_list("sha256", flat=True)))
    assert demo.load(secretariat=secretariat) == {"materials_attached": 0, "materials_created": 0}
    after = (Material.objects.count(), MaterialVersion.objects.count(), AuditEntry.objects.count(),
             sorted(MaterialVersion.objects.values_list("sha256", flat=True)))
    assert after == before

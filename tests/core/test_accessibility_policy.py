"""The ウェブアクセシビリティ方針 page, the test record it links to, and the organisation's colour (issue 19)."""

import json
import random
from html import escape

import pytest
from django.core.checks import Error, Warning
from django.urls import reverse

from core import checks
from core.accessibility import RECORD_DIR, load_pages, record

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


@pytest.fixture(autouse=True)
def _policy_settings(settings):
    settings.DXPLAN_ORGANISATION_NAME = "青森県"
    settings.DXPLAN_ORGANISATION_CONTACT = "企画政策部DX推進課 017-734-0000"
    settings.DXPLAN_ACCESSIBILITY_LEVEL = "AA"
    settings.DXPLAN_ACCESSIBILITY_CONFORMANCE = "considered"
    settings.DXPLAN_ACCESSIBILITY_POLICY_DATE = "2026-11-30"
    settings.DXPLAN_ACCESSIBILITY_TARGET_DATE = "2027-03-31"
    settings.DXPLAN_ACCESSIBILITY_TESTED_ON = ""
    settings.DXPLAN_ACCESSIBILITY_RECORD_URL = ""


def test_the_policy_names_scope_level_degree_exceptions_results_and_contact_in_japanese(client, db):
    response = client.get(reverse("accessibility"), **JA)

    assert response.status_code == 200
    text = response.content.decode()
    headings = (
        "ウェブアクセシビリティ方針", "対象範囲", "目標とする適合レベル及び対応度",
        "例外事項", "試験結果", "お問合せ先",
    )
    for heading in headings:
        assert heading in text, heading
    assert "JIS X 8341-3:2016 の適合レベル AA に配慮" in text
    assert "令和8年11月30日(月)" in text  # the policy's date, in 和暦
    assert "令和9年3月31日(水)" in text  # by when the target is to be met
    assert "青森県 企画政策部DX推進課 017-734-0000" in text
    tested = record()
    assert f"{len(tested.pages)}ページ" in text and f"代表{tested.representative}ページ" in text
    assert f'href="{reverse("accessibility_results")}"' in text


def test_the_policy_follows_the_settings_of_the_deploying_organisation(client, db, settings):
    settings.DXPLAN_ORGANISATION_NAME = "岩手県"
    settings.DXPLAN_ORGANISATION_CONTACT = ""
    settings.DXPLAN_ACCESSIBILITY_LEVEL = "A"
    settings.DXPLAN_ACCESSIBILITY_CONFORMANCE = "partial"
    settings.DXPLAN_ACCESSIBILITY_TESTED_ON = "2027-01-15"
    settings.DXPLAN_ACCESSIBILITY_RECORD_URL = "https://www.pref.example.jp/a11y/2027.html"

    text = client.get(reverse("accessibility"), **JA).content.decode()

    assert "JIS X 8341-3:2016 の適合レベル A に一部準拠" in text
    assert "令和9年1月15日(金)" in text
    assert 'href="https://www.pref.example.jp/a11y/2027.html"' in text
    assert "岩手県の各会議体の事務局" in text
    assert "青森県" not in text


def test_the_policy_is_complete_in_english(client, db, settings):
    settings.DXPLAN_ACCESSIBILITY_CONFORMANCE = "conforms"

    response = client.get(reverse("accessibility"), **EN)

    text = response.content.decode()
    assert '<html lang="en">' in text
    for heading in ("Web accessibility policy", "Scope", "Target level and degree of conformance", "Exceptions",
                    "Test results", "Contact"):
        assert heading in text, heading
    assert "This site conforms to JIS X 8341-3:2016 level AA." in text
    assert "2026-11-30 (Mon)" in text


def test_the_results_page_lists_every_page_of_the_record_and_how_it_was_chosen(client, db):
    tested = record()

    ja = client.get(reverse("accessibility_results"), **JA).content.decode()
    en = client.get(reverse("accessibility_results"), **EN).content.decode()

    for page in tested.pages:
        assert escape(page.name) in ja and escape(page.name_en) in en
    assert ja.count("<td>ランダム</td>") == en.count("<td>at random</td>") == tested.random == 6
    assert ja.count("<td>代表</td>") == en.count("<td>representative</td>") == tested.representative
    assert "random.Random(20261130)" in ja and "random.Random(20261130)" in en


def test_every_page_links_the_policy_from_its_footer(client, db):
    text = client.get(reverse("committee:home"), **JA).content.decode()

    footer = text[text.index("<footer"):]
    assert f'href="{reverse("accessibility")}"' in footer and "ウェブアクセシビリティ方針" in footer


# --- the record ---------------------------------------------------------------------------------------


def test_the_random_pages_of_the_record_are_the_draw_it_describes():
    pages, selection = load_pages()

    drawn = random.Random(selection["seed"]).sample(selection["population"], selection["draw"])

    randoms = [p for p in pages if p.chosen == "random"]
    assert [(p.url, p.user, list(p.args)) for p in randoms] == [(d["url"], d["user"], d.get("args", [])) for d in drawn]
    representative = {(p.url, p.user) for p in pages if p.chosen == "representative"}
    assert not representative & {(d["url"], d["user"]) for d in selection["population"]}
    assert len({p.id for p in pages}) == len(pages)
    assert {p.chosen for p in pages} == {"representative", "random"}
    assert 40 <= len(pages)


def test_the_recorded_results_cover_exactly_the_pages_of_the_record_in_both_languages():
    """A page added to pages.toml without running the record again fails here (README.md says how)."""
    pages, _ = load_pages()
    results = json.loads((RECORD_DIR / "results.json").read_text(encoding="utf-8"))

    assert sorted(results["pages"]) == sorted(p.id for p in pages)
    for page in pages:
        recorded = results["pages"][page.id]
        assert set(recorded["axe"]) == {"ja", "en"}, page.id
        assert recorded["axe"]["ja"]["violations"] == recorded["axe"]["en"]["violations"] == [], page.id
        assert {"keyboard", "zoom_ja", "zoom_en", "media_ja", "contrast_ja"} <= set(recorded["manual"]), page.id
    assert {"wcag21a", "wcag21aa"} <= set(results["tags"])


# --- the organisation's colour ------------------------------------------------------------------------


def test_the_brand_stylesheet_carries_the_configured_colour(client, db, settings):
    settings.DXPLAN_BRAND_COLOR = "#00704A"

    response = client.get(reverse("brand_css"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "--brand-color: #00704a;" in response.content.decode()
    assert "--brand-color-contrast: #ffffff;" in response.content.decode()
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    page = client.get(reverse("committee:home")).content.decode()
    assert f'href="{reverse("brand_css")}?v=00704a"' in page  # a new colour is a new address
    assert "style=" not in page.split("<body", 1)[0]  # nothing inline for the CSP to refuse


def test_a_colour_that_is_not_a_hex_colour_never_reaches_the_stylesheet(client, db, settings):
    settings.DXPLAN_BRAND_COLOR = "red;}body{display:none"

    css = client.get(reverse("brand_css")).content.decode()

    assert "--brand-color: #0017c1;" in css and "display:none" not in css
    errors = checks.brand_color_check(None)
    assert [type(e) for e in errors] == [Error] and errors[0].id == "dxplan.E101"


@pytest.mark.parametrize(("color", "expected"), [("#0017c1", []), ("#767676", []), ("#ffcc00", ["dxplan.W102"])])
def test_a_brand_colour_too_light_for_text_on_white_is_warned_about(settings, color, expected):
    settings.DXPLAN_BRAND_COLOR = color

    found = checks.brand_color_check(None)

    assert [e.id for e in found] == expected
    assert all(isinstance(e, Warning) for e in found)


def test_the_policy_settings_are_checked(settings):
    settings.DXPLAN_ACCESSIBILITY_LEVEL = "AAA+"
    settings.DXPLAN_ACCESSIBILITY_CONFORMANCE = "準拠"
    settings.DXPLAN_ACCESSIBILITY_POLICY_DATE = "令和8年"

    assert [e.id for e in checks.accessibility_policy_check(None)] == ["dxplan.E103", "dxplan.E104", "dxplan.E105"]


def test_the_brand_stylesheet_is_cached_for_signed_in_users_too(client, outsider):
    """It is the same for everyone: a signed-in page must not fetch it again on every request."""
    client.force_login(outsider)
    response = client.get(reverse("brand_css"))
    control = response.headers["Cache-Control"]
    assert "public" in control and "max-age=86400" in control
    assert "no-store" not in control and "private" not in control
    # …while a signed-in page itself stays private.
    assert "no-store" in client.get(reverse("account")).headers["Cache-Control"]

"""axe-core on the pages of the accessibility test record (docs/accessibility/pages.toml), in Japanese and in
English: no WCAG 2.1 A/AA violations (JIS X 8341-3:2016 level AA is WCAG 2.0 AA; 2.1 adds to it), `lang`
set, nothing loaded from outside the site.

The record is the one list of pages: a page added to the record is checked here, and a page checked here is
in the record. With DXPLAN_A11Y_RECORD=1 the results are written to docs/accessibility/results.json as well
(see docs/accessibility/README.md)."""

import datetime as dt
import json
import os

import pytest
from django.urls import reverse
from django.utils import timezone

from core.accessibility import RECORD_DIR, load_pages

PAGES, _ = load_pages()
WCAG21 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RECORDING = os.environ.get("DXPLAN_A11Y_RECORD") == "1"


def record_values(scene) -> dict[str, str]:
    """What the record's placeholders stand for in the test's data: the 策定委員会, its two meetings, and 傍聴
    registrations and subscriptions in each state (the second meeting open for registration with its one
    public seat taken, so the form shows the full message)."""
    from participation import services

    c, first, second = scene.committee, scene.first, scene.second
    body = c.body
    rules = "1 録音・録画は委員長の許可なくできません。\n2 非公開となったときは退場してください。"
    services.guide_save(actor=c.secretariat, body=body, text=rules)
    now = timezone.now()
    observation = services.observation_settings_save(
        actor=c.secretariat, meeting=second, public_seats=1, press_seats=1, max_party=2,
        opens_at=now - dt.timedelta(hours=1), closes_at=second.start_at - dt.timedelta(days=1), method="first_come",
    )

    def registration(email, *, confirm=True):
        made = services.registration_create(
            observation=observation, kind="public", name="傍聴 太郎", email=email, party_size=1, accepted_guide=True
        )
        return services.registration_confirm(registration=made) if confirm else made

    seated, waiting = registration("seated@example.com"), registration("waiting@example.com")
    unconfirmed = registration("new@example.com", confirm=False)
    cancelled = services.registration_cancel(registration=registration("gone@example.com", confirm=False))
    pending = services.subscription_request(body=body, email="pending@example.com")
    active = services.subscription_request(body=body, email="on@example.com")
    active = services.subscription_confirm(subscription=active)
    today = timezone.localdate()
    return {
        "body": body.slug, "first": str(first.pk), "second": str(second.pk),
        "fy": str(today.year if today.month >= 4 else today.year - 1),
        "guideline_on": body.guidelines.order_by("effective_on").first().effective_on.isoformat(),
        "appointment": str(c.member_appointment.pk), "person": str(c.member_appointment.person.pk),
        "seated": seated.token, "waiting": waiting.token, "unconfirmed": unconfirmed.token,
        "cancelled": cancelled.token, "pending": pending.token, "active": active.token,
    }


def record_path(page, values) -> str:
    return reverse(page.url, args=[arg.format(**values) for arg in page.args]) + page.query


def record_users(scene) -> dict:
    c = scene.committee
    return {"anonymous": None, "member": c.member, "chair": c.chair, "secretariat": c.secretariat}


def submit_registration(page) -> None:
    """The page a registration is answered with (a POST): fill the form in and send it."""
    page.fill("input[name=name]", "傍聴 花子")
    page.fill("input[name=email]", f"axe-{page.evaluate('document.documentElement.lang')}@example.com")
    page.check("input[name=accept]")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


ACTIONS = {"submit_registration": submit_registration}


def _axe(page) -> list[dict]:
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        WCAG21,
    )


def open_record_pages(site, scene, language):
    """Each page of the record, opened in one tab per user (sessions given to the browser directly, axe-core
    loaded into every page the tab opens); yields (record page, its path, the browser page)."""
    values = record_values(scene)
    users = record_users(scene)
    tabs = {}
    for entry in PAGES:
        if entry.user not in tabs:
            context = site.context(language=language, bypass_csp=True, axe=True)
            if users[entry.user] is not None:
                site.sign_in_as(context, users[entry.user])
            tabs[entry.user] = context.new_page()
        page = tabs[entry.user]
        path = record_path(entry, values)
        response = page.goto(site.url + path)
        assert response.status == entry.status, f"{entry.id}: {path} answered {response.status}"
        if entry.action:
            ACTIONS[entry.action](page)
        yield entry, path, page


def _write_results(language: str, results: dict, version: str) -> None:
    path = RECORD_DIR / "results.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.update({"tested_on": timezone.localdate().isoformat(), "axe_version": version, "tags": WCAG21})
    pages = data.setdefault("pages", {})
    for page_id, (path_, violations) in results.items():
        pages.setdefault(page_id, {})["path"] = path_
        pages[page_id].setdefault("axe", {})[language] = {"violations": violations}
    data["pages"] = {p.id: pages[p.id] for p in PAGES if p.id in pages}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_of_the_record_passes_axe(site, scene, language, settings):
    settings.DXPLAN_REQUIRE_2FA = False  # sessions are given to the browser directly here
    failures, results = [], {}
    for entry, path, page in open_record_pages(site, scene, language):
        assert page.evaluate("document.documentElement.lang") == (entry.lang or language), entry.id
        if entry.id == "home":  # /brand.css reached the page under the CSP: the organisation's colour is set
            brand = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand-color')")
            assert brand.strip() == settings.DXPLAN_BRAND_COLOR.lower()
        violations = _axe(page)
        results[entry.id] = (path, sorted(v["id"] for v in violations))
        if violations:
            failures.append((entry.id, path, violations))
    if RECORDING:
        _write_results(language, results, page.evaluate("axe.version"))
    assert not failures, "\n".join(f"{name} {path}: {v}" for name, path, v in failures)


def test_the_admin_reads_in_the_sites_font_and_names_its_pickers(site, committee, settings):
    """The admin's Japanese is drawn in the site's Noto Sans JP (the test browser has no CJK font), and each
    autocomplete picker (select2) is named by its field's label, then its value (axe aria-input-field-name)."""
    settings.DXPLAN_REQUIRE_2FA = False
    context = site.context(language="ja")
    site.sign_in_as(context, committee.secretariat)
    page = context.new_page()
    page.goto(f"{site.url}{reverse('admin:committee_appointment_add')}")
    page.evaluate("document.fonts.ready")

    family = page.evaluate("getComputedStyle(document.querySelector('#content h1')).fontFamily")
    assert family.replace('"', "").startswith("Noto Sans JP"), family
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('Noto Sans JP') && f.status === 'loaded')")
    for label in ("会議体", "人物", "前任者"):
        assert page.get_by_role("combobox", name=label).count() == 1, label
    page.get_by_role("combobox", name="会議体").click()
    page.locator(".select2-results__option", has_text=committee.body.name).click()
    assert page.get_by_role("combobox", name=f"会議体: {committee.body.name}").count() == 1

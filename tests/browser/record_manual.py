"""The manual checks of the accessibility test record, scripted where a script can see (not collected by CI's
run: its name does not start with test_). Run it on purpose to renew the record:

    DXPLAN_A11Y_RECORD=1 .venv/bin/pytest -p no:cacheprovider -q tests/browser/test_accessibility.py
    .venv/bin/pytest -p no:cacheprovider -q tests/browser/record_manual.py

It writes each page's outcome into docs/accessibility/results.json (docs/accessibility/README.md reads it):
keyboard (Tab through the page), zoom 200% (640 CSS pixels at device scale factor 2), media on the page, and
what axe-core's color-contrast rule could not decide."""

import json

import pytest

from core.accessibility import RECORD_DIR
from tests.browser.test_accessibility import ACTIONS, PAGES, record_path, record_users, record_values

MAX_TABS = 150

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30);
    const where = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
    const visible = r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && r.bottom > 0 && r.right > 0
        && r.left < document.documentElement.scrollWidth;
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
    return {where: where, text: text, visible: visible, ring: ring, href: el.getAttribute('href')};
}"""

CLIPPED = """() => {
    const root = document.documentElement;
    const clipped = [];
    for (const el of document.querySelectorAll('main *, header *, footer *')) {
        const s = getComputedStyle(el);
        if (!['hidden', 'clip'].includes(s.overflowX) || !el.innerText || !el.innerText.trim()) continue;
        if (el.scrollWidth > el.clientWidth + 1 && !el.closest('.visually-hidden, .visually-hidden-focusable')) {
            clipped.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''));
        }
    }
    return {width: window.innerWidth, scroll: root.scrollWidth, clipped: clipped.slice(0, 5)};
}"""

MEDIA = "document.querySelectorAll('video, audio, object, embed, iframe').length"

CONTRAST = r"""async () => {
    const r = await axe.run(document, {runOnly: {type: 'rule', values: ['color-contrast']},
                                       resultTypes: ['incomplete']});
    const c = r.incomplete.find(v => v.id === 'color-contrast');
    const v = r.violations.find(v => v.id === 'color-contrast');
    // Where axe could not decide, the text colour against the background colour of the element or the nearest
    // ancestor that has one (the background image being an arrow or icon beside the text: see README.md).
    const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => v / 255).map(v => v <= 0.04045 ? v / 12.92
        : Math.pow((v + 0.055) / 1.055, 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = el => {
        let bg = el, b;
        const clear = e => (b = rgb(getComputedStyle(e).backgroundColor)).length === 4 && b[3] === 0;
        while (bg && clear(bg)) bg = bg.parentElement;
        const back = bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
        const [l1, l2] = [lum(rgb(getComputedStyle(el).color)), lum(back)].sort((a, b) => b - a);
        return Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100;
    };
    return {undecided: c ? c.nodes.map(n => ({target: n.target.join(' '), why: (n.any[0] || {}).message,
                                                ratio: ratio(document.querySelector(n.target[0]))})) : [],
            failed: v ? v.nodes.length : 0};
}"""


def keyboard(page) -> dict:
    """Tab from the top of the page until focus leaves the page or comes back to where it started."""
    # From the top of the document, even where a field has autofocus: focus the body for a moment.
    page.evaluate("window.scrollTo(0, 0); document.body.tabIndex = -1; document.body.focus()")
    stops, problems, first, last, stuck = [], [], None, None, 0
    for n in range(MAX_TABS):
        page.keyboard.press("Tab")
        if n == 0:
            page.evaluate("document.body.removeAttribute('tabindex')")
        now = page.evaluate(FOCUSED)
        if now is None:
            break
        key = (now["where"], now["text"], now["href"])
        if first is None:
            first = key
        elif key == first:
            break
        # A date or time field takes one Tab per part (year, month, day, hour, minute): not a trap.
        stuck = stuck + 1 if key == last else 0
        if stuck >= 8:
            problems.append(f"focus stays on {now['where']}")
            break
        if key != last:
            stops.append(now)
            if not now["visible"]:
                problems.append(f"not visible: {now['where']} {now['text']}")
            elif not now["ring"]:
                problems.append(f"no focus indicator: {now['where']} {now['text']}")
        last = key
    skip = stops[0] if stops else None
    # Repeated blocks to skip (2.4.1): more than three stops before the main content (a printable document's
    # two links, PDF and back, are not such a block).
    blocks = page.evaluate(
        "[...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter(el =>"
        " el.compareDocumentPosition(document.querySelector('main') || document.body) & 4).length > 3"
    )
    if blocks and (not skip or not (skip["href"] or "").startswith("#") or not page.evaluate(
        "id => !!document.getElementById(id)", skip["href"][1:]
    )):
        problems.append("the first stop is not a link to the page's main content")
    return {"ok": not problems, "stops": len(stops), "detail": f"Tab ×{len(stops)}" + (
        "; " + "; ".join(problems) if problems else ""), "problems": problems}


def _zoomed(site, users, user, language):
    context = site.browser.new_context(
        viewport={"width": 640, "height": 450}, device_scale_factor=2,
        locale="ja-JP" if language == "ja" else "en-US",
        extra_http_headers={"Accept-Language": "ja" if language == "ja" else "en-US,en;q=0.9"},
    )
    site.contexts.append(context)
    if users[user] is not None:
        site.sign_in_as(context, users[user])
    return context.new_page()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_record_manual_checks(site, scene, language, settings):
    settings.DXPLAN_REQUIRE_2FA = False
    values, users = record_values(scene), record_users(scene)
    tabs, zoom_tabs, results = {}, {}, {}
    for entry in PAGES:
        if entry.user not in tabs:
            context = site.context(language=language, bypass_csp=True, axe=True)
            if users[entry.user] is not None:
                site.sign_in_as(context, users[entry.user])
            tabs[entry.user] = context.new_page()
            zoom_tabs[entry.user] = _zoomed(site, users, entry.user, language)
        page, zoomed = tabs[entry.user], zoom_tabs[entry.user]
        path = record_path(entry, values)
        for tab in (page, zoomed):
            tab.goto(site.url + path)
            if entry.action:
                ACTIONS[entry.action](tab)
        zoom = zoomed.evaluate(CLIPPED)
        zoom_ok = zoom["scroll"] <= zoom["width"] and not zoom["clipped"]
        outcome = {
            "zoom": {"ok": zoom_ok, "detail": f"{zoom['scroll']}/{zoom['width']} px"
                     + (f"; clipped: {', '.join(zoom['clipped'])}" if zoom["clipped"] else "")},
            "media": page.evaluate(MEDIA),
            "contrast": page.evaluate(CONTRAST),
        }
        if language == "ja":  # the order of focus does not change with the language
            outcome["keyboard"] = keyboard(page)
        results[entry.id] = outcome
    path = RECORD_DIR / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for page_id, outcome in results.items():
        manual = data["pages"].setdefault(page_id, {}).setdefault("manual", {})
        manual.update({f"{k}_{language}" if k != "keyboard" else k: v for k, v in outcome.items()})
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")

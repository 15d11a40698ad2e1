"""axe-core on every kind of page, in Japanese and in English: no WCAG 2.0 A/AA violations
(JIS X 8341-3:2016 level AA), `lang` set, nothing loaded from outside the site."""

import pytest
from django.urls import reverse

from tests.browser.conftest import axe_violations

PUBLIC = "public"


def _pages(scene):
    c, first, second = scene.committee, scene.first, scene.second
    body = c.body.slug
    return [
        ("home", None, reverse("committee:home")),
        ("body", None, reverse("committee:body_detail", args=[body])),
        ("body meetings", None, reverse("meetings:body_meetings", args=[body])),
        ("guidelines", None, reverse("committee:guideline_current", args=[body])),
        ("meeting (public)", None, reverse("meetings:detail", args=[first.pk])),
        ("schedule", None, reverse("meetings:schedule")),
        ("open data", None, reverse("opendata:datasets")),
        ("search", None, reverse("search:search") + "?q=骨子"),
        ("search, nothing found", None, reverse("search:search") + "?q=存在しない語"),
        ("password reset", None, reverse("password_reset")),
        ("my account", c.member, reverse("account")),
        ("notification settings", c.member, reverse("notices:settings")),
        ("password change", c.member, reverse("password_change")),
        ("login", None, reverse("login")),
        ("not found", None, "/meetings/999999/"),
        ("member's meeting", c.member, reverse("meetings:detail", args=[second.pk])),
        ("my meetings", c.member, reverse("meetings:my_meetings")),
        ("minutes", c.member, reverse("meetings:minutes_review", args=[first.pk])),
        ("approvals", c.chair, reverse("meetings:approvals")),
        ("chair's approval", c.chair, reverse("meetings:agenda_review", args=[second.pk])),
        ("dashboard", c.secretariat, reverse("meetings:dashboard")),
        ("new meeting", c.secretariat, reverse("meetings:create", args=[body])),
        ("edit meeting", c.secretariat, reverse("meetings:edit", args=[second.pk])),
        ("agenda editor", c.secretariat, reverse("meetings:agenda_edit", args=[second.pk])),
        ("roster with invitations", c.secretariat, reverse("committee:body_detail", args=[body])),
        ("manage meeting", c.secretariat, reverse("meetings:manage", args=[second.pk])),
        ("materials", c.secretariat, reverse("documents:manage", args=[second.pk])),
        ("notices", c.secretariat, reverse("notices:status", args=[second.pk])),
    ]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_type_passes_axe(site, scene, language, settings):
    settings.DXPLAN_REQUIRE_2FA = False  # sessions are given to the browser directly here
    failures = []
    tabs = {}  # one tab per person, with axe-core loaded into each page it opens, going from page to page
    for name, user, path in _pages(scene):
        key = user.pk if user else PUBLIC
        if key not in tabs:
            context = site.context(language=language, bypass_csp=True, axe=True)
            if user is not None:
                site.sign_in_as(context, user)
            tabs[key] = context.new_page()
        page = tabs[key]
        response = page.goto(site.url + path)
        expected = 404 if name == "not found" else 200
        assert response.status == expected, f"{name}: {path} answered {response.status}"
        assert page.evaluate("document.documentElement.lang") == language, name
        violations = axe_violations(page)
        if violations:
            failures.append((name, path, violations))
    assert not failures, "\n".join(f"{name} {path}: {v}" for name, path, v in failures)

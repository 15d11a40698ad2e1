"""axe-core on every kind of page, in Japanese and in English: no WCAG 2.0 A/AA violations
(JIS X 8341-3:2016 level AA), `lang` set, nothing loaded from outside the site."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

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


def _participation_pages(scene):
    """傍聴 and subscriptions (issue 17): the second meeting open for registration with its one public seat
    taken (the form shows the full message), a registration in each state, and subscriptions."""
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
    m = second.pk
    return [
        ("meeting with 傍聴 open", None, reverse("meetings:detail", args=[m])),
        ("observe: form, full", None, reverse("participation:register", args=[m])),
        ("observe: check your mail", None, reverse("participation:register", args=[m]), _submit_registration),
        ("observe: closed", None, reverse("participation:register", args=[first.pk])),
        ("observe: confirm", None, reverse("participation:confirm", args=[m, unconfirmed.token])),
        ("observe: confirmed, seated", None, reverse("participation:confirm", args=[m, seated.token])),
        ("observe: confirmed, waiting", None, reverse("participation:confirm", args=[m, waiting.token])),
        ("observe: cancel", None, reverse("participation:cancel", args=[m, seated.token])),
        ("observe: cancelled", None, reverse("participation:cancel", args=[m, cancelled.token])),
        ("subscribe", None, reverse("participation:subscribe", args=[body.slug])),
        ("subscription: confirm", None, reverse("participation:subscription_confirm", args=[pending.token])),
        ("subscription: confirmed", None, reverse("participation:subscription_confirm", args=[active.token])),
        ("unsubscribe", None, reverse("participation:unsubscribe", args=[active.token])),
        ("unsubscribed", None, reverse("participation:unsubscribe", args=["gone-before"])),
        ("observers: settings, list, check-in", c.secretariat, reverse("participation:manage", args=[m])),
        ("rules for observers", c.secretariat, reverse("participation:guide", args=[body.slug])),
    ]


def _submit_registration(page) -> None:
    """The page a registration is answered with (a POST): fill the form in and send it."""
    page.fill("input[name=name]", "傍聴 花子")
    page.fill("input[name=email]", f"axe-{page.evaluate('document.documentElement.lang')}@example.com")
    page.check("input[name=accept]")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


# The pages of issue 17 are checked at WCAG 2.1 A and AA as well.
WCAG21 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe(page, tags: list[str]) -> list[dict]:
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        tags,
    )


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_type_passes_axe(site, scene, language, settings):
    settings.DXPLAN_REQUIRE_2FA = False  # sessions are given to the browser directly here
    failures = []
    tabs = {}  # one tab per person, with axe-core loaded into each page it opens, going from page to page
    pages = [(*row, None) for row in _pages(scene)]
    participation = _participation_pages(scene)
    pages += [(*row, None) if len(row) == 3 else row for row in participation]
    strict = {row[0] for row in participation}
    for name, user, path, action in pages:
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
        if action is not None:
            action(page)
        assert page.evaluate("document.documentElement.lang") == language, name
        violations = _axe(page, WCAG21) if name in strict else axe_violations(page)
        if violations:
            failures.append((name, path, violations))
    assert not failures, "\n".join(f"{name} {path}: {v}" for name, path, v in failures)

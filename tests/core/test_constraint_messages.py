"""Database constraints speak plain language: each has a violation_error_message, and where a form knows
the values (dates), the model's clean() names them in the reader's calendar (和暦 in Japanese), before the
constraint's own sentence is needed. Nobody sees 「制約 “…” に違反しています。」."""
from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db.models import BaseConstraint
from django.urls import reverse
from django.utils import translation

from committee.models import Body, Guideline
from tests.committee.test_admin import client_for, form_data

OUR_APPS = {"core", "committee", "meetings", "documents", "notices", "fees", "search", "opendata", "demo"}
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


def _constraints():
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS:
            for constraint in model._meta.constraints:
                yield model, constraint


def test_the_walk_finds_constraints():
    assert sum(1 for _ in _constraints()) >= 40


def test_every_constraint_has_a_plain_message_in_japanese():
    missing = [
        f"{model._meta.label}.{c.name}"
        for model, c in _constraints()
        if c.violation_error_message in (None, BaseConstraint.default_violation_error_message)
    ]
    assert missing == []
    with translation.override("en"):
        english = {c.name: str(c.violation_error_message) for _, c in _constraints()}
    with translation.override("ja"):
        untranslated = [c.name for _, c in _constraints() if str(c.violation_error_message) == english[c.name]]
    assert untranslated == []


def test_a_date_order_error_in_the_admin_names_both_dates_in_wareki(secretariat, body, in_term):
    client = client_for(secretariat)
    change_url = reverse("admin:committee_body_change", args=[body.pk])
    data = form_data(client.get(change_url))

    response = client.post(change_url, {**data, "established_on": "2024-04-01", "dissolved_on": "2024-03-31"}, **JA)

    assert response.status_code == 200
    page = response.content.decode()
    assert "廃止日（令和6年3月31日）が設置日（令和6年4月1日）より前になっています。" in page
    assert "制約" not in page and "body_established_before_dissolved" not in page
    body.refresh_from_db()
    assert body.dissolved_on is None


def test_a_uniqueness_error_in_the_admin_is_a_plain_sentence(secretariat, body, guideline, in_term):
    client = client_for(secretariat)
    add_url = reverse("admin:committee_guideline_add")
    data = form_data(client.get(reverse("admin:committee_guideline_change", args=[guideline.pk])))
    data = {key: value for key, value in data.items() if not key.startswith("articles-")}
    data.update({"articles-TOTAL_FORMS": 0, "articles-INITIAL_FORMS": 0})

    response = client.post(add_url, data, **JA)

    assert response.status_code == 200
    page = response.content.decode()
    assert "この会議体には、同じ施行日の要綱がすでにあります。" in page
    assert "制約" not in page and "guideline_one_version_per_day" not in page
    assert Guideline.objects.filter(body=body).count() == 1


@pytest.mark.parametrize("language, expected", [("ja", "令和6年3月31日"), ("en", "2024-03-31")])
def test_model_clean_names_dates_in_the_active_language(language, expected, body):
    body.established_on, body.dissolved_on = dt.date(2024, 4, 1), dt.date(2024, 3, 31)
    with translation.override(language):
        with pytest.raises(Exception) as raised:
            body.full_clean()
        text = " ".join(raised.value.messages)  # type: ignore[attr-defined]
    assert expected in text
    assert Body.objects.get(pk=body.pk).dissolved_on is None

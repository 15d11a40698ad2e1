"""The fees admin is read-only: what was recorded, with its history; changes go through the site."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fees import services
from tests.fees.conftest import client_for, honorarium

MODELS = ["ruleset", "payeesetting", "feesheet", "statement"]


@pytest.fixture
def recorded(body, held, secretariat, member):
    honorarium(body)
    services.payee_setting_save(actor=secretariat, body=body, person=member.person, excluded=False, distance_km=3)
    services.statements_compute(actor=secretariat, meeting=held)
    return held


@pytest.mark.parametrize("model", MODELS)
def test_the_admin_lists_and_refuses_changes(recorded, superuser, model):
    client = client_for(superuser)
    assert client.get(reverse(f"admin:fees_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:fees_{model}_add")).status_code == 403


def test_the_secretariat_does_not_work_in_the_fees_admin(recorded, secretariat):
    assert client_for(secretariat).get(reverse("admin:fees_statement_changelist")).status_code in (302, 403)

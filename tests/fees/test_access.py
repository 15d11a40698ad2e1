"""fees.access: a list and a detail never disagree, for every role and every statement; the member's own
page is the member's only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fees import services
from fees.access import statements_visible_to
from fees.models import Statement
from tests.fees.conftest import client_for, honorarium

ROLES = ("chair", "vice_chair", "member", "outsider", "other_member", "secretariat", "other_secretariat", "superuser")


@pytest.fixture
def statements(body, held, secretariat):
    honorarium(body)
    services.statements_compute(actor=secretariat, meeting=held)
    return list(Statement.objects.select_related("person"))


@pytest.mark.parametrize("role", ROLES)
def test_the_list_and_the_pages_agree(statements, role, request):
    user = request.getfixturevalue(role)
    listed = set(statements_visible_to(user).values_list("pk", flat=True))
    client = client_for(user)
    years = client.get(reverse("fees:my")).context["years"]
    on_my_page = {s.pk for _fy, year_statements, _totals in years for s in year_statements}
    for statement in statements:
        own = client.get(reverse("fees:my_statement", args=[statement.pk])).status_code
        manage = client.get(reverse("fees:statement_correct", args=[statement.pk])).status_code
        assert (statement.pk in listed) == (200 in (own, manage)), (role, statement.person)
        assert own == (200 if statement.person.user_id == user.pk else 404), (role, statement.person)
        assert (statement.pk in on_my_page) == (statement.person.user_id == user.pk), (role, statement.person)

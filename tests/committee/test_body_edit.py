"""The secretariat keeps the body's own details in the site (committee/manage_views.py body_edit,
services.body_update): name, 定数, dates, parent …; never the address or the secretariat unit."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from committee import services
from committee.models import Body
from core.models import AuditAction, AuditEntry
from tests import factories
from tests.committee.test_admin import client_for

JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


def page(body: Body) -> str:
    return reverse("committee:body_edit", args=[body.slug])


def form_data(body: Body, **changes: object) -> dict:
    """What the browser sends for the page as shown, with `changes`."""
    data: dict[str, object] = {
        "name": body.name, "short_name": body.short_name, "kind": body.kind, "parent": body.parent_id or "",
        "established_on": body.established_on or "", "dissolved_on": body.dissolved_on or "",
        "seats": body.seats if body.seats is not None else "", "display_order": body.display_order,
        "minutes_publish_days": body.minutes_publish_days, "convener_account": body.convener_account_id or "",
    }
    if body.has_external_members:
        data["has_external_members"] = "on"
    if body.is_public:
        data["is_public"] = "on"
    data |= changes
    return {name: "" if value is None else str(value) for name, value in data.items()}


def test_the_secretariat_changes_the_seats_and_the_name(secretariat, body, in_term):
    assert not secretariat.is_superuser
    client = client_for(secretariat)

    response = client.post(page(body), form_data(body, seats=15, name="青森県DX推進プラン策定委員会"), **JA)

    assert response.status_code == 302
    assert response["Location"] == reverse("committee:body_detail", args=[body.slug])
    body.refresh_from_db()
    assert (body.seats, body.name) == (15, "青森県DX推進プラン策定委員会")
    shown = client.get(response["Location"], **JA).content.decode()
    assert "青森県DX推進プラン策定委員会" in shown and "定数: 15人。" in shown
    assert "会議体の基本情報を保存しました。" in shown
    assert reverse("committee:body_edit", args=[body.slug]) in shown and "/admin/committee/body/" not in shown
    entry = AuditEntry.objects.get(action=AuditAction.BODY_UPDATED)
    assert entry.actor == secretariat and entry.body_id == body.pk
    assert sorted(entry.data["fields"]) == ["name", "seats"]


def test_the_dissolution_before_the_establishment_is_refused_in_plain_japanese(secretariat, body, in_term):
    client = client_for(secretariat)

    response = client.post(page(body), form_data(body, established_on="2024-04-01", dissolved_on="2024-03-31",
                                                  seats=20), **JA)

    assert response.status_code == 200
    text = response.content.decode()
    assert "廃止日（令和6年3月31日）が設置日（令和6年4月1日）より前になっています。" in text
    assert "制約" not in text and "body_established_before_dissolved" not in text
    body.refresh_from_db()
    assert (body.established_on, body.dissolved_on, body.seats) == (None, None, 12)
    assert not AuditEntry.objects.filter(action=AuditAction.BODY_UPDATED).exists()


def test_the_address_cannot_be_changed(secretariat, body, unit, in_term):
    other_unit = factories.OrgUnitFactory()
    client = client_for(secretariat)

    response = client.post(page(body), {**form_data(body, seats=13), "slug": "hijacked",
                                        "secretariat": str(other_unit.pk)}, **JA)

    assert response.status_code == 302
    body.refresh_from_db()
    assert (body.slug, body.secretariat_id, body.seats) == ("dx-plan", unit.pk, 13)
    with pytest.raises(ValidationError):
        services.body_update(actor=secretariat, body=body, slug="hijacked")
    with pytest.raises(ValidationError):
        services.body_update(actor=secretariat, body=body, secretariat=other_unit)
    body.refresh_from_db()
    assert body.slug == "dx-plan"


@pytest.mark.parametrize("who", ["outsider", "member", "other_secretariat"])
def test_others_get_404(request, who, body, in_term):
    if who == "other_secretariat":
        user = factories.StaffAssignmentFactory().user
    else:
        user = request.getfixturevalue(who)
    client = client_for(user)

    assert client.get(page(body)).status_code == 404
    assert client.post(page(body), form_data(body, seats=1)).status_code == 404
    body.refresh_from_db()
    assert body.seats == 12


def test_anonymous_is_sent_to_log_in(body):
    response = Client().get(page(body))

    assert response.status_code == 302 and "login" in response["Location"]


def test_a_body_cannot_be_its_own_parent_nor_under_its_own_child(secretariat, body, unit, in_term):
    child = factories.BodyFactory(secretariat=unit, parent=body)
    client = client_for(secretariat)

    response = client.post(page(body), form_data(body, parent=body.pk), **JA)
    assert response.status_code == 200
    response = client.post(page(body), form_data(body, parent=child.pk), **JA)
    assert response.status_code == 200
    refusal = "上位の会議体に、その会議体自身やその下に置かれた会議体を指定することはできません。"
    assert refusal in response.content.decode()
    with pytest.raises(ValidationError):
        services.body_update(actor=secretariat, body=body, parent=body)
    body.refresh_from_db()
    assert body.parent_id is None


def test_the_parent_is_a_body_of_the_same_secretariat(secretariat, body, unit, other_body, in_term):
    sibling = factories.BodyFactory(secretariat=unit)
    with pytest.raises(ValidationError):
        services.body_update(actor=secretariat, body=body, parent=other_body)

    services.body_update(actor=secretariat, body=body, parent=sibling)

    body.refresh_from_db()
    assert body.parent_id == sibling.pk


def test_saving_without_changes_writes_nothing(secretariat, body, in_term):
    response = client_for(secretariat).post(page(body), form_data(body), **JA)

    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=AuditAction.BODY_UPDATED).exists()


def test_the_page_reads_a_capped_number_of_queries(secretariat, body, unit, in_term, django_assert_max_num_queries):
    factories.BodyFactory.create_batch(60, secretariat=unit)
    factories.UserFactory.create_batch(200)
    client = client_for(secretariat)

    with django_assert_max_num_queries(20):
        response = client.get(page(body), **JA)

    assert response.status_code == 200
    assert "会議体の基本情報を編集" in response.content.decode()

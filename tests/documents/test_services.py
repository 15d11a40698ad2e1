"""Material services: numbering, 差替 with history, withdrawal and restoration, visibility with its
audit trail, and the rule that 非公開 never becomes public."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import AuditEntry
from documents import selectors, services
from documents.models import Material, MaterialVersion
from documents.services import MaterialError, next_label
from meetings import services as meeting_services
from meetings.models import AgendaItem
from tests.conftest import TOKYO

from .conftest import CLOSED, MEMBERS, PUBLIC, SECRETARIAT_ONLY, client_for, pdf_bytes, stored_files, upload


def audit(material, action=None):
    qs = AuditEntry.objects.filter(target_type__model="material", target_id=str(material.pk))
    return qs.filter(action=action) if action else qs


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- numbering --------------------------------------------------------------------------------


def test_materials_are_numbered_in_turn(meeting, secretariat):
    first = services.material_create(actor=secretariat, meeting=meeting, title="設置要綱")
    second = services.material_create(actor=secretariat, meeting=meeting, title="策定及び推進について")
    assert (first.label, second.label) == ("資料1", "資料2")
    assert first.position < second.position


def test_explicit_labels_do_not_disturb_the_sequence(meeting, secretariat):
    for title in ("設置要綱", "策定及び推進について"):
        services.material_create(actor=secretariat, meeting=meeting, title=title)
    services.material_create(actor=secretariat, meeting=meeting, title="枝番", label="資料2-1")
    services.material_create(actor=secretariat, meeting=meeting, title="参考", label="参考資料1")
    services.material_create(actor=secretariat, meeting=meeting, title="次第", label="")
    third = services.material_create(actor=secretariat, meeting=meeting, title="青森県DX推進方向")
    assert third.label == "資料3"
    assert next_label(meeting, "参考資料") == "参考資料2"
    labels = list(Material.objects.filter(meeting=meeting).order_by("position").values_list("label", flat=True))
    # A new 資料 goes before the 参考資料, as the 次第 lists them (it went last, after 参考資料1).
    assert labels == ["資料1", "資料2", "資料2-1", "資料3", "参考資料1", ""]


def test_titles_and_labels_are_kept_to_one_line(meeting, secretariat):
    material = services.material_create(actor=secretariat, meeting=meeting, title=" 設置\r\n要綱\x00(案) ",
                                        label="資料\t1")
    assert (material.title, material.label) == ("設置 要綱 (案)", "資料 1")
    with pytest.raises(MaterialError, match="Give the material a title"):
        services.material_create(actor=secretariat, meeting=meeting, title="\r\n\x00")


def test_duplicate_label_is_refused(meeting, secretariat, media_root):
    services.material_create(actor=secretariat, meeting=meeting, title="設置要綱", label="資料1")
    with pytest.raises(MaterialError, match="資料1 exists already"):
        services.material_create(actor=secretariat, meeting=meeting, title="別の資料", label=" 資料1 ",
                                 upload=upload("a.pdf", pdf_bytes()))
    assert Material.objects.filter(meeting=meeting).count() == 1
    assert stored_files(media_root) == []


def test_agenda_item_of_another_meeting_is_refused(meeting, body, secretariat):
    start = dt.datetime(2023, 7, 7, 14, 0, tzinfo=TOKYO)
    other = meeting_services.meeting_create(actor=secretariat, body=body, start_at=start)
    item = meeting_services.agenda_item_add(actor=secretariat, meeting=other, title="議事")
    with pytest.raises(MaterialError, match="another meeting"):
        services.material_create(actor=secretariat, meeting=meeting, title="資料", agenda_item=item)
    assert not Material.objects.exists()


# --- 差替 --------------------------------------------------------------------------------------


def test_replacement_keeps_the_link_and_serves_the_newest_version(add_material, secretariat, member, media_root):
    old, new = pdf_bytes(1), pdf_bytes(2)
    material = add_material(MEMBERS, data=old)
    url = reverse("documents:download", args=[material.pk])
    version = services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", new),
                                        note="数値の誤りを修正")
    material.refresh_from_db()
    assert (version.number, material.current_version_id) == (2, version.pk)
    assert reverse("documents:download", args=[material.pk]) == url
    assert body_of(client_for(member).get(url)) == new
    assert list(material.versions.values_list("number", flat=True)) == [2, 1]
    assert len(stored_files(media_root)) == 2  # nothing uploaded is lost
    assert audit(material, "material_replaced").get().data["version"] == 2


def test_earlier_versions_are_for_the_secretariat_only(add_material, secretariat, member, chair):
    old = pdf_bytes(1)
    material = add_material(MEMBERS, data=old)
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    url = reverse("documents:version_download", args=[material.pk, 1])
    response = client_for(secretariat).get(url)
    assert response.status_code == 200 and body_of(response) == old
    assert "_v1.pdf" in response["Content-Disposition"]
    assert client_for(member).get(url).status_code == 404
    assert client_for(chair).get(url).status_code == 404
    assert client_for(secretariat).get(reverse("documents:version_download", args=[material.pk, 9])).status_code == 404


def test_members_see_that_a_material_was_replaced_and_when(add_material, secretariat, member, meeting):
    material = add_material(MEMBERS)
    assert not selectors.materials_visible_to(member, meeting).get().was_replaced
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    seen = selectors.materials_visible_to(member, meeting).get()
    assert seen.was_replaced
    assert seen.current_version.number == 2
    assert seen.current_version.uploaded_at is not None


def test_a_withdrawn_material_cannot_be_replaced(add_material, secretariat):
    material = add_material(MEMBERS)
    services.material_withdraw(actor=secretariat, material=material, reason="誤掲載")
    with pytest.raises(MaterialError, match="Restore the material"):
        services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    assert MaterialVersion.objects.filter(material=material).count() == 1


# --- withdrawal --------------------------------------------------------------------------------


def test_withdrawal_hides_the_material_at_once_and_restore_brings_it_back(add_material, secretariat, member, meeting):
    for_members, for_all = add_material(MEMBERS), add_material(PUBLIC, title="公開資料")
    member_url = reverse("documents:download", args=[for_members.pk])
    public_url = reverse("documents:download", args=[for_all.pk])
    anonymous, signed_in = client_for(None), client_for(member)
    assert signed_in.get(member_url).status_code == 200 and anonymous.get(public_url).status_code == 200

    for material in (for_members, for_all):
        services.material_withdraw(actor=secretariat, material=material, reason="誤掲載のため")
    assert signed_in.get(member_url).status_code == 404
    assert signed_in.get(public_url).status_code == 404
    assert anonymous.get(public_url).status_code == 404
    assert not selectors.materials_visible_to(member, meeting).exists()
    assert set(selectors.materials_visible_to(secretariat, meeting)) == {for_members, for_all}  # kept, marked

    for material in (for_members, for_all):
        services.material_restore(actor=secretariat, material=material)
    assert signed_in.get(member_url).status_code == 200
    assert anonymous.get(public_url).status_code == 200
    assert audit(for_all, "material_withdrawn").count() == audit(for_all, "material_restored").count() == 1


def test_withdrawing_twice_is_harmless_and_needs_a_reason(add_material, secretariat):
    material = add_material(MEMBERS)
    with pytest.raises(MaterialError, match="reason"):
        services.material_withdraw(actor=secretariat, material=material, reason="  ")
    first = services.material_withdraw(actor=secretariat, material=material, reason="誤掲載")
    again = services.material_withdraw(actor=secretariat, material=material, reason="別の理由")
    assert again.withdrawn_at == first.withdrawn_at and again.withdrawn_reason == "誤掲載"
    assert audit(material, "material_withdrawn").count() == 1
    services.material_restore(actor=secretariat, material=material)
    services.material_restore(actor=secretariat, material=material)
    assert audit(material, "material_restored").count() == 1


# --- visibility ------------------------------------------------------------------------------------


def test_visibility_steps_from_secretariat_to_members_to_public(add_material, secretariat, member, meeting):
    material = add_material(SECRETARIAT_ONLY)
    url = reverse("documents:download", args=[material.pk])
    assert client_for(member).get(url).status_code == 404

    services.material_set_visibility(actor=secretariat, material=material, visibility=MEMBERS)
    assert client_for(member).get(url).status_code == 200
    assert client_for(None).get(url).status_code == 404

    published = services.material_publish(actor=secretariat, material=material)
    assert published.published_at is not None
    assert client_for(None).get(url).status_code == 200
    assert [e.action for e in audit(material).order_by("id")] == [
        "material_created", "material_visibility_changed", "material_downloaded", "material_published",
    ]
    entry = audit(material, "material_published").get()
    assert (entry.actor, entry.data) == (secretariat, {"from": MEMBERS, "to": PUBLIC})


def test_publishing_twice_records_once(add_material, secretariat):
    material = add_material(MEMBERS)
    first = services.material_publish(actor=secretariat, material=material)
    again = services.material_publish(actor=secretariat, material=material)
    assert again.published_at == first.published_at
    assert audit(material, "material_published").count() == 1


def test_a_material_without_a_file_cannot_be_shown(meeting, secretariat):
    material = services.material_create(actor=secretariat, meeting=meeting, title="準備中")
    for visibility in (MEMBERS, PUBLIC):
        with pytest.raises(MaterialError, match="Upload the file"):
            services.material_set_visibility(actor=secretariat, material=material, visibility=visibility)
    material.refresh_from_db()
    assert material.visibility == SECRETARIAT_ONLY


def test_unknown_visibility_is_refused(add_material, secretariat):
    material = add_material(MEMBERS)
    with pytest.raises(MaterialError, match="Choose who may see"):
        services.material_set_visibility(actor=secretariat, material=material, visibility="everyone")


def test_a_closed_material_never_becomes_public(add_material, secretariat):
    material = add_material(CLOSED)
    with pytest.raises(MaterialError, match="can never be made public"):
        services.material_publish(actor=secretariat, material=material)
    material.refresh_from_db()
    assert (material.visibility, material.published_at) == (MEMBERS, None)
    assert not audit(material, "material_published").exists()


def test_the_database_refuses_a_public_closed_material(add_material):
    material = add_material(CLOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.filter(pk=material.pk).update(visibility=PUBLIC)


def test_a_material_of_a_closed_item_is_closed_and_never_public(add_material, secretariat, meeting, media_root):
    closed_item = AgendaItem.objects.get(agenda__meeting=meeting, is_public=False)
    material = add_material(MEMBERS, agenda_item=closed_item)
    assert material.is_closed
    with pytest.raises(MaterialError, match="can never be made public"):
        services.material_publish(actor=secretariat, material=material)
    before = stored_files(media_root)
    with pytest.raises(MaterialError):
        add_material(PUBLIC, agenda_item=closed_item, title="公開しようとした資料")
    assert Material.objects.filter(meeting=meeting).count() == 1
    assert stored_files(media_root) == before


def test_a_material_under_a_closed_item_is_closed_too(add_material, secretariat, meeting):
    closed_item = AgendaItem.objects.get(agenda__meeting=meeting, is_public=False)
    sub_item = meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="委員の選任",
                                                parent=closed_item)
    assert sub_item.is_public  # the item itself is not marked; the one it sits under is
    material = add_material(MEMBERS, agenda_item=sub_item)
    assert material.is_closed
    with pytest.raises(MaterialError):
        services.material_publish(actor=secretariat, material=material)


def test_closing_an_item_later_hides_its_public_material_at_once(add_material, secretariat, meeting):
    parent = AgendaItem.objects.get(agenda__meeting=meeting, title="開会")
    sub_item = meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="挨拶", parent=parent)
    material = add_material(PUBLIC, agenda_item=sub_item)
    url = reverse("documents:download", args=[material.pk])
    assert client_for(None).get(url).status_code == 200
    meeting_services.agenda_item_update(actor=secretariat, item=parent, is_public=False, closure_basis="委員の承諾")
    assert client_for(None).get(url).status_code == 404
    assert not selectors.materials_visible_to(AnonymousUser(), meeting).exists()
    assert material in selectors.materials_visible_to(secretariat, meeting)


def test_closing_a_public_material_takes_it_back_to_members_at_once(add_material, secretariat, member):
    material = add_material(PUBLIC)
    url = reverse("documents:download", args=[material.pk])
    assert client_for(None).get(url).status_code == 200
    closed = services.material_set_closed(actor=secretariat, material=material, is_closed=True)
    assert (closed.is_closed, closed.visibility, closed.published_at) == (True, MEMBERS, None)
    assert client_for(None).get(url).status_code == 404
    assert client_for(member).get(url).status_code == 200
    services.material_set_closed(actor=secretariat, material=material, is_closed=True)
    assert audit(material, "material_closed").count() == 1


def test_creating_public_and_closed_at_once_is_refused(meeting, secretariat, media_root):
    with pytest.raises(MaterialError):
        services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload("a.pdf", pdf_bytes()),
                                 visibility=PUBLIC, is_closed=True)
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()
    assert stored_files(media_root) == []

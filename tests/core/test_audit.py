"""Audit actions are one fixed list (core.models.AuditAction), each shown with a Japanese label."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import translation

from core.audit import AuditAction, audit_record
from core.models import AuditEntry

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def test_every_action_has_a_japanese_label():
    with translation.override("en"):
        english = {action: str(action.label) for action in AuditAction}
    with translation.override("ja"):
        untranslated = [action.value for action in AuditAction if str(action.label) == english[action]]
    assert untranslated == []


def test_a_recorded_action_is_one_of_the_choices(superuser):
    entry = audit_record(actor=superuser, action=AuditAction.AGENDA_APPROVED, target=superuser)
    entry.refresh_from_db()
    entry.full_clean()  # the field's choices accept it
    assert entry.action == AuditAction.AGENDA_APPROVED
    with translation.override("ja"):
        assert entry.get_action_display() == "次第の承認"


def test_the_admin_audit_list_shows_actions_in_japanese(superuser):
    superuser.save(update_fields=["password"])
    audit_record(actor=superuser, action=AuditAction.MATERIAL_WITHDRAWN, target=superuser)
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(superuser, backend=MODEL_BACKEND)
    page = client.get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert "資料の取下げ" in page
    assert AuditEntry.objects.filter(action="material_withdrawn").count() == 1

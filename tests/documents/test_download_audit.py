"""Downloads logged in bulk (a single file or the ZIP) reach the secretariat's audit log like every other
entry: they carry the body and meeting the log is scoped by (issue 10, 2d)."""

from __future__ import annotations

from django.urls import reverse

from core.models import AuditAction, AuditEntry
from tests.documents.conftest import MEMBERS, client_for


def test_a_members_download_is_in_the_secretariats_audit_log(meeting, add_material, member, secretariat):
    material = add_material(MEMBERS, title="意見照会票")
    response = client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content) if response.streaming else response.content
    entry = AuditEntry.objects.get(action=AuditAction.MATERIAL_DOWNLOADED, target_id=str(material.pk))
    assert (entry.body_id, entry.meeting_id) == (meeting.body_id, meeting.pk)
    page = client_for(secretariat).get(reverse("committee:audit_log"), {"action": AuditAction.MATERIAL_DOWNLOADED})
    assert page.status_code == 200
    assert "意見照会票" in page.content.decode()

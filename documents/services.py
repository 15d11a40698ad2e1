"""Changes to materials: create, upload or replace a file (差替), change who may see it, withdraw, restore."""
from __future__ import annotations

import logging
import re

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditAction, audit_record
from core.models import AuditEntry
from core.text import single_line
from core.types import AnyUser, account_of
from meetings.models import AgendaItem, Meeting

from . import recorders, signals
from .access import item_is_open
from .extraction import SUPPORTED as SUPPORTED_TEXT
from .extraction import ExtractionError, extract_pages, with_ocr
from .models import Download, Material, MaterialPage, MaterialVersion
from .validation import check_upload

logger = logging.getLogger(__name__)

LABEL_NUMBER = re.compile(r"^(?P<prefix>資料|参考資料)(?P<n>\d+)(?:-\d+)?$")


class MaterialError(ValidationError):
    """A change the material's state or the guidelines do not allow; the message says why."""


def next_label(meeting: Meeting, prefix: str = "資料") -> str:
    """資料1, 資料2 … (or 参考資料1 …): one more than the highest number of that kind in the meeting."""
    highest = 0
    for label in meeting.materials.values_list("label", flat=True):
        match = LABEL_NUMBER.match(label or "")
        if match and match["prefix"] == prefix:
            highest = max(highest, int(match["n"]))
    return f"{prefix}{highest + 1}"


def _position_for(meeting: Meeting, label: str) -> int:
    """Where a new material goes in the meeting's list: last, except that a 資料N goes before the first
    参考資料 (資料 first, then 参考資料, as the 次第 lists them); the ones after it move down by one."""
    match = LABEL_NUMBER.match(label or "")
    if match and match["prefix"] == "資料":
        first_reference = meeting.materials.filter(label__startswith="参考資料").aggregate(m=Min("position"))["m"]
        if first_reference is not None:
            meeting.materials.filter(position__gte=first_reference).update(position=F("position") + 1)
            return int(first_reference)
    return int(meeting.materials.aggregate(m=Max("position"))["m"] or 0) + 1


def _check_visibility(material: Material, visibility: str) -> None:
    if visibility not in Material.Visibility.values:
        raise MaterialError(_("Choose who may see the material."))
    if visibility == Material.Visibility.PUBLIC:
        if material.is_closed or not item_is_open(material.agenda_item_id):
            raise MaterialError(
                _("A closed (非公開) material, or one of a closed agenda item, can never be made public.")
            )
        if material.current_version_id is None:
            raise MaterialError(_("Upload the file before making the material visible."))
    if visibility == Material.Visibility.MEMBERS and material.current_version_id is None:
        raise MaterialError(_("Upload the file before making the material visible."))


def _store_version(*, actor: AnyUser, material: Material, upload: UploadedFile, note: str) -> MaterialVersion:
    checked = check_upload(upload)
    number = (material.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = MaterialVersion(
        material=material, number=number, original_name=checked.original_name, extension=checked.extension,
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256, note=note.strip(),
        uploaded_by=account_of(actor),
    )
    version.file.save("upload", upload, save=False)
    try:
        version.save()
    except Exception:
        version.file.delete(save=False)  # a refused upload leaves no file behind
        raise
    transaction.on_commit(lambda: queue_text_extraction([version.pk]))
    return version


def queue_text_extraction(ids: list[int]) -> int:
    """Hand the reading of these files' text to the broker (after commit). Never raises: a file whose text
    is not read stays 'pending' (`manage.py search_reindex` reads those), and the upload stands."""
    from celery import current_app

    # By name, not by import: tasks call services, so services do not import tasks.
    extract_text = current_app.tasks["documents.tasks.extract_text"]
    queued = 0
    for pk in ids:
        try:
            extract_text.delay(pk)
            queued += 1
        except Exception:  # the broker is unreachable, or (run in-process) the database failed
            logger.exception("Could not read the text of material file %s; it stays pending.", pk)
    return queued


def material_text_extract(*, version: MaterialVersion) -> MaterialVersion:
    """Read the text of an uploaded file, page by page, for the search. A file that cannot be read is
    marked with the reason, which the secretariat sees on the materials page; the upload stands.
    Doing it twice is harmless: only a file still 'pending' is read."""
    if version.text_status != MaterialVersion.TextStatus.PENDING:
        return version
    status, error, pages = MaterialVersion.TextStatus.DONE, "", []
    try:
        with version.file.open("rb") as data:
            pages = extract_pages(data, version.extension)
            try:
                pages = with_ocr(data, version.extension, pages)
            except ExtractionError as exc:  # the text read without OCR stands; the reason is shown
                error = single_line(str(exc), 300)
    except ExtractionError as exc:
        unsupported = version.extension not in SUPPORTED_TEXT
        status = MaterialVersion.TextStatus.UNSUPPORTED if unsupported else MaterialVersion.TextStatus.FAILED
        error = single_line(str(exc), 300)
    except OSError as exc:  # the stored file is missing or the storage is unreachable
        status, error = MaterialVersion.TextStatus.FAILED, single_line(_("The stored file could not be opened."), 300)
        logger.warning("Could not open material file %s: %r", version.pk, exc)
    if status == MaterialVersion.TextStatus.DONE and not any(page.strip() for page in pages):
        status = MaterialVersion.TextStatus.EMPTY
    with transaction.atomic():
        # The file was read outside the lock (it may take seconds); the row is claimed only to write.
        locked = MaterialVersion.objects.select_for_update().get(pk=version.pk)
        if locked.text_status != MaterialVersion.TextStatus.PENDING:
            return locked
        MaterialPage.objects.bulk_create(
            MaterialPage(version=locked, number=n, text=text) for n, text in enumerate(pages, start=1)
        )
        locked.text_status, locked.text_error = status, error
        locked.save(update_fields=["text_status", "text_error"])
        signals.send_on_commit(signals.material_text_read, locked.material, version=locked)
    return locked


def _lock(material: Material) -> Material:
    """The material, locked, after its meeting (the lock order of docs/locking.md: the meeting before what
    belongs to it). The recorders lock the meeting to collect its 資料掲載のお知らせ; taking the material
    first could deadlock with a notice being written for the same meeting."""
    Meeting.objects.select_for_update().filter(pk=material.meeting_id).values_list("pk", flat=True).first()
    # `of`: PostgreSQL cannot lock the nullable side of the outer join to the agenda item.
    return Material.objects.select_for_update(of=("self",)).select_related("agenda_item").get(pk=material.pk)


@transaction.atomic
def material_create(
    *,
    actor: AnyUser,
    meeting: Meeting,
    title: str,
    upload: UploadedFile | None = None,
    label: str | None = None,
    agenda_item: AgendaItem | None = None,
    visibility: str = Material.Visibility.SECRETARIAT,
    is_closed: bool = False,
    position: int | None = None,
) -> Material:
    """Add a material to a meeting, numbered 資料N unless a label is given, with its first file if any."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # serialises numbering
    if agenda_item is not None and agenda_item.agenda.meeting_id != meeting.pk:
        raise MaterialError(_("The agenda item belongs to another meeting."))
    # One line each: they end up in file names, headers and audit labels (and PostgreSQL refuses NUL).
    title = single_line(title)
    if not title:
        raise MaterialError(_("Give the material a title."))
    label = next_label(meeting) if label is None else single_line(label)
    if label and meeting.materials.filter(label=label).exists():
        raise MaterialError(_("%(label)s exists already for this meeting.") % {"label": label})
    if position is None:
        position = _position_for(meeting, label)
    material = Material(
        meeting=meeting, title=title, label=label, agenda_item=agenda_item, position=position,
        is_closed=is_closed or not item_is_open(agenda_item.pk if agenda_item else None),
    )
    material.full_clean()
    material.save()
    version = None
    try:
        if upload is not None:
            version = _store_version(actor=actor, material=material, upload=upload, note="")
            material.current_version = version
            material.save(update_fields=["current_version"])
        if visibility != Material.Visibility.SECRETARIAT:
            _check_visibility(material, visibility)
            material.visibility = visibility
            material.published_at = timezone.now() if visibility == Material.Visibility.PUBLIC else None
            material.save(update_fields=["visibility", "published_at"])
        audit_record(actor=actor, action=AuditAction.MATERIAL_CREATED, target=material,
                     data={"label": label, "visibility": material.visibility,
                           "version": version.number if version else None})
        if material.visibility != Material.Visibility.SECRETARIAT:
            recorders.published(material, replaced=False)
    except Exception:
        # The rows roll back with the transaction; the stored file does not.
        if version is not None:
            version.file.delete(save=False)
        raise
    return material


@transaction.atomic
def material_replace(*, actor: AnyUser, material: Material, upload: UploadedFile, note: str = "") -> MaterialVersion:
    """差替: a new file under the same link; the earlier versions stay, listed for the secretariat."""
    material = _lock(material)
    if material.is_withdrawn:
        raise MaterialError(_("Restore the material before replacing its file."))
    version = _store_version(actor=actor, material=material, upload=upload, note=note)
    try:
        material.current_version = version
        material.save(update_fields=["current_version"])
        action = AuditAction.MATERIAL_REPLACED if version.number > 1 else AuditAction.MATERIAL_UPLOADED
        audit_record(actor=actor, action=action, target=material,
                     data={"version": version.number, "sha256": version.sha256})
        if version.number > 1 and material.visibility != Material.Visibility.SECRETARIAT:
            recorders.published(material, replaced=True)
    except Exception:
        version.file.delete(save=False)
        raise
    return version


@transaction.atomic
def material_set_visibility(*, actor: AnyUser, material: Material, visibility: str) -> Material:
    """Who may see the material: 事務局のみ → 委員 → 公開. Publishing is recorded; doing it twice is harmless."""
    material = _lock(material)
    if material.visibility == visibility:
        return material
    if material.is_withdrawn:
        raise MaterialError(_("A withdrawn material cannot be shown; restore it first."))
    _check_visibility(material, visibility)
    before = material.visibility
    material.visibility = visibility
    material.published_at = timezone.now() if visibility == Material.Visibility.PUBLIC else None
    material.save(update_fields=["visibility", "published_at"])
    published = visibility == Material.Visibility.PUBLIC
    action = AuditAction.MATERIAL_PUBLISHED if published else AuditAction.MATERIAL_VISIBILITY_CHANGED
    audit_record(actor=actor, action=action, target=material, data={"from": before, "to": visibility})
    if before == Material.Visibility.SECRETARIAT:
        recorders.published(material, replaced=False)
    elif visibility == Material.Visibility.SECRETARIAT:
        recorders.hidden(material)
    return material


def material_publish(*, actor: AnyUser, material: Material) -> Material:
    return material_set_visibility(actor=actor, material=material, visibility=Material.Visibility.PUBLIC)


@transaction.atomic
def material_set_closed(*, actor: AnyUser, material: Material, is_closed: bool) -> Material:
    """Mark a material 非公開 (by decision of the committee); a public one goes back to members only."""
    material = _lock(material)
    if material.is_closed == is_closed:
        return material
    material.is_closed = is_closed
    fields = ["is_closed"]
    if is_closed and material.visibility == Material.Visibility.PUBLIC:
        material.visibility, material.published_at = Material.Visibility.MEMBERS, None
        fields += ["visibility", "published_at"]
    material.save(update_fields=fields)
    action = AuditAction.MATERIAL_CLOSED if is_closed else AuditAction.MATERIAL_REOPENED
    audit_record(actor=actor, action=action, target=material)
    return material


@transaction.atomic
def material_withdraw(*, actor: AnyUser, material: Material, reason: str) -> Material:
    """取下げ: nobody but the secretariat sees it any more; the files are kept and it can be restored."""
    material = _lock(material)
    if material.is_withdrawn:
        return material
    if not reason.strip():
        raise MaterialError(_("Give the reason for withdrawing the material."))
    material.withdrawn_at, material.withdrawn_reason = timezone.now(), reason.strip()
    material.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    audit_record(
        actor=actor, action=AuditAction.MATERIAL_WITHDRAWN, target=material, data={"reason": material.withdrawn_reason}
    )
    recorders.hidden(material)
    return material


@transaction.atomic
def material_restore(*, actor: AnyUser, material: Material) -> Material:
    """Undo 取下げ: members (or the public) see it again as before, and it is announced again."""
    material = _lock(material)
    if not material.is_withdrawn:
        return material
    material.withdrawn_at, material.withdrawn_reason = None, ""
    material.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    audit_record(actor=actor, action=AuditAction.MATERIAL_RESTORED, target=material)
    if material.visibility != Material.Visibility.SECRETARIAT and material.current_version_id:
        recorders.published(material, replaced=False)
    return material


def download_record(
    *, user: AnyUser, material: Material, via_zip: bool = False, ip_address: str | None = None,
    guest: int | None = None,
) -> None:
    """Log a download of a members-only material (who, when, which version) with an audit entry; `guest`
    names the invited attendee whose link was used."""
    downloads_record(user=user, materials=[material], via_zip=via_zip, ip_address=ip_address, guest=guest)


@transaction.atomic
def downloads_record(
    *, user: AnyUser, materials: list[Material], via_zip: bool = False, ip_address: str | None = None,
    guest: int | None = None,
) -> int:
    """Log downloads of several materials at once (the ZIP): a Download row and an audit entry for each
    one that is not public, in two queries whatever their number. Returns how many were logged."""
    logged = [
        (m, version_id)
        for m in materials
        if m.visibility != Material.Visibility.PUBLIC and (version_id := m.current_version_id) is not None
    ]
    if not logged:
        return 0
    by = account_of(user)
    Download.objects.bulk_create(
        Download(material=m, version_id=version_id, user=by, via_zip=via_zip, ip_address=ip_address)
        for m, version_id in logged
    )
    material_type = ContentType.objects.get_for_model(Material)
    # The secretariat's audit log is scoped by body and meeting (core.audit.audit_scope); bulk rows carry
    # them too, looked up once for every meeting concerned.
    bodies = dict(Meeting.objects.filter(pk__in={m.meeting_id for m, _v in logged}).values_list("pk", "body_id"))
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=by, actor_label=single_line(str(by) if by else "", 254), action=AuditAction.MATERIAL_DOWNLOADED,
            target_type=material_type, target_id=str(m.pk), target_label=single_line(str(m), 500),
            ip_address=ip_address, body_id=bodies.get(m.meeting_id), meeting_id=m.meeting_id,
            data={"version": m.current_version.number if m.current_version else None,
                  "version_id": version_id, "zip": via_zip, **({"guest": guest} if guest is not None else {})},
        )
        for m, version_id in logged
    )
    return len(logged)

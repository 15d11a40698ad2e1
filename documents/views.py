"""Material downloads (single and 資料一式 ZIP) and the secretariat's materials page."""
from __future__ import annotations

import re
import unicodedata

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.http import client_ip
from core.paging import paginate
from meetings import selectors as meeting_selectors
from meetings.access import attendee_for_token, meeting_for
from meetings.models import AgendaItem, Meeting

from . import delivery, selectors, services
from .access import material_for, materials_visible_to
from .models import Material, MaterialVersion
from .zipping import zip_stream

MATERIALS_PAGE = 30  # materials on one page of the secretariat's list (each row carries its forms)
READERS_PAGE = 200  # names on one page of a material's "not downloaded yet"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
# Invisible characters (bidi overrides, line separators) that could make a name read as something else.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _safe_stem(text: str, default: str) -> str:
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) not in _INVISIBLE)
    return _UNSAFE.sub("_", text)[:150].strip(" ._") or default


def download_name(material: Material, version: MaterialVersion, suffix: str = "") -> str:
    """資料1_(仮称)青森県DX推進プランの策定及び推進について.pdf: label and title, safe for every file system."""
    stem = _safe_stem("_".join(part for part in (material.label, material.title) if part), "material")
    return f"{stem}{suffix}.{version.extension}"


_attachment_headers = delivery.attachment_headers


def _client_ip(request) -> str | None:
    return client_ip(request)


@require_GET
def download(request, pk: int):
    """The newest file of a material, if the user may see the material; else 404."""
    material, _access = material_for(request.user, pk)
    version = material.current_version
    if version is None:  # the secretariat sees materials still waiting for their file
        raise Http404
    response = _file_response(version, download_name(material, version), f"material-{material.pk}.{version.extension}")
    # Logged once the file is open: a download that cannot start is not recorded as made.
    services.download_record(user=request.user, material=material, ip_address=_client_ip(request))
    return response


@never_cache
@require_GET
def guest_download(request, token: str, pk: int):
    """A material of the meeting an invited attendee's link names (its members' and public ones only);
    any other material, or an altered or revoked link, is 404. Logged as the attendee's download."""
    attendee = attendee_for_token(token)
    material, _access = material_for(None, pk, guest=attendee)
    version = material.current_version
    if version is None:
        raise Http404
    response = _file_response(version, download_name(material, version), f"material-{material.pk}.{version.extension}")
    services.download_record(user=AnonymousUser(), material=material, ip_address=_client_ip(request),
                             guest=attendee.pk)
    return response


def _file_response(version: MaterialVersion, filename: str, fallback: str):
    # X-Accel-Redirect to nginx, a stream, or a presigned redirect to object storage: delivery decides.
    return delivery.file_response(version.file, size=version.size, content_type=version.content_type,
                                  filename=filename, fallback=fallback)


@login_required
@require_GET
def version_download(request, pk: int, number: int):
    """An earlier version of a material, for the secretariat only."""
    material, _access = material_for(request.user, pk, to="manage")
    version = get_object_or_404(MaterialVersion, material=material, number=number)
    fallback = f"material-{material.pk}-v{number}.{version.extension}"
    return _file_response(version, download_name(material, version, suffix=f"_v{version.number}"), fallback)


@require_GET
def download_all(request, pk: int):
    """資料一式: one ZIP of every material this user may see, streamed with constant memory."""
    meeting, access = meeting_for(request.user, pk)
    files = [
        (m, version) for m in materials_visible_to(request.user, meeting, access)
        if (version := m.current_version) is not None and not m.is_withdrawn
    ]
    if not files:
        raise Http404
    stream = zip_stream()
    used: set[str] = set()
    for material, version in files:
        name = download_name(material, version)
        copy = 0
        while name in used:  # two materials with the same label and title
            copy += 1
            name = download_name(material, version, suffix=f"_{material.pk}" + (f"_{copy}" if copy > 1 else ""))
        used.add(name)
        stream.add(delivery.chunks(version.file), arcname=name, size=version.size)
    materials = [material for material, _version in files]
    services.downloads_record(user=request.user, materials=materials, via_zip=True, ip_address=_client_ip(request))
    label = _safe_stem(f"{meeting.body.short_name}_{meeting.label}_資料一式", "materials")
    stored = delivery.generated_redirect(stream, content_type="application/zip", filename=f"{label}.zip",
                                         fallback=f"meeting-{meeting.pk}-materials.zip")
    if stored is not None:
        return stored
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    _attachment_headers(response, f"{label}.zip", f"meeting-{meeting.pk}-materials.zip")
    return response


# --- the secretariat ---------------------------------------------------------------------------


class MaterialForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    label = forms.CharField(
        label=gettext_lazy("Label"), max_length=40, required=False,
        help_text=gettext_lazy("Leave empty for the next number (資料N); write e.g. 参考資料1 or 資料2-1 to choose."),
    )
    agenda_item = forms.ModelChoiceField(
        label=gettext_lazy("Agenda item"), queryset=AgendaItem.objects.none(), required=False
    )
    file = forms.FileField(
        label=gettext_lazy("File"), required=False,
        help_text=gettext_lazy("PDF, Word, Excel, PowerPoint, images or text. Leave empty to list a material "
                               "whose file comes later."),
    )
    visibility = forms.ChoiceField(
        label=gettext_lazy("Visible to"), choices=Material.Visibility.choices, required=False,
        initial=Material.Visibility.SECRETARIAT,
    )
    is_closed = forms.BooleanField(label=gettext_lazy("Closed (非公開): never made public"), required=False)

    def __init__(self, *args, meeting: Meeting, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The items in 次第 order with their numbers (1, (1), ①), read once for the choices and the check.
        items = items if items is not None else []
        field = self.fields["agenda_item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = AgendaItem.objects.filter(agenda__meeting=meeting)
        field.choices = [("", "---------")] + [(node.item.pk, f"{node.number} {node.item.title}") for node in items]


class ReplaceForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("New file"))
    note = forms.CharField(label=gettext_lazy("Reason for the replacement"), max_length=250, required=False)


@login_required
def manage_materials(request, pk: int):
    meeting, _access = meeting_for(request.user, pk, to="manage")
    agenda = getattr(meeting, "agenda", None)
    items = meeting_selectors.agenda_tree(agenda) if agenda is not None else []
    form = MaterialForm(request.POST or None, request.FILES or None, meeting=meeting, items=items)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            material = services.material_create(
                actor=request.user, meeting=meeting, title=data["title"], upload=data["file"],
                label=data["label"] or None, agenda_item=data["agenda_item"], is_closed=data["is_closed"],
                visibility=data["visibility"] or Material.Visibility.SECRETARIAT,
            )
        except ValidationError as exc:
            form.add_error("file" if exc.code in ("type", "empty", "size", "content", "mismatch") else None, exc)
        else:
            messages.success(
                request, _("%(material)s was added. Add the next one below.") % {"material": material}
            )
            return redirect(reverse("documents:manage", args=[meeting.pk]) + "#add-material")
    materials = paginate(
        request,
        Material.objects.filter(meeting=meeting).select_related("current_version", "agenda_item")
        .prefetch_related("versions").order_by("position", "id"),
        MATERIALS_PAGE,
        anchor="materials-h",
    )
    members_only = [m for m in materials if m.visibility == Material.Visibility.MEMBERS]
    readers, missing = selectors.not_downloaded_counts(meeting, members_only) if members_only else (0, {})
    return render(request, "documents/manage.html", {
        "meeting": meeting, "form": form, "materials": materials, "replace_form": ReplaceForm(),
        "visibility_choices": Material.Visibility.choices,
        "not_downloaded": [(m, missing[m.pk]) for m in members_only],
        "readers": readers,
    })


@login_required
@require_GET
def not_downloaded(request, pk: int):
    """Who has not yet downloaded one members' material (the materials page shows only how many)."""
    material, _access = material_for(request.user, pk, to="manage")
    if material.visibility != Material.Visibility.MEMBERS:
        raise Http404  # only the members' materials are tracked by reader
    meeting = material.meeting
    rows = selectors.not_downloaded_by_material(meeting, [material])[material.pk]
    return render(request, "documents/not_downloaded.html", {
        "meeting": meeting, "material": material, "rows": paginate(request, rows, READERS_PAGE),
    })


@login_required
@require_POST
def manage_material_action(request, pk: int, action: str):
    material, _access = material_for(request.user, pk, to="manage")
    meeting = material.meeting
    try:
        if action == "replace":
            form = ReplaceForm(request.POST, request.FILES)
            if not form.is_valid():
                raise services.MaterialError(_("Choose the new file."))
            services.material_replace(actor=request.user, material=material, upload=form.cleaned_data["file"],
                                      note=form.cleaned_data["note"])
            messages.success(request, _("The file was replaced; the link stays the same."))
        elif action == "visibility":
            services.material_set_visibility(actor=request.user, material=material,
                                             visibility=request.POST.get("visibility", ""))
            messages.success(request, _("Visibility changed."))
        elif action == "close":
            services.material_set_closed(actor=request.user, material=material, is_closed=True)
            messages.success(request, _("The material is now closed (非公開)."))
        elif action == "withdraw":
            services.material_withdraw(actor=request.user, material=material, reason=request.POST.get("reason", ""))
            messages.success(request, _("The material was withdrawn; it can be restored."))
        elif action == "restore":
            services.material_restore(actor=request.user, material=material)
            messages.success(request, _("The material was restored."))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("documents:manage", pk=meeting.pk)

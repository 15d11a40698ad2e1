"""What the meeting pages share: the materials a user may see, errors as messages, ids from forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from core.paging import Paged, paginate
from core.types import AnyUser

from ..access import Access
from ..models import Attendance, Meeting

# Materials belong to a higher floor (documents): it registers how a meeting's materials are listed
# for a user (documents.apps), so meeting pages can show them without importing it.
MaterialsLister = Callable[[AnyUser, Meeting, Access], QuerySet[Any]]
_materials_lister: list[MaterialsLister] = []
MATERIALS_PAGE = 50  # materials on one page of a meeting's page


def register_materials_lister(lister: MaterialsLister) -> None:
    _materials_lister[:] = [lister]


def listed_materials(request, meeting: Meeting, access: Access) -> list[models.Model]:
    """The materials this user may see (documents.access decides, for lists and downloads alike)."""
    return list(_materials_lister[0](request.user, meeting, access)) if _materials_lister else []


def paged_materials(request, meeting: Meeting, access: Access) -> Paged:
    """One page (?materials=) of the materials this user may see: a meeting page stays the same size
    whatever the number of materials (issue 13: 707 at 100× the demo); the ZIP and the PDF hold them all."""
    listed: QuerySet[Any] | list[Any] = _materials_lister[0](request.user, meeting, access) if _materials_lister else []
    return paginate(request, listed, MATERIALS_PAGE, param="materials", anchor="materials-heading")


def int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def row_user_id(row: Attendance) -> int | None:
    person = row.person
    return person.user_id if person is not None else None

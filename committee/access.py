"""Who may know a body exists and who may manage it: the one access rule for bodies.

Every page, export and admin queryset that shows a body asks here. A list and a detail use the same
condition (`bodies_visible_q`), so a body is listed exactly when its page answers; what the user may
not know exists answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.types import AnyUser

from .models import Appointment, Body, Person
from .selectors import (
    is_member_of_body_on,
    is_secretariat_of_body,
    managed_unit_ids,
    people_managed_by,
    today,
    user_terms,
)

BodyPurpose = Literal["view", "manage"]

NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)


@dataclass(frozen=True)
class BodyAccess:
    """What a user may do with one body."""

    body: Body
    manage: bool  # its secretariat (or a superuser)
    member: bool  # holds an appointment in force today


def managed_q(user: AnyUser, path: str = "") -> Q:
    """Rows of any model whose body (reached by `path`, e.g. "body__" or "meeting__body__") the user's
    secretariat unit serves today; everything for a superuser. Pages, lists and admin querysets use it."""
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    units = managed_unit_ids(user)
    return Q(**{f"{path}secretariat_id__in": units}) if units else NOTHING


def managed_bodies_q(user: AnyUser) -> Q:
    """Bodies the user's secretariat unit serves today (all of them for a superuser)."""
    return managed_q(user)


def bodies_managed_by(user: AnyUser) -> QuerySet[Body]:
    """The bodies whose secretariat the user is (every body for a superuser)."""
    return Body.objects.filter(managed_q(user))


def member_bodies_q(user: AnyUser) -> Q:
    """Bodies the user sits on today (an appointment in force, not ended early)."""
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    day = today()
    ids = sorted({term.body_id for term in user_terms(user) if term.active_on(day)})
    return Q(pk__in=ids) if ids else NOTHING


def bodies_visible_q(user: AnyUser) -> Q:
    """The bodies the user may know exist: public ones, those they manage, and those they sit on today."""
    return Q(is_public=True) | managed_bodies_q(user) | member_bodies_q(user)


def bodies_visible_to(user: AnyUser) -> QuerySet[Body]:
    """Every body the user may know exists, for lists (the home page, exports, APIs)."""
    return Body.objects.filter(bodies_visible_q(user)).select_related("parent", "secretariat")


def body_access(user: AnyUser, body: Body) -> BodyAccess:
    """What the user may do with `body`, which the caller already holds."""
    # The same conditions as managed_bodies_q and member_bodies_q, for one body already in hand.
    manage = is_secretariat_of_body(user, body)
    member = is_member_of_body_on(user=user, body=body, day=today())
    return BodyAccess(body=body, manage=manage, member=member)


def body_for(user: AnyUser, slug: str, *, to: BodyPurpose = "view") -> BodyAccess:
    """The body with `slug` and what the user may do with it; 404 when the user may not know it exists,
    or may not do `to` with it (managing is the secretariat's)."""
    body = get_object_or_404(Body.objects.select_related("parent"), slug=slug)
    access = body_access(user, body)
    if not (body.is_public or access.manage or access.member):
        raise Http404
    if to == "manage" and not access.manage:
        raise Http404
    return access


def appointment_for(user: AnyUser, pk: int) -> Appointment:
    """An appointment of a named person, for the secretariat of its body (委嘱状, its history); else 404."""
    appointment = get_object_or_404(Appointment.objects.select_related("body", "person", "guideline"), pk=pk)
    if appointment.person_id is None or not is_secretariat_of_body(user, appointment.body):
        raise Http404
    return appointment


def audit_entries_q(user: AnyUser) -> Q:
    """Audit entries the user may read: those about the bodies the user's unit serves (and their meetings,
    guidelines and appointments, recorded with the body's id) and about the people on those bodies;
    every entry for a superuser; none for anyone else."""
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if not managed_unit_ids(user):
        return NOTHING
    people = people_managed_by(user).annotate(key=Cast("pk", CharField())).values("key")
    return Q(body_id__in=bodies_managed_by(user).values("pk")) | Q(
        target_type=ContentType.objects.get_for_model(Person), target_id__in=people
    )

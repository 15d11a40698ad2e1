"""Object rules: who may see and manage what in the roster (django-rules predicates).

Rights come from appointments and secretariat assignments on the day in question, never from a
hand-set flag. Later apps ask through these permissions, e.g. user.has_perm("committee.manage_body", body).
"""
import rules

from . import selectors
from .models import Affiliation, Appointment, Body, Guideline, GuidelineArticle, OfficerTerm


def _body_of(obj):
    if isinstance(obj, Body):
        return obj
    if isinstance(obj, (Appointment, Guideline, OfficerTerm)):
        return obj.body
    if isinstance(obj, GuidelineArticle):
        return obj.guideline.body
    if isinstance(obj, Affiliation):
        return obj.appointment.body
    return None


@rules.predicate
def is_secretariat(user) -> bool:
    return selectors.is_secretariat(user)


@rules.predicate
def manages_object(user, obj) -> bool:
    """Secretariat of the body the object belongs to; with no object, any secretariat (list pages)."""
    if obj is None:
        return selectors.is_secretariat(user)
    body = _body_of(obj)
    return body is not None and selectors.is_secretariat_of_body(user, body)


@rules.predicate
def manages_person(user, person) -> bool:
    if person is None:
        return selectors.is_secretariat(user)
    return selectors.people_managed_by(user).filter(pk=person.pk).exists()


is_superuser = rules.is_superuser

rules.add_perm("committee.manage_body", manages_object)
rules.add_perm("committee.view_roster_private", manages_object)
rules.add_perm("committee.view_composition", is_secretariat)
rules.add_perm("committee.import_roster", manages_object)

for model in ("body", "guideline", "guidelinearticle", "appointment", "affiliation", "officerterm"):
    rules.add_perm(f"committee.view_{model}", manages_object)
    rules.add_perm(f"committee.change_{model}", manages_object)
    rules.add_perm(f"committee.add_{model}", manages_object)
    rules.add_perm(f"committee.delete_{model}", is_superuser)
for model in ("body", "guideline", "appointment", "affiliation", "officerterm"):
    rules.add_perm(f"committee.view_historical{model}", manages_object)
rules.add_perm("committee.view_person", manages_person)
rules.add_perm("committee.change_person", manages_person)
rules.add_perm("committee.add_person", is_secretariat)
rules.add_perm("committee.delete_person", is_superuser)
rules.add_perm("committee.view_orgunit", is_secretariat)
rules.add_perm("committee.view_orgunitname", is_secretariat)

"""The committee roster: organisation units, bodies, 設置要綱, people, 委嘱 and officers.

Split by seam into organisation, bodies and people; every model is importable from here.
"""

from .bodies import Body, Guideline, GuidelineArticle
from .organisation import OrgUnit, OrgUnitName, StaffAssignment
from .people import Affiliation, Appointment, AppointmentQuerySet, OfficerTerm, Person

__all__ = [
    "Affiliation",
    "Appointment",
    "AppointmentQuerySet",
    "Body",
    "Guideline",
    "GuidelineArticle",
    "OfficerTerm",
    "OrgUnit",
    "OrgUnitName",
    "Person",
    "StaffAssignment",
]

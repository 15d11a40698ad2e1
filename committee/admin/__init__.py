"""The secretariat's admin for the roster. Object rights come from committee/rules.py; changes of
state (appointing, ending, electing) go through committee/services.py.

Split by seam: organisation (units and staff), bodies (bodies, guidelines, the roster import) and
people (people, appointments, officer terms). Importing the package registers them all.
"""

from . import bodies, organisation, people
from ._common import ScopedAdmin

__all__ = ["ScopedAdmin", "bodies", "organisation", "people"]

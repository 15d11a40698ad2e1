"""Template tags of the roster (a builtin library, like core's dxplan)."""

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from .. import selectors

register = template.Library()


@register.simple_tag
def secretariat_contact(body):
    """The footer line of a body's pages: its secretariat (庶務) as named today, with phone and email.
    No query when the page already read the unit (committee.selectors.secretariat_unit) or another page
    read it since the last change (committee.selectors.unit_contact); else one per level of the organisation."""
    unit = selectors.unit_contact(body, timezone.localdate())
    parts = [(_("Secretariat"), ": ", unit.name)]
    if unit.phone:
        parts.append((_("Phone"), " ", unit.phone))
    line = format_html_join(" · ", "{}{}{}", parts)
    if unit.email:
        line = format_html('{} · <a class="link-secondary" href="mailto:{}">{}</a>', line, unit.email, unit.email)
    return line


@register.filter
def is_secretariat(user) -> bool:
    """Whether the navigation offers the secretariat's pages: the rule of the permission
    committee.view_composition (committee.rules), asked directly. Asking `perms` falls through to
    ModelBackend for everyone else, which reads the user's and the groups' permissions on every page (two
    queries per member's request; no model permission of that name exists)."""
    return selectors.is_secretariat(user)

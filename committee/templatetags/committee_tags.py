"""Template tags of the roster (a builtin library, like core's dxplan)."""

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from ..models import OrgUnit
from ..selectors import unit_names_prefetch

register = template.Library()


@register.simple_tag
def secretariat_contact(body):
    """The footer line of a body's pages: its secretariat (庶務) as named today, with phone and email.
    Two queries (the unit and its names two levels up)."""
    unit = OrgUnit.objects.prefetch_related(unit_names_prefetch()).filter(pk=body.secretariat_id).first()
    if unit is None:
        return ""
    parts = [(_("Secretariat"), ": ", unit.full_name_on(timezone.localdate()) or unit.code)]
    if unit.phone:
        parts.append((_("Phone"), " ", unit.phone))
    line = format_html_join(" · ", "{}{}{}", parts)
    if unit.email:
        line = format_html('{} · <a class="link-secondary" href="mailto:{}">{}</a>', line, unit.email, unit.email)
    return line

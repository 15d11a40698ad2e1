"""The roster's account column for the secretariat: `{% account_states members as states %}` reads every
person's account state in one query, `{% account_state states person_id as state %}` picks one."""

from django import template

from committee import accounts

register = template.Library()


@register.simple_tag
def account_states(rows) -> dict:
    """`rows` are the roster's (appointment, ...) tuples or appointments; posts without a person are skipped."""
    ids = set()
    for row in rows or ():
        appointment = row[0] if isinstance(row, tuple | list) else row
        if getattr(appointment, "person_id", None):
            ids.add(appointment.person_id)
    return accounts.account_states(ids) if ids else {}


@register.simple_tag
def account_state(states: dict, person_id):
    return states.get(person_id) if states and person_id else None

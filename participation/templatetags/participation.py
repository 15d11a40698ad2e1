"""The 傍聴 box of the public meeting page (meetings' template includes it; meetings imports nothing)."""

from django import template

from ..selectors import observation_status

register = template.Library()


@register.inclusion_tag("participation/_observe_box.html")
def observation_box(meeting):
    return {"status": observation_status(meeting), "meeting": meeting}

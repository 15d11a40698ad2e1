"""The 傍聴 box of the public meeting page (meetings' template includes it; meetings imports nothing)."""

from django import template

from ..selectors import observation_status, observer_count

register = template.Library()


@register.inclusion_tag("participation/_observe_box.html")
def observation_box(meeting):
    return {"status": observation_status(meeting), "meeting": meeting}


@register.inclusion_tag("participation/_manage_line.html")
def observation_manage_line(meeting):
    """The secretariat's meeting page: the 傍聴者数 of record and the way to the observers' page."""
    return {"meeting": meeting, "observers": observer_count(meeting)}

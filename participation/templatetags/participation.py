"""The 傍聴 box of the public meeting page (meetings' template includes it; meetings imports nothing)."""

from django import template

from core import pagecache

from ..selectors import observation_status, observer_count

register = template.Library()


@register.inclusion_tag("participation/_observe_box.html", takes_context=True)
def observation_box(context, meeting):
    status = observation_status(meeting)
    request = context.get("request")
    if request is not None and status.changes_at is not None:
        pagecache.valid_until(request, status.changes_at)  # a cached page must not outlive what it says
    return {"status": status, "meeting": meeting}


@register.inclusion_tag("participation/_manage_line.html")
def observation_manage_line(meeting):
    """The secretariat's meeting page: the 傍聴者数 of record and the way to the observers' page."""
    return {"meeting": meeting, "observers": observer_count(meeting)}

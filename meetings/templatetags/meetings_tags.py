"""Template tags that show meetings on pages of other apps (the body page), so that committee's
Python code needs nothing from meetings."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("meetings/_body_meetings.html")
def body_meetings(body, latest_years: int = 2):
    """The body's meetings of its latest `latest_years` fiscal years, newest year first (one query)."""
    years = sorted(selectors.body_meetings_by_year(body).items(), reverse=True)
    return {"body": body, "years": years[:latest_years], "more": len(years) > latest_years}

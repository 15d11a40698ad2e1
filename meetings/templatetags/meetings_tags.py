"""Template tags that show meetings on pages of other apps (the body page), so that committee's
Python code needs nothing from meetings."""

from django import template
from django.utils.translation import pgettext_lazy

from .. import selectors

register = template.Library()


@register.inclusion_tag("meetings/_body_meetings.html")
def body_meetings(body, latest_years: int = 2):
    """The body's meetings of its latest `latest_years` fiscal years, newest year first (one query)."""
    years = sorted(selectors.body_meetings_by_year(body).items(), reverse=True)
    return {"body": body, "years": years[:latest_years], "more": len(years) > latest_years}


# The meeting's progress as the secretariat works through it (the design system's step list).
STEPS = (
    ("agenda", pgettext_lazy("meeting step", "Agenda")),
    ("approval", pgettext_lazy("meeting step", "Approval")),
    ("notice", pgettext_lazy("meeting step", "Notice")),
    ("held", pgettext_lazy("meeting step", "Meeting")),
    ("minutes", pgettext_lazy("meeting step", "Minutes")),
)
STATE_LABELS = {
    "done": pgettext_lazy("meeting step", "Done"),
    "current": pgettext_lazy("meeting step", "Next"),
    "todo": pgettext_lazy("meeting step", "Not yet"),
}


def meeting_progress(meeting_status: str, agenda_status: str | None) -> list[dict]:
    """次第 → 承認 → 通知 → 開催 → 議事録: each step done or not, the first one not done marked current
    (none for a cancelled meeting); a 次第 revised after the notice makes its steps current again. The
    meeting's state counts: a meeting held without an approved 次第 in dxplan (recorded afterwards) shows
    its earlier steps done."""
    held = meeting_status in ("held", "minutes_published")
    notified = held or meeting_status == "notified"
    # After the notice, a revised 次第 (draft, returned or waiting for the chair) is the work to do next:
    # its steps show not done while the notice stays done. Once the meeting is held, they no longer matter.
    revising = notified and not held and agenda_status in ("draft", "returned", "submitted")
    done = {
        "agenda": (notified and not revising) or agenda_status in ("submitted", "approved"),
        "approval": (notified and not revising) or agenda_status == "approved",
        "notice": notified,
        "held": held,
        "minutes": meeting_status == "minutes_published",
    }
    steps, current_found = [], meeting_status == "cancelled"
    for number, (key, label) in enumerate(STEPS, start=1):
        state = "done" if done[key] else ("todo" if current_found else "current")
        current_found = current_found or state == "current"
        steps.append({"number": number, "key": key, "label": label, "state": state, "state_label": STATE_LABELS[state]})
    return steps


@register.inclusion_tag("meetings/_progress.html")
def meeting_steps(meeting, agenda=None):
    """The step list of `meeting` (its 次第 `agenda`, if any); no query beyond what the caller holds."""
    return {"steps": meeting_progress(meeting.status, getattr(agenda, "status", None))}

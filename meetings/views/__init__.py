"""Meeting pages, split by who uses them: the public, members, the presiding officer, and the
secretariat (its dashboard and manage page; planning a meeting and drafting its 次第; other attendees).

Access to every meeting, its minutes and materials is decided in meetings.access and documents.access.
"""

from ._common import register_materials_lister
from .attendees import (
    attendee_edit,
    attendee_list,
    attendee_remove,
)
from .members import (
    answer,
    landing,
    minutes_confirm,
    minutes_review,
    my_meetings,
)
from .minutes import (
    minutes_edit,
    minutes_passage_add,
    minutes_passage_delete,
    minutes_passage_edit,
    minutes_passage_move,
    minutes_passage_show,
    minutes_settings,
    minutes_versions,
)
from .planning import (
    agenda_edit,
    agenda_item_delete,
    agenda_item_edit,
    agenda_item_move,
    manage_action,
    meeting_create,
    meeting_edit,
)
from .presiding import (
    agenda_review,
    approvals,
    minutes_finalise,
)
from .public import (
    agenda_print,
    attendance_list,
    body_meetings,
    meeting_detail,
    schedule,
    seating_plan,
)
from .results import agenda_results
from .seating import seating_adjust
from .secretariat import (
    dashboard,
    manage,
)

__all__ = [
    "landing",
    "register_materials_lister",
    "agenda_edit",
    "agenda_item_delete",
    "agenda_item_edit",
    "agenda_item_move",
    "agenda_print",
    "agenda_results",
    "attendee_edit",
    "attendee_list",
    "attendee_remove",
    "agenda_review",
    "answer",
    "approvals",
    "attendance_list",
    "body_meetings",
    "dashboard",
    "manage",
    "manage_action",
    "meeting_create",
    "meeting_detail",
    "meeting_edit",
    "minutes_confirm",
    "minutes_edit",
    "minutes_passage_add",
    "minutes_passage_delete",
    "minutes_passage_edit",
    "minutes_passage_move",
    "minutes_passage_show",
    "minutes_settings",
    "minutes_versions",
    "minutes_finalise",
    "minutes_review",
    "my_meetings",
    "schedule",
    "seating_adjust",
    "seating_plan",
]

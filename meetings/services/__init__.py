"""Every change of a meeting's state goes through these functions: lock, check, save, audit.

The package is split by seam: meetings (planning, postponing, cancelling), agenda (the 次第 and
its approval), attendance (answers, records, seating, elections), other attendees and minutes.
"""
from ._common import (
    MeetingError,
)
from .agenda import (
    agenda_approve,
    agenda_edited,
    agenda_item_add,
    agenda_item_delete,
    agenda_item_move,
    agenda_item_update,
    agenda_return,
    agenda_snapshot,
    agenda_submit,
    snapshot_hash,
)
from .attendance import (
    attendance_prepare,
    attendance_record,
    attendance_reply,
    meeting_record_election,
    seating_generate,
)
from .attendees import (
    attendee_add,
    attendee_remove,
    attendee_reply,
    attendee_update,
)
from .meetings import (
    EDITABLE_FIELDS,
    SCHEDULE_FIELDS,
    fiscal_year_for,
    meeting_cancel,
    meeting_create,
    meeting_mark_held,
    meeting_mark_notified,
    meeting_postpone,
    meeting_update,
    next_meeting_number,
)
from .minutes import (
    PassageInput,
    minutes_confirm,
    minutes_finalise,
    minutes_passage_add,
    minutes_passage_delete,
    minutes_passage_move,
    minutes_passage_update,
    minutes_publish,
    minutes_send_for_confirmation,
    minutes_settings_update,
    minutes_snapshot,
    minutes_start,
)

__all__ = [
    "EDITABLE_FIELDS",
    "MeetingError",
    "SCHEDULE_FIELDS",
    "agenda_approve",
    "agenda_edited",
    "agenda_item_add",
    "agenda_item_delete",
    "agenda_item_move",
    "agenda_item_update",
    "agenda_return",
    "agenda_snapshot",
    "agenda_submit",
    "attendance_prepare",
    "attendance_record",
    "attendance_reply",
    "attendee_add",
    "attendee_remove",
    "attendee_reply",
    "attendee_update",
    "fiscal_year_for",
    "meeting_cancel",
    "meeting_create",
    "meeting_mark_held",
    "meeting_mark_notified",
    "meeting_postpone",
    "meeting_record_election",
    "meeting_update",
    "PassageInput",
    "minutes_confirm",
    "minutes_finalise",
    "minutes_passage_add",
    "minutes_passage_delete",
    "minutes_passage_move",
    "minutes_passage_update",
    "minutes_publish",
    "minutes_send_for_confirmation",
    "minutes_settings_update",
    "minutes_snapshot",
    "minutes_start",
    "next_meeting_number",
    "seating_generate",
    "snapshot_hash",
]

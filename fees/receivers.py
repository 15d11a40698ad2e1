"""fees listens to meetings; meetings never imports fees (the floors)."""

from __future__ import annotations

from typing import Any


def on_attendance_changed(
    sender: Any, meeting: Any, attendance_ids: list[int], actor: Any = None, **kwargs: Any
) -> None:
    """Attendance recorded after the statements were approved: reopen them, in the same transaction."""
    from . import services

    services.statements_reopen_for_attendance(meeting=meeting, attendance_ids=attendance_ids, actor=actor)

"""Signals of meetings. Higher apps listen (fees reopens approved statements); meetings imports none of them.

- attendance_changed(meeting, attendance_ids, actor): the recorded attendance (出席 / 欠席, 会場 / オンライン)
  of these rows changed. Sent inside the transaction of the change, so a receiver's writes commit or roll
  back with it.
"""

from __future__ import annotations

import django.dispatch

attendance_changed = django.dispatch.Signal()

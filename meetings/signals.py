"""Signals of meetings. Higher apps listen (fees reopens approved statements); meetings imports none of them.

- attendance_changed(meeting, attendance_ids, actor): the recorded attendance (出席 / 欠席, 会場 / オンライン)
  of these rows changed. Sent inside the transaction of the change, so a receiver's writes commit or roll
  back with it.
- absence_recorded(attendance, actor): the secretariat recorded a member's 欠席 with a reason. Sent inside
  the transaction; a receiver that wrote a mail telling the member returns True (notices does, to the outbox),
  and only then may that absence let the vice chair act for the chair (issue 11, W1).
- minutes_sent_for_confirmation(meeting, actor): the secretariat asked the members who attended to confirm
  the draft minutes. Sent inside the transaction; notices writes the 議事録確認のお願い to those still to
  answer, so the request and its mail commit together.
"""

from __future__ import annotations

import django.dispatch

attendance_changed = django.dispatch.Signal()
absence_recorded = django.dispatch.Signal()
minutes_sent_for_confirmation = django.dispatch.Signal()

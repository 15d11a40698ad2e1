"""The demo's 傍聴: an EXAMPLE (例) 傍聴要領 for each public body, and registration opened for the next
public meeting of each, when there is one ahead (the demo's dates decide). Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from committee.models import Body
from meetings.models import Meeting

from . import services
from .models import ObservationGuide, ObservationSettings

EXAMPLE_GUIDE = """傍聴要領(例)

1 傍聴を希望する方は、このサイトから事前に申し込み、メールで届くリンクからアドレスを確認してください。
2 傍聴席の数を超える申込みがあったときは、先着順又は抽選により傍聴者を決めます。
3 会議の開始前に受付を済ませ、係員の指示に従ってください。
4 会場での録音、録画及び写真撮影は、委員長の許可を得た場合を除き、行うことはできません。
5 会議が非公開とされたときは、速やかに退場してください。
6 発言、拍手その他の方法により会議を妨げる行為をしてはいけません。
"""


def load(*, secretariat: Any) -> dict[str, int]:
    """Create what is missing; return counts for the command's report."""
    now = timezone.now()
    opened = 0
    for body in Body.objects.filter(is_public=True):
        if not ObservationGuide.objects.filter(body=body).exists():
            services.guide_save(actor=secretariat, body=body, text=EXAMPLE_GUIDE)
        meeting = (
            Meeting.objects.filter(
                body=body, start_at__gt=now + dt.timedelta(days=2), status__in=services.OPEN_STATUSES,
                openness__in=services.OPEN_OPENNESS,
            )
            .order_by("start_at")
            .first()
        )
        if meeting is None or meeting.start_at is None or ObservationSettings.objects.filter(meeting=meeting).exists():
            continue
        closes = timezone.localtime(meeting.start_at - dt.timedelta(days=1)).replace(hour=17, minute=0)
        services.observation_settings_save(
            actor=secretariat, meeting=meeting, public_seats=10, press_seats=2, max_party=2,
            opens_at=now - dt.timedelta(hours=1), closes_at=closes, method="first_come",
        )
        opened += 1
    return {"observations": opened}

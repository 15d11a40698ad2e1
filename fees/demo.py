"""The demo's fee rules: an EXAMPLE (例) for the 策定委員会. The seed states no amounts, so every amount
here is made up to show how the rules work, and the rule set is marked as an example on every page,
in the CSV and in the PDF. Distances of the members are not in the seed and are left unrecorded.

Loading is idempotent: the rules, the approver's right and the statements of 第1回 are created once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission

from committee.demo import COMMITTEE
from committee.models import Body
from meetings.models import Meeting

from . import services
from .models import FeeSheet, Post, RuleSet

EXAMPLE_EFFECTIVE_ON = dt.date(2023, 4, 13)  # the 策定委員会's 設置要綱 took effect that day
EXAMPLE_RATES = {Post.CHAIR: (12000, 10000), Post.MEMBER: (10000, 8000)}
EXAMPLE_BANDS = [(25, 600), (50, 1200), (100, 2400), (None, 4800)]


def load(*, secretariat: Any) -> dict[str, int]:
    """Create what is missing of the example fees; return counts for the command's report."""
    body = Body.objects.get(slug=COMMITTEE)
    if not RuleSet.objects.filter(body=body, effective_on=EXAMPLE_EFFECTIVE_ON).exists():
        services.rule_set_create(
            actor=secretariat,
            body=body,
            effective_on=EXAMPLE_EFFECTIVE_ON,
            kind="honorarium",
            basis="例: 金額は説明用の架空の値です (シードに金額の定めはありません)",
            is_example=True,
            rates={post.value: amounts for post, amounts in EXAMPLE_RATES.items()},
            travel=RuleSet.Travel.BAND,
            bands=EXAMPLE_BANDS,
            withholding=RuleSet.Withholding.RATE,
            withholding_rate=Decimal("10.21"),
            rounding=RuleSet.Rounding.FLOOR,
        )
    # The demo secretariat is also the approver (決裁者), so the whole path can be tried with one account.
    secretariat.user_permissions.add(
        Permission.objects.get(codename="approve_feesheet", content_type__app_label="fees")
    )
    first = Meeting.objects.filter(body=body, number=1).first()
    if first is not None and not FeeSheet.objects.filter(meeting=first).exists():
        services.statements_compute(actor=secretariat, meeting=first)
    return {"fee_rule_sets": RuleSet.objects.count()}

"""Signed values in links: the answer link of one attendance and a member's private calendar feed."""

from __future__ import annotations

import datetime as dt

from django.core import signing

from meetings.models import Attendance

ANSWER_SALT = "notices.answer"
FEED_SALT = "notices.feed"
# An answer link works until its meeting starts (notices.views.answer refuses it after); this bounds a link
# whose meeting was moved far ahead. A 開催通知 goes out a month or more before the meeting, so a limit of 30 days
# refused links members were still meant to use.
ANSWER_MAX_AGE = dt.timedelta(days=366)


class TokenExpiredError(Exception):
    pass


class TokenInvalidError(Exception):
    pass


def answer_token(attendance: Attendance) -> str:
    """A link that lets the holder of one attendance row answer for that meeting only."""
    return answer_token_for(attendance.pk, attendance.meeting_id)


def answer_token_for(attendance_pk: int, meeting_pk: int) -> str:
    """answer_token for an attendance row known by its ids."""
    return signing.dumps({"a": attendance_pk, "m": meeting_pk}, salt=ANSWER_SALT, compress=False)


def read_answer_token(token: str) -> tuple[int, int]:
    """(attendance pk, meeting pk); TokenExpiredError after ANSWER_MAX_AGE (a year), TokenInvalidError if
    altered. The view also refuses the link once its meeting has started."""
    try:
        value = signing.loads(token, salt=ANSWER_SALT, max_age=ANSWER_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenExpiredError from None
    except signing.BadSignature:
        raise TokenInvalidError from None
    if not isinstance(value, dict) or not isinstance(value.get("a"), int) or not isinstance(value.get("m"), int):
        raise TokenInvalidError
    return value["a"], value["m"]


def feed_token(user) -> str:
    """The private feed's token names the user and the generation of their address (User.feed_generation),
    so resetting it retires every earlier address; it stops giving anything once their rights end. An
    address never reset (generation 0) reads as before generations existed."""
    generation = getattr(user, "feed_generation", 0)
    value = str(user.pk) if not generation else f"{user.pk}-{generation}"
    return signing.Signer(salt=FEED_SALT).sign(value).replace(":", ".")


def read_feed_token(token: str) -> tuple[int, int] | None:
    """(user pk, generation) from a feed token, or None if it was altered."""
    try:
        value = signing.Signer(salt=FEED_SALT).unsign(token.replace(".", ":"))
    except signing.BadSignature:
        return None
    pk, _sep, generation = value.partition("-")
    if not pk.isdigit() or (generation and not generation.isdigit()):
        return None
    return int(pk), int(generation or 0)

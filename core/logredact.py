"""Tokens never reach a log line: answer, guest, calendar-feed, password-reset, invitation, 傍聴 confirm/cancel
and subscription tokens in paths and query strings are replaced by «redacted» in every record (Django's 400/404
lines, runserver's and gunicorn's access lines, exceptions), whoever logs them."""

from __future__ import annotations

import logging
import re

REDACTED = "«redacted»"

# A path segment that is a token: what follows one of these prefixes, up to the next /, ?, space or quote.
# Password-reset and invitation links carry the account's uidb64 first, then the token.
_PATH_TOKEN = re.compile(
    r"(?P<prefix>/(?:answer|guest|calendar|confirm|cancel|unsubscribe"
    r"|accounts/reset/[^/?#\s\"']+|accounts/invitation/[^/?#\s\"']+)/)"
    r"(?P<token>[^/?#\s\"']+)"
)
# token=…, key=…, signature=… in a query string (or a form body that reached a log line).
_QUERY_TOKEN = re.compile(
    r"(?P<prefix>[?&;](?:token|key|signature|sig|code|uid|uidb64|t|k)=)(?P<token>[^&;#\s\"']+)", re.IGNORECASE
)
# A signed value (django.core.signing: payload:timestamp:signature) anywhere else, e.g. in an exception's text.
_SIGNED = re.compile(r"[\w-]{2,}(?::|%3A)[\w-]{4,}(?::|%3A)[\w-]{20,}", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every token replaced by «redacted»; the rest of the path stays, for reading the log."""
    text = _PATH_TOKEN.sub(lambda m: m["prefix"] + (m["token"] if m["token"] == REDACTED else REDACTED), text)
    text = _QUERY_TOKEN.sub(lambda m: m["prefix"] + REDACTED, text)
    return _SIGNED.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Formats the record's message once and keeps only the redacted text (and the redacted traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as logging always does
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# Loggers that write request paths and may have handlers of their own (django.server does not propagate;
# gunicorn attaches its handlers to its loggers before Django starts).
_LOGGERS = ("", "django", "django.request", "django.server", "django.security", "gunicorn.access",
            "gunicorn.error", "celery", "celery.task")


def install() -> None:
    """Add the filter to those loggers and to every handler they have now; running it twice adds nothing."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for target in [logger, *logger.handlers]:
            if not any(isinstance(f, RedactTokens) for f in target.filters):
                target.addFilter(RedactTokens())

"""Failed logins leave an audit entry (the address tried, never the password)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .audit import AuditAction, audit_record
from .http import client_ip
from .text import single_line


def _client_ip(request) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(user_login_failed)
def record_failed_login(sender, credentials, request=None, **kwargs):
    attempted = single_line(str(credentials.get("username") or credentials.get("email") or ""), 254)
    audit_record(
        actor=None, action=AuditAction.LOGIN_FAILED, data={"username": attempted}, ip_address=_client_ip(request)
    )


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditAction.LOGIN, target=user, ip_address=_client_ip(request))

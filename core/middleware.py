"""Headers every response carries (SECURITY.md: CSP, no caching of private pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.cache import add_never_cache_headers, patch_cache_control

from .audit import request_address
from .http import client_ip, valid_address

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponseBase

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not getattr(response, "same_for_everyone", False):
            # Nothing shown to a signed-in user may be kept by a shared cache or the browser (except what a
            # view marks as the same for everyone, such as the brand stylesheet).
            add_never_cache_headers(response)
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequireSecondFactorMiddleware:
    """With DXPLAN_REQUIRE_2FA on, secretariat, staff and admin accounts must give a one-time code
    (django-otp) before any page but logging in and out, the code form, and the links that set a password
    (invitation, reset). Members are not asked. "My account" and the password change are not exempt: a
    password alone must not change what a second factor guards."""

    EXEMPT_PREFIXES = (
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/verify/",
        "/accounts/password_reset/",
        "/accounts/reset/",
        "/accounts/invitation/",
        "/admin/login/",
        "/admin/logout/",
        "/static/",
        "/i18n/",
        "/healthz",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        if settings.DXPLAN_REQUIRE_2FA and self._must_verify(request):
            from django.contrib.auth.views import redirect_to_login
            from django.urls import reverse

            return redirect_to_login(request.get_full_path(), login_url=reverse("otp_verify"))
        return self.get_response(request)

    def _must_verify(self, request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.EXEMPT_PREFIXES):
            return False
        if user.is_verified():
            return False
        from .roles import needs_second_factor

        return needs_second_factor(user)


class ClientAddressMiddleware:
    """Behind PROXY_COUNT trusted proxies, REMOTE_ADDR becomes the client's address (core.http.client_ip),
    so every audit entry, download log and login throttle records the client, not the proxy. The proxy's
    own address stays in META["DXPLAN_PROXY_ADDR"]. While the request is served, core.audit.request_address
    holds that address: every audit entry written meanwhile says from where."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:

        if settings.PROXY_COUNT > 0 and "DXPLAN_PROXY_ADDR" not in request.META:
            address = client_ip(request)
            request.META["DXPLAN_PROXY_ADDR"] = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = address
        # Only a well-formed address (a unix socket's empty REMOTE_ADDR, say, records none).
        token = request_address.set(valid_address(request.META.get("REMOTE_ADDR") or ""))
        try:
            return self.get_response(request)
        finally:
            request_address.reset(token)

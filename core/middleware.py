"""Headers every response carries (SECURITY.md: CSP, no caching of private pages)."""
from django.utils.cache import add_never_cache_headers, patch_cache_control

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
        if user is not None and user.is_authenticated:
            # Nothing shown to a signed-in user may be kept by a shared cache or the browser.
            add_never_cache_headers(response)
            patch_cache_control(response, private=True, no_store=True)
        return response

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    """Email and password; `next` accepts only paths on this site (Django's url_has_allowed_host_and_scheme)."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        # Django refuses other hosts and schemes; a relative "next" (javascript%3A…) is refused too.
        url = super().get_redirect_url()
        return url if url.startswith("/") else ""


@never_cache
def healthz(request) -> HttpResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

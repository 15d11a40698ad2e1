from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import JavaScriptCatalog, set_language

from core import views as core_views

admin.site.site_header = admin.site.site_title = "dxplan"
if settings.DXPLAN_REQUIRE_2FA:
    # Secretariat and admin accounts must give a one-time code (django-otp) to reach the admin.
    from django_otp.admin import OTPAdminSite

    admin.site.__class__ = OTPAdminSite



def favicon(request):
    """Browsers and the admin ask for /favicon.ico; the site's icon is static/favicon.svg."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("", include("committee.urls")),
    path("", include("documents.urls")),
    path("", include("notices.urls")),
    path("", include("documents.print_urls")),
    path("", include("participation.urls")),  # before meetings': manage/meetings/<pk>/<action>/ would catch it
    path("", include("meetings.urls")),
    path("", include("search.urls")),
    path("", include("opendata.urls")),
    path("", include("fees.urls")),
    path("accounts/login/", core_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/", core_views.otp_verify, name="otp_verify"),
    path("", include("committee.account_urls")),
    # Exempt from CSRF: it sets nothing but the language cookie, and the public pages that carry its form
    # are cached for every visitor, so they carry no token (core/pagecache.py).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("brand.css", core_views.brand_css, name="brand_css"),
    path("accessibility/", core_views.accessibility_policy, name="accessibility"),
    path("accessibility/results/", core_views.accessibility_results, name="accessibility_results"),
    path("admin/", admin.site.urls),
]

from django.conf import settings

from .branding import brand_color


def site(request):
    return {
        "ORGANISATION_NAME": settings.DXPLAN_ORGANISATION_NAME,
        "ORGANISATION_CONTACT": settings.DXPLAN_ORGANISATION_CONTACT,
        "SITE_URL": settings.SITE_URL,
        "BRAND_COLOR": brand_color(),
    }

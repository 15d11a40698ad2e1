from django.conf import settings


def site(request):
    return {"ORGANISATION_NAME": settings.DXPLAN_ORGANISATION_NAME, "SITE_URL": settings.SITE_URL}

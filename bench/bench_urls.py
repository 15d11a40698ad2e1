"""The site's URLs and a trivial view that answers "ok" through the whole middleware: Django's own cost."""
from django.http import HttpResponse
from django.urls import path

from dxplan.urls import urlpatterns as site


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("__bench__/ok/", ok), *site]

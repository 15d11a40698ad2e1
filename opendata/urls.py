from django.urls import path

from . import feeds, views
from .http import export

app_name = "opendata"

oparl = export()

urlpatterns = [
    path("oparl/", oparl(views.SystemView.as_view()), name="oparl_system"),
    path("oparl/body/", oparl(views.BodyListView.as_view()), name="oparl_bodies"),
    path("oparl/body/<str:code>/", oparl(views.BodyView.as_view()), name="oparl_body"),
    path("oparl/body/<str:code>/<str:kind>/", oparl(views.BodyObjectListView.as_view()), name="oparl_body_list"),
    path(
        "oparl/organization/<int:pk>/meeting/",
        oparl(views.OrganizationMeetingsView.as_view()),
        name="oparl_organization_meetings",
    ),
    path("oparl/<str:kind>/<str:ident>/", oparl(views.ObjectView.as_view()), name="oparl_object"),
    path("opendata/", export(language=None)(views.datasets), name="datasets"),
    path("opendata/meetings.csv", export()(views.meetings_csv), name="meetings_csv"),
    path("opendata/bodies/<slug:slug>/meetings.csv", export()(views.body_meetings_csv), name="body_meetings_csv"),
    path("opendata/bodies/<slug:slug>/roster.csv", export()(views.roster_csv), name="roster_csv"),
    path("opendata/bodies/<slug:slug>/popolo.json", export()(views.popolo_view), name="popolo"),
    path("opendata/feed.atom", export()(feeds.SiteFeed()), name="site_feed"),
    path("opendata/bodies/<slug:slug>/feed.atom", export()(feeds.BodyFeed()), name="body_feed"),
]

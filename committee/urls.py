from django.urls import path

from . import views

app_name = "committee"

urlpatterns = [
    path("", views.home, name="home"),
    path("bodies/", views.home, name="body_list"),
    path("bodies/<slug:slug>/", views.body_detail, name="body_detail"),
    path("bodies/<slug:slug>/guidelines/", views.guideline_detail, name="guideline_current"),
    path("bodies/<slug:slug>/guidelines/<str:effective_on>/", views.guideline_detail, name="guideline_detail"),
    path("manage/composition/", views.composition_report, name="composition"),
    path("manage/bodies/<slug:slug>/roster.<str:fmt>", views.roster_export, name="roster_export"),
]

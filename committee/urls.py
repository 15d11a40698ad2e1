from django.urls import path

from . import audit_views, manage_views, views

app_name = "committee"

urlpatterns = [
    path("", views.home, name="home"),
    path("bodies/", views.home, name="body_list"),
    path("bodies/<slug:slug>/", views.body_detail, name="body_detail"),
    path("bodies/<slug:slug>/guidelines/", views.guideline_detail, name="guideline_current"),
    path("bodies/<slug:slug>/guidelines/<str:effective_on>/", views.guideline_detail, name="guideline_detail"),
    path("manage/composition/", views.composition_report, name="composition"),
    path("manage/audit/", audit_views.audit_log, name="audit_log"),
    path("manage/bodies/<slug:slug>/roster.<str:fmt>", views.roster_export, name="roster_export"),
    path("manage/bodies/<slug:slug>/roster/", manage_views.roster_manage, name="roster_manage"),
    path("manage/bodies/<slug:slug>/edit/", manage_views.body_edit, name="body_edit"),
    path("manage/bodies/<slug:slug>/renew/", manage_views.body_renew, name="body_renew"),
    path("manage/bodies/<slug:slug>/guidelines/amend/", manage_views.guideline_amend, name="guideline_amend"),
    path(
        "manage/bodies/<slug:slug>/roster/<int:pk>/<slug:action>/",
        manage_views.roster_action,
        name="roster_action",
    ),
]

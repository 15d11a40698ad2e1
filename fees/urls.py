from django.urls import path

from . import views

app_name = "fees"

urlpatterns = [
    path("manage/fees/bodies/<slug:slug>/", views.body_fees, name="body"),
    path("manage/fees/bodies/<slug:slug>/rules/new/", views.rule_set_create, name="rule_set_create"),
    path("manage/fees/bodies/<slug:slug>/payees/", views.payees, name="payees"),
    path("manage/fees/bodies/<slug:slug>/<int:fiscal_year>/", views.year, name="year"),
    path("manage/fees/bodies/<slug:slug>/<int:fiscal_year>/fees.csv", views.year_csv, name="year_csv"),
    path("manage/fees/bodies/<slug:slug>/<int:fiscal_year>/people.csv", views.year_people_csv, name="year_people_csv"),
    path("manage/fees/meetings/<int:pk>/", views.meeting_fees, name="meeting"),
    path("manage/fees/meetings/<int:pk>/fees.csv", views.meeting_csv, name="meeting_csv"),
    path("manage/fees/meetings/<int:pk>/breakdown.pdf", views.meeting_pdf, name="meeting_pdf"),
    path("manage/fees/meetings/<int:pk>/<slug:action>/", views.meeting_action, name="meeting_action"),
    path("manage/fees/statements/<int:pk>/", views.statement_correct, name="statement_correct"),
    path("my/fees/", views.my_fees, name="my"),
    path("my/fees/<int:pk>/", views.my_statement, name="my_statement"),
]

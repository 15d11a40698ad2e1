from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("bodies/<slug:slug>/meetings/", views.body_meetings, name="body_meetings"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("meetings/<int:pk>/agenda/", views.agenda_print, name="agenda_print"),
    path("meetings/<int:pk>/attendance/", views.attendance_list, name="attendance_list"),
    path("meetings/<int:pk>/seating/", views.seating_plan, name="seating"),
    path("meetings/<int:pk>/answer/", views.answer, name="answer"),
    path("meetings/<int:pk>/minutes/", views.minutes_review, name="minutes_review"),
    path("meetings/<int:pk>/minutes/confirm/", views.minutes_confirm, name="minutes_confirm"),
    path("meetings/<int:pk>/minutes/finalise/", views.minutes_finalise, name="minutes_finalise"),
    path("meetings/<int:pk>/agenda/review/", views.agenda_review, name="agenda_review"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/<int:fiscal_year>/", views.schedule, name="schedule_year"),
    path("my/", views.my_meetings, name="my_meetings"),
    path("start/", views.landing, name="landing"),
    path("approvals/", views.approvals, name="approvals"),
    path("manage/", views.dashboard, name="dashboard"),
    path("manage/meetings/<int:pk>/", views.manage, name="manage"),
    # Before manage_action: its <slug:action> would take "edit" and "agenda" as actions.
    path("manage/bodies/<slug:slug>/meetings/new/", views.meeting_create, name="create"),
    path("manage/meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("manage/meetings/<int:pk>/agenda/", views.agenda_edit, name="agenda_edit"),
    path("manage/meetings/<int:pk>/agenda/<int:item_pk>/", views.agenda_item_edit, name="agenda_item_edit"),
    path("manage/meetings/<int:pk>/agenda/<int:item_pk>/delete/", views.agenda_item_delete, name="agenda_item_delete"),
    path("manage/meetings/<int:pk>/agenda/<int:item_pk>/move/", views.agenda_item_move, name="agenda_item_move"),
    path("manage/meetings/<int:pk>/minutes/", views.minutes_edit, name="minutes_edit"),
    path("manage/meetings/<int:pk>/minutes/settings/", views.minutes_settings, name="minutes_settings"),
    path("manage/meetings/<int:pk>/minutes/passages/", views.minutes_passage_add, name="minutes_passage_add"),
    path("manage/meetings/<int:pk>/minutes/passages/<int:entry_pk>/", views.minutes_passage_edit,
         name="minutes_passage_edit"),
    path("manage/meetings/<int:pk>/minutes/passages/<int:entry_pk>/show/", views.minutes_passage_show,
         name="minutes_passage_show"),
    path("manage/meetings/<int:pk>/minutes/passages/<int:entry_pk>/delete/", views.minutes_passage_delete,
         name="minutes_passage_delete"),
    path("manage/meetings/<int:pk>/minutes/passages/<int:entry_pk>/move/", views.minutes_passage_move,
         name="minutes_passage_move"),
    path("manage/meetings/<int:pk>/minutes/versions/", views.minutes_versions, name="minutes_versions"),
    path("manage/meetings/<int:pk>/attendees/", views.attendee_list, name="attendees"),
    path("manage/meetings/<int:pk>/attendees/<int:attendee_pk>/", views.attendee_edit, name="attendee_edit"),
    path(
        "manage/meetings/<int:pk>/attendees/<int:attendee_pk>/remove/", views.attendee_remove, name="attendee_remove"
    ),
    path("manage/meetings/<int:pk>/seating/adjust/", views.seating_adjust, name="seating_adjust"),
    path("manage/meetings/<int:pk>/results/", views.agenda_results, name="agenda_results"),
    path("manage/meetings/<int:pk>/<slug:action>/", views.manage_action, name="manage_action"),
]

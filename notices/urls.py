from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("manage/meetings/<int:pk>/notices/", views.status, name="status"),
    path("manage/meetings/<int:pk>/notices/send/", views.send, name="send"),
    path("manage/meetings/<int:pk>/notices/preview/<slug:kind>/", views.preview, name="preview"),
    path("manage/deliveries/<int:pk>/resend/", views.resend, name="resend"),
    path("manage/notices/<int:pk>/resend-failed/", views.resend_failed, name="resend_failed"),
    path("answer/<str:token>/", views.answer, name="answer"),
    path(
        "manage/meetings/<int:pk>/attendees/<int:attendee_pk>/invite/", views.attendee_invite, name="attendee_invite"
    ),
    path("guest/<str:token>/", views.guest, name="guest"),
    path("bodies/<slug:slug>/calendar.ics", views.body_calendar, name="body_calendar"),
    path("calendar/<str:token>.ics", views.member_calendar, name="member_calendar"),
    path("my/calendar/", views.my_calendar, name="my_calendar"),
    path("my/notifications/", views.settings_page, name="settings"),
]

"""URLs of the printed documents (PDF and HTML print views)."""
from django.urls import path

from . import minutes_print, print_views

app_name = "print"

PDF, HTML = {"fmt": "pdf"}, {"fmt": "html"}

urlpatterns = [
    path("meetings/<int:pk>/print/agenda.pdf", print_views.agenda, PDF, name="agenda_pdf"),
    path("meetings/<int:pk>/print/agenda.html", print_views.agenda, HTML, name="agenda_html"),
    path("meetings/<int:pk>/print/attendance.pdf", print_views.attendance, PDF, name="attendance_pdf"),
    path("meetings/<int:pk>/print/attendance.html", print_views.attendance, HTML, name="attendance_html"),
    path("meetings/<int:pk>/print/seating.pdf", print_views.seating, PDF, name="seating_pdf"),
    path("meetings/<int:pk>/print/seating.html", print_views.seating, HTML, name="seating_html"),
    path("meetings/<int:pk>/print/minutes.pdf", minutes_print.minutes, PDF, name="minutes_pdf"),
    path("meetings/<int:pk>/print/minutes.html", minutes_print.minutes, HTML, name="minutes_html"),
    path("meetings/<int:pk>/print/materials.pdf", print_views.materials, name="materials_pdf"),
    path("manage/meetings/<int:pk>/print/notice/<int:appointment_pk>.pdf", print_views.notice, PDF, name="notice_pdf"),
    path("manage/meetings/<int:pk>/print/notice/<int:appointment_pk>.html", print_views.notice, HTML,
         name="notice_html"),
    path("manage/meetings/<int:pk>/print/notices.pdf", print_views.notices, name="notices_pdf"),
    path("manage/appointments/<int:pk>/commission.pdf", print_views.commission, PDF, name="commission_pdf"),
    path("manage/appointments/<int:pk>/commission.html", print_views.commission, HTML, name="commission_html"),
    path("manage/bodies/<slug:slug>/renew/letters.pdf", print_views.renewal_letters, name="renewal_letters"),
]

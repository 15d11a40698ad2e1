"""Account pages (no namespace: Django's auth views name them password_reset, password_reset_done, ...).
Login, logout and the one-time code are in dxplan/urls.py."""

from django.urls import path

from . import account_views as views

urlpatterns = [
    path("accounts/", views.account, name="account"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/calendar/reset/", views.feed_reset, name="account_feed_reset"),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/invitation/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="account_invitation"),
    path("manage/people/<int:pk>/invite/", views.invite, name="account_invite"),
]

from django.urls import path

from . import views

app_name = "participation"

urlpatterns = [
    path("meetings/<int:pk>/observe/", views.register, name="register"),
    path("meetings/<int:pk>/observe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("meetings/<int:pk>/observe/cancel/<str:token>/", views.cancel, name="cancel"),
    path("bodies/<slug:slug>/subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/confirm/<str:token>/", views.subscription_confirm, name="subscription_confirm"),
    path("subscriptions/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/meetings/<int:pk>/observers/", views.manage, name="manage"),
    path("manage/meetings/<int:pk>/observers/register.pdf", views.register_pdf, name="register_pdf"),
    path("manage/meetings/<int:pk>/observers/<slug:action>/", views.manage_action, name="manage_action"),
    path("manage/bodies/<slug:slug>/observation-guide/", views.guide, name="guide"),
]

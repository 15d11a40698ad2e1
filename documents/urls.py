from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("materials/<int:pk>/download/", views.download, name="download"),
    path("guest/<str:token>/materials/<int:pk>/", views.guest_download, name="guest_download"),
    path("materials/<int:pk>/versions/<int:number>/", views.version_download, name="version_download"),
    path("meetings/<int:pk>/materials.zip", views.download_all, name="download_all"),
    path("manage/meetings/<int:pk>/materials/", views.manage_materials, name="manage"),
    path("manage/materials/<int:pk>/not-downloaded/", views.not_downloaded, name="not_downloaded"),
    path("manage/materials/<int:pk>/<slug:action>/", views.manage_material_action, name="manage_action"),
]

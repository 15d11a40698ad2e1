"""URLs of the printed documents (PDF and HTML print views)."""
from django.urls import path

app_name = "print"

urlpatterns: list = []

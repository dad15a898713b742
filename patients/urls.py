from django.urls import path  # noqa: F401 - routes are added as the pages arrive

from patients import views  # noqa: F401

app_name = "patients"

urlpatterns: list = []

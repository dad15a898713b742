from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("account/profile/", views.profile, name="profile"),
    path("account/profile/edit/", views.profile_edit, name="profile_edit"),
]

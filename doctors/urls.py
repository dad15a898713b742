"""Doctor pages. Three groups, each listed in its own block below:
directory and public profiles; a doctor's own profile, documents and reviews;
a doctor's availability."""

from django.urls import path, re_path

from doctors import views

app_name = "doctors"

# --- directory and public doctor pages ---------------------------------------
# Profile ids only (dp_…), so /doctors/<id>/ never swallows another /doctors/… page.
directory_patterns = [
    path("doctors/", views.directory, name="directory"),
    re_path(r"^doctors/(?P<profile_id>dp_[0-9A-Za-z_]+)/$", views.public_profile, name="public_profile"),
]

# --- the doctor's own profile, verification documents, reviews --------------
profile_patterns = [
    path("doctor/profile/", views.profile_edit, name="profile_edit"),
    path("doctor/profile/submit/", views.profile_submit, name="profile_submit"),
    path("doctor/profile/documents/", views.document_upload, name="document_upload"),
    path("doctor/documents/<str:document_id>/", views.document_download, name="document_download"),
    path("doctor/documents/<str:document_id>/remove/", views.document_remove, name="document_remove"),
    # Public (for listed doctors): MEDIA_ROOT has no URL, photos are streamed by this view.
    path("doctors/<str:profile_id>/photo/", views.doctor_photo, name="doctor_photo"),
    path("consultations/<str:consultation_id>/review/", views.review_write, name="review_write"),
    path("consultations/<str:consultation_id>/review/edit/", views.review_edit, name="review_edit"),
    path("consultations/<str:consultation_id>/review/remove/", views.review_delete, name="review_delete"),
]

# --- availability ---------------------------------------------------------------
availability_patterns = [
    path("doctor/availability/", views.availability_edit, name="availability"),
]

urlpatterns = [*directory_patterns, *profile_patterns, *availability_patterns]

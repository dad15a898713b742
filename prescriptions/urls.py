"""Prescription pages: the doctor's editor, the printable page and PDF, the
patient's list, remedy suggestions and the public verification page."""

from django.urls import path

from prescriptions import views

app_name = "prescriptions"

urlpatterns = [
    path("prescriptions/", views.mine, name="mine"),
    # Before prescriptions/<id>/ so "remedies" is never read as an id.
    path("prescriptions/remedies/", views.remedy_search, name="remedy_search"),
    path("consultations/<str:consultation_id>/prescription/", views.write, name="write"),
    path("prescriptions/<str:prescription_id>/", views.detail, name="detail"),
    path("prescriptions/<str:prescription_id>/edit/", views.edit, name="edit"),
    path("prescriptions/<str:prescription_id>/issue/", views.issue, name="issue"),
    path("prescriptions/<str:prescription_id>/correct/", views.correct, name="correct"),
    path("prescriptions/<str:prescription_id>/pdf/", views.pdf, name="pdf"),
    path("prescriptions/<str:prescription_id>/signature/", views.signature, name="signature"),
    path("doctor/profile/signature/", views.own_signature, name="own_signature"),
    # Public: what a pharmacy opens from the code or QR printed on the prescription.
    path("rx/verify/", views.verify_lookup, name="verify_lookup"),
    path("rx/verify/<str:code>/", views.verify, name="verify"),
]

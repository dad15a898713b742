from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("records/", views.index, name="index"),
    path("records/upload/", views.upload, name="upload"),
    path("records/files/<str:file_id>/download/", views.file_serve, {"variant": "download"}, name="download"),
    path("records/files/<str:file_id>/view/", views.file_serve, {"variant": "view"}, name="view"),
    path("records/files/<str:file_id>/thumbnail/", views.file_serve, {"variant": "thumbnail"}, name="thumbnail"),
    path("records/files/<str:file_id>/delete/", views.delete, name="delete"),
    path("consultations/<str:consultation_id>/records/", views.consultation_files, name="consultation_files"),
    path(
        "consultations/<str:consultation_id>/records/upload/",
        views.consultation_upload,
        name="consultation_upload",
    ),
]

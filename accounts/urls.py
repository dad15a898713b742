from django.urls import path

from accounts import views, views_privacy

app_name = "accounts"

urlpatterns = [
    path("account/", views.dashboard, name="dashboard"),
    path("account/delete/", views.delete_account, name="delete"),
    path("account/data/", views_privacy.data_export, name="data_export"),
    path("account/data/<str:export_id>/download/", views_privacy.data_export_download, name="data_export_download"),
    path(
        "account/data/<str:user_id>/<str:export_id>/download/",
        views_privacy.data_export_staff_download,
        name="data_export_staff_download",
    ),
    path("account/notifications/", views.notification_preferences, name="notification_preferences"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    path("notifications/<str:notification_id>/read/", views.notification_read, name="notification_read"),
    path("notifications/<str:notification_id>/open/", views.notification_open, name="notification_open"),
]

from django.contrib import admin
from django.urls import path

from dhanwantari import views

admin.site.site_header = "Dhanwantari staff console"
admin.site.site_title = "Dhanwantari staff"
admin.site.index_title = "Run the service"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

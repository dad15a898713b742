"""The bare page (bench/views.py), mounted at /bench/ only with BENCH_ENDPOINTS=true."""

from django.urls import path

from bench import views

app_name = "bench"

urlpatterns = [
    path("bare/", views.bare, name="bare"),
]

from django.apps import AppConfig


class DhanwantariConfig(AppConfig):
    name = "dhanwantari"
    verbose_name = "Dhanwantari"

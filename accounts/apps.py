from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import receivers
        from accounts.audit import audit_every_admin
        from accounts.roles import ensure_staff_roles

        receivers.connect()
        # Staff groups and custom permissions, after every migrate (no migration: see accounts.roles).
        post_migrate.connect(ensure_staff_roles, sender=self, dispatch_uid="accounts.ensure_staff_roles")
        # django.contrib.admin (earlier in INSTALLED_APPS) has registered every
        # admin by now; the ones from other packages get the audit mixin too.
        audit_every_admin(admin.site)

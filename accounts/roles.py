"""Staff roles: Django groups with the permissions each role needs.

- Support: reads users, consultations (without clinical fields), messages'
  metadata and payments; unlocks accounts and resends verification email.
- Moderator: verifies or rejects doctors, reads their documents, hides and
  shows reviews.
- Administrator: every permission, including reading clinical fields and
  managing staff accounts, groups and permissions.

A superuser has every permission without a group. The groups and the custom
permissions below are made (and brought up to date) after every `migrate`
by `ensure_staff_roles`, connected to post_migrate in AccountsConfig: no
migration, so nothing here conflicts with other apps' migrations, and a
model added later joins Administrator on the next migrate.
"""

from __future__ import annotations

from typing import Any

SUPPORT = "Support"
MODERATOR = "Moderator"
ADMINISTRATOR = "Administrator"

# (app_label, model, codename, name): permissions that are not a model's add/change/delete/view.
CUSTOM_PERMISSIONS = (
    ("consultations", "consultation", "view_clinical", "Can read clinical fields (notes, case, messages, Rx)"),
    ("consultations", "consultation", "cancel_consultation", "Can cancel a consultation as staff, with refund"),
    ("consultations", "consultation", "move_consultation", "Can move a consultation to another slot as staff"),
    ("accounts", "user", "unlock_account", "Can unlock locked accounts"),
    ("accounts", "user", "resend_verification", "Can resend the email verification link"),
    ("accounts", "user", "manage_staff", "Can manage staff accounts, groups and permissions"),
    ("doctors", "doctorprofile", "verify_doctorprofile", "Can verify or reject doctors"),
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    SUPPORT: (
        "accounts.view_user",
        "accounts.unlock_account",
        "accounts.resend_verification",
        "accounts.view_notification",
        "consultations.view_consultation",
        "consultations.view_message",
        "consultations.view_patientconsultationhistory",
        "payments.view_paymentevent",
    ),
    MODERATOR: (
        "doctors.view_doctorprofile",
        "doctors.verify_doctorprofile",
        "doctors.view_doctordocument",
        "doctors.view_doctorreview",
        "doctors.change_doctorreview",
        "doctors.view_activedoctor",
    ),
}


def ensure_staff_roles(**kwargs: Any) -> None:
    """Create or update the staff groups and custom permissions; safe to run any number of times."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    using = kwargs.get("using", "default")
    # post_migrate runs app by app; make sure every app's permissions exist
    # before the groups pick them (both calls create only what is missing).
    for app_config in apps.get_app_configs():
        if app_config.models_module is not None:
            create_contenttypes(app_config, verbosity=0, using=using)
            create_permissions(app_config, verbosity=0, using=using)

    for app_label, model, codename, name in CUSTOM_PERMISSIONS:
        content_type = ContentType.objects.db_manager(using).get_by_natural_key(app_label, model)
        Permission.objects.db_manager(using).update_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )

    everything = Permission.objects.using(using).all()
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in everything.select_related("content_type")}
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([by_name[name] for name in names if name in by_name])
    administrator, _ = Group.objects.using(using).get_or_create(name=ADMINISTRATOR)
    administrator.permissions.set(list(by_name.values()))

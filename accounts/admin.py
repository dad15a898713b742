"""Staff console for accounts: users, notifications, the audit trail and tokens.

This module also holds the pieces every app's admin shares (soft-deleted rows,
read-only admins), because accounts is the app the others already depend on.

What staff may edit here is deliberately narrow: state whose changes the
services own (and will audit) is shown, not edited; the staff console issue
adds those changes as actions that call the services.

No admin uses date_hierarchy: its drill-down truncates datetimes in the
current time zone, which on MySQL needs the server's time-zone tables
(without them CONVERT_TZ returns NULL and the page fails). Date list filters
compare UTC ranges and work on every database (the audit trail takes any
range in its URL: ?created_at__gte=2026-01-01&created_at__lt=2026-02-01).

Every admin here is an AuditedAdminMixin (accounts.audit); staff roles and
what each may do are in accounts.roles.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.audit import REDACTED, AuditedAdminMixin, RestoreActionMixin, service_audited
from accounts.models import (
    EMAIL_OR_PHONE_REQUIRED,
    AdminLog,
    AuditAction,
    EmailVerificationToken,
    Notification,
    PasswordResetToken,
    User,
)
from accounts.services import account_unlock, audit_record, email_verification_resend

MANAGE_STAFF = "accounts.manage_staff"
# Who holds these decides who can do anything: only administrators change them.
STAFF_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")
STAFF_FIELDS_REFUSED = "Only administrators can change staff access (staff, superuser, groups, permissions)."

# --- shared by every app's admin --------------------------------------------


class DeletedListFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class SoftDeleteAdminMixin(RestoreActionMixin):
    """For models with `deleted_at`: staff see deleted rows too, and can filter them.

    Hard deletes are refused: the product only soft-deletes and PROTECT
    foreign keys would refuse most of them anyway. Deleted rows come back
    through the audited "restore" action (accounts.audit.RestoreActionMixin).
    """

    def get_queryset(self, request):
        queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_list_filter(self, request):
        return [DeletedListFilter, *super().get_list_filter(request)]

    def get_field_queryset(self, db, db_field, request):
        # Form choices come from the default manager, which hides soft-deleted
        # rows: a consultation whose doctor was deleted would otherwise fail
        # validation ("Select a valid choice") on every save.
        all_objects = getattr(db_field.remote_field.model, "all_objects", None)
        if all_objects is None:
            return super().get_field_queryset(db, db_field, request)
        return all_objects.using(db)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="deleted", ordering="deleted_at")
    def deleted(self, obj) -> bool:
        return obj.is_deleted


class ReadOnlyAdminMixin:
    """Viewable by staff with the view permission; writable by no one, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- users -------------------------------------------------------------------


class _UniqueAmongDeletedMixin:
    """Model unique checks query the default manager, which hides soft-deleted
    users; their email or phone is still taken in the table's unique index, so
    without this check reusing one is an IntegrityError instead of a form error."""

    def validate_unique(self):
        super().validate_unique()
        for name in ("email", "phone"):
            value = getattr(self.instance, name)
            if not value or name in self.errors:
                continue
            if User.all_objects.filter(**{name: value}).exclude(pk=self.instance.pk).exists():
                self.add_error(name, self.instance.unique_error_message(User, [name]))


class UserCreationForm(_UniqueAmongDeletedMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "phone", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = "Email or phone, at least one."

    def clean(self):
        # The database constraint also allows deleted rows without either; this
        # form creates live accounts, so it asks for one itself.
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone"):
            raise forms.ValidationError(EMAIL_OR_PHONE_REQUIRED)
        return cleaned


class UserEditForm(_UniqueAmongDeletedMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class LockedListFilter(admin.SimpleListFilter):
    title = "locked"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "no":
            return queryset.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        return queryset


@admin.action(description="Export personal data (GDPR access request)")
@service_audited
def export_personal_data(modeladmin, request, queryset):
    """Build a "Download my data" archive for each selected account; accounts.privacy audits each request."""
    from accounts.policies import VIEW_CLINICAL
    from accounts.privacy import export_request

    if not request.user.has_perm(VIEW_CLINICAL):
        raise PermissionDenied
    exports = [export_request(user=user, by=request.user, request=request) for user in queryset.filter(is_staff=False)]
    for export in exports:
        url = reverse("accounts:data_export_staff_download", args=[export.user_id, export.id])
        modeladmin.message_user(request, format_html('Export of {}: <a href="{}">download</a>', export.user_id, url))


@admin.register(User)
class UserAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, BaseUserAdmin):
    # Restoring an account is not a flag: deletion scrubbed it (accounts.services.account_delete).
    restorable = False

    def user_change_password(self, request, id, form_url=""):
        # Django's page saves the password itself, past save_model: audited here.
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                actor=request.user,
                action=AuditAction.UPDATE,
                table="users",
                record_id=id,
                new={"password": REDACTED},
                description="Staff set a new password in the admin.",
                request=request,
            )
        return response

    show_full_result_count = False
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "id",
        "email",
        "phone",
        "name",
        "role",
        "is_active",
        "is_staff",
        "email_verified",
        "locked",
        "last_login",
        "created_at",
        "deleted",
    )
    # display_name reads the role's profile; joining both keeps it query-free.
    list_select_related = ("patient_profile", "doctor_profile")
    list_filter = (
        "role",
        "is_active",
        "is_staff",
        "is_superuser",
        "email_verified",
        "phone_verified",
        LockedListFilter,
        "created_at",
        "last_login",
    )
    search_fields = ("=id", "email", "phone", "patient_profile__full_name", "doctor_profile__full_name")
    ordering = ("-created_at",)
    fieldsets = (
        ("Sign-in", {"fields": ("id", "email", "phone", "password", "role", "timezone")}),
        ("Verification", {"fields": ("email_verified", "email_verified_at", "phone_verified", "phone_verified_at")}),
        ("Locking", {"fields": ("failed_login_attempts", "last_failed_login_at", "locked_until")}),
        ("Login tracking", {"fields": ("last_login", "last_login_ip", "login_count")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Record", {"fields": ("created_at", "updated_at", "deleted_at", "deleted_email", "deleted_phone")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "phone", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = (
        "id",
        "email_verified_at",
        "phone_verified_at",
        # Locks change only through the unlock action, which writes the audit trail.
        "failed_login_attempts",
        "locked_until",
        "last_failed_login_at",
        "last_login",
        "last_login_ip",
        "login_count",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_email",
        "deleted_phone",
    )
    actions = ["unlock_accounts", "resend_verification", export_personal_data]

    @admin.action(description="Unlock selected accounts", permissions=["unlock"])
    @service_audited
    def unlock_accounts(self, request, queryset):
        count = 0
        for user in queryset.filter(locked_until__isnull=False):
            account_unlock(user=user, by=request.user, request=request)
            count += 1
        self.message_user(request, f"Unlocked {count} account{'s' if count != 1 else ''}.")

    @admin.action(description="Resend the email verification link", permissions=["resend_verification"])
    @service_audited
    def resend_verification(self, request, queryset):
        sent = sum(
            email_verification_resend(user=user, by=request.user, request=request)
            for user in queryset.filter(email_verified=False, email__isnull=False)
        )
        level = messages.SUCCESS if sent else messages.WARNING
        self.message_user(request, f"Sent {sent} verification link{'' if sent == 1 else 's'}.", level)

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("accounts.unlock_account")

    def has_resend_verification_permission(self, request) -> bool:
        return request.user.has_perm("accounts.resend_verification")

    def has_change_permission(self, request, obj=None):
        # A staff account (its password, its email) is itself staff access.
        if obj is not None and obj.is_staff and not request.user.has_perm(MANAGE_STAFF):
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not request.user.has_perm(MANAGE_STAFF):
            fields = (*fields, *STAFF_FIELDS)
        # The id carries the role as its prefix and the role decides which
        # profile the account has, so a role is chosen once, at creation.
        return (*fields, "role") if obj is not None else fields

    def save_model(self, request, obj, form, change):
        # The read-only fields already keep these out of the form; this is the
        # second lock, for a form built some other way.
        if set(STAFF_FIELDS) & set(form.changed_data) and not request.user.has_perm(MANAGE_STAFF):
            raise PermissionDenied(STAFF_FIELDS_REFUSED)
        super().save_model(request, obj, form, change)

    @admin.display(description="name")
    def name(self, obj: User) -> str:
        return obj.display_name

    @admin.display(boolean=True, description="locked", ordering="locked_until")
    def locked(self, obj: User) -> bool:
        return obj.is_locked


# --- notifications -----------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "user", "kind", "read", "created_at", "emailed_at", "sms_sent_at")
    list_select_related = ("user",)
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=id", "title", "=user__id", "user__email", "user__phone")
    autocomplete_fields = ("user",)
    fields = (
        "id",
        "user",
        "kind",
        "title",
        "body",
        "deeplink",
        "data",
        "read_at",
        "emailed_at",
        "sms_sent_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("id", "read_at", "emailed_at", "sms_sent_at", "created_at", "updated_at")

    @admin.display(boolean=True, description="read", ordering="read_at")
    def read(self, obj: Notification) -> bool:
        return obj.is_read


# --- audit trail ---------------------------------------------------------------


@admin.register(AdminLog)
class AdminLogAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail is append-only: readable here, never editable, even by superusers."""

    list_display = ("created_at", "user", "action", "table_name", "record_id", "description", "ip_address")
    list_select_related = ("user",)
    list_filter = ("action", "table_name", "created_at")
    search_fields = ("=id", "=record_id", "table_name", "description", "=user__id", "user__email", "ip_address")
    # COUNT(*) over the whole trail grows with it; the filtered count is enough.
    show_full_result_count = False
    fields = (
        "id",
        "created_at",
        "user",
        "action",
        "table_name",
        "record_id",
        "description",
        "old_values",
        "new_values",
        "ip_address",
        "user_agent",
    )


# --- one-time tokens -------------------------------------------------------------
# Only a token's SHA-256 is stored, yet even the hash stays off every page and
# out of search: staff have no use for it, and nothing token-like should be on screen.


@admin.register(PasswordResetToken)
class PasswordResetTokenAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "created_at", "expires_at", "used_at", "usable", "requested_ip")
    list_select_related = ("user",)
    list_filter = (("used_at", admin.EmptyFieldListFilter), "expires_at", "created_at")
    search_fields = ("=id", "=user__id", "user__email", "requested_ip")
    fields = ("id", "user", "created_at", "expires_at", "used_at", "requested_ip", "user_agent")

    @admin.display(boolean=True, description="usable")
    def usable(self, obj: PasswordResetToken) -> bool:
        return obj.is_usable


@admin.register(EmailVerificationToken)
class EmailVerificationTokenAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "email", "created_at", "expires_at", "verified_at", "usable")
    list_select_related = ("user",)
    list_filter = (("verified_at", admin.EmptyFieldListFilter), "expires_at", "created_at")
    search_fields = ("=id", "=user__id", "user__email", "email")
    fields = ("id", "user", "email", "created_at", "expires_at", "verified_at")

    @admin.display(boolean=True, description="usable")
    def usable(self, obj: EmailVerificationToken) -> bool:
        return obj.is_usable


# --- staff groups ------------------------------------------------------------------


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin):
    """Roles (accounts.roles) are staff access: only administrators see or change them."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_STAFF) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.has_perm(MANAGE_STAFF) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_STAFF) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_STAFF) and super().has_delete_permission(request, obj)


# --- second factors ----------------------------------------------------------------
# allauth's own admin shows an authenticator's `data`: the TOTP secret and the
# recovery-code seed. Staff need to see that a factor exists and remove it
# (the "reset two-factor" step), never its secret.


def _replace_authenticator_admin() -> None:
    from allauth.mfa.models import Authenticator

    if admin.site.is_registered(Authenticator):
        admin.site.unregister(Authenticator)
    admin.site.register(Authenticator, AuthenticatorAdmin)


class AuthenticatorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    list_select_related = ("user",)
    search_fields = ("=user__id", "user__email")
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


_replace_authenticator_admin()

"""Tables: users, notifications, admin_logs, password_reset_tokens, email_verification_tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from dhanwantari.db_functions import one_of
from dhanwantari.ids import ID_MAX_LENGTH, new_id
from dhanwantari.models import SoftDeleteModel, TimeStampedModel, id_field, ref
from dhanwantari.validators import validate_e164_phone

EMAIL_OR_PHONE_REQUIRED = "An account needs an email address or a phone number."


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    DOCTOR = "doctor", "Doctor"
    ADMIN = "admin", "Admin"


class UserQuerySet(models.QuerySet):
    def patients(self) -> UserQuerySet:
        return self.filter(role=Role.PATIENT)

    def doctors(self) -> UserQuerySet:
        return self.filter(role=Role.DOCTOR)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    """Default manager: deleted users cannot be found, so they cannot sign in."""

    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)

    def get_by_natural_key(self, username: str) -> User:
        # Emails are stored lower-cased, so an exact match uses the unique index.
        return self.get(email=self.normalize_email(username))

    def _create_user(self, email: str | None, password: str | None, **extra) -> User:
        user = self.model(email=self.normalize_email(email) or None, **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str | None = None, password: str | None = None, **extra) -> User:
        extra.setdefault("role", Role.PATIENT)
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(role=Role.ADMIN, is_staff=True, is_superuser=True, email_verified=True)
        return self._create_user(email, password, **extra)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin, SoftDeleteModel, TimeStampedModel):
    """An account: a patient, a doctor or a member of staff.

    The id carries the role as prefix (`patient_…`, `doctor_…`, `admin_…`) and is
    assigned on first save. A person signs in with email or phone; either may be
    empty, not both.
    """

    id = models.CharField(primary_key=True, max_length=ID_MAX_LENGTH, editable=False)
    email = models.EmailField(unique=True, null=True, blank=True)
    phone = models.CharField(
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_e164_phone],
        help_text="E.164, e.g. +919812345678.",
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PATIENT, db_index=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    email_verified = models.BooleanField(default=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified = models.BooleanField(default=False)
    phone_verified_at = models.DateTimeField(null=True, blank=True)

    # Account locking (spec "Security Features").
    failed_login_attempts = models.PositiveSmallIntegerField(default=0)
    last_failed_login_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    # Login tracking; `last_login` comes from AbstractBaseUser.
    last_login_ip = models.GenericIPAddressField(null=True, blank=True)
    login_count = models.PositiveIntegerField(default=0)

    timezone = models.CharField(max_length=64, default="Asia/Kolkata")

    # On account deletion the email and phone move here, so the unique columns
    # are free for a new account (MySQL has no partial unique index to skip
    # deleted rows) and staff can still tell whose account it was.
    deleted_email = models.EmailField(blank=True)
    deleted_phone = models.CharField(max_length=16, blank=True)

    objects = UserManager()
    all_objects = BaseUserManager.from_queryset(UserQuerySet)()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email__isnull=False)
                | models.Q(phone__isnull=False)
                | models.Q(deleted_at__isnull=False),
                name="users_email_or_phone",
                violation_error_message=EMAIL_OR_PHONE_REQUIRED,
            ),
            one_of("role", Role.values, name="users_role_valid"),
        ]
        indexes = [models.Index(fields=["locked_until"], name="users_locked_until_idx")]

    def __str__(self) -> str:
        return self.email or self.phone or self.id

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email) or None
        self.phone = (self.phone or "").strip() or None

    def save(self, *args, **kwargs) -> None:
        if not self.id:
            self.id = new_id(self.role)
        self.email = UserManager.normalize_email(self.email) or None
        self.phone = (self.phone or "").strip() or None
        super().save(*args, **kwargs)

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def display_name(self) -> str:
        """The name on the person's profile, falling back to their login.

        Reads the profile of the user's role; pages that list users fetch it with
        select_related so this costs no query.
        """
        attr = {Role.PATIENT: "patient_profile", Role.DOCTOR: "doctor_profile"}.get(self.role)
        # A missing profile raises RelatedObjectDoesNotExist, an AttributeError.
        profile = getattr(self, attr, None) if attr else None
        return (profile.full_name if profile else "") or str(self)


def is_local_path(url: str) -> bool:
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


class Notification(TimeStampedModel):
    """An in-app notification; `read_at` empty means unread (spec sample query)."""

    id = id_field("ntf")
    user = ref("accounts.User", "user_id", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=50, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    deeplink = models.CharField(max_length=500, blank=True, help_text="A path inside the site.")
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    sms_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [
            # "Get unread notifications": user_id = ? AND read_at IS NULL ORDER BY created_at DESC
            models.Index(fields=["user", "read_at", "created_at"], name="ntf_user_read_created_idx"),
            # The notification centre and the dashboard's latest five, read or not:
            # user_id = ? ORDER BY created_at DESC, id DESC straight from the index.
            models.Index(fields=["user", "created_at"], name="ntf_user_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # A deeplink is a path on this site; anything a browser could read as
        # another host ("//evil", "/\\evil", control characters) would make
        # notifications a phishing vector.
        if self.deeplink and not is_local_path(self.deeplink):
            raise ValidationError({"deeplink": "A deeplink must be a path on this site, like /consultations/…"})

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How one user wants one kind of notification delivered, beyond in-app.

    A missing row means the kind's defaults (accounts.notifications.KINDS).
    """

    id = id_field("npref")
    user = ref("accounts.User", "user_id", on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=50)
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)

    class Meta:
        db_table = "notification_preferences"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="ntf_pref_user_kind_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}"


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    SOFT_DELETE = "soft_delete", "Soft delete"
    RESTORE = "restore", "Restore"
    VIEW = "view", "View"
    ACTION = "action", "Action"
    LOGIN = "login", "Sign-in"


class AdminLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("admin_logs is append-only.")

    def delete(self):
        raise TypeError("admin_logs is append-only.")


class AdminLog(models.Model):
    """The audit trail: who did what to which row, before and after, from where.

    Append-only: the model refuses updates and deletes; in production the
    application's database role cannot UPDATE or DELETE this table either.
    """

    id = id_field("log")
    user = ref(
        "accounts.User",
        "user_id",
        null=True,
        blank=True,
        related_name="admin_logs",
        help_text="Who acted; empty for the system itself.",
    )
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    table_name = models.CharField(max_length=64)
    record_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    objects = AdminLogQuerySet.as_manager()

    class Meta:
        db_table = "admin_logs"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["table_name", "record_id"], name="admin_logs_target_idx"),
            models.Index(fields=["user", "created_at"], name="admin_logs_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}:{self.record_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("admin_logs is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("admin_logs is append-only.")


class _TokenBase(models.Model):
    """A one-time token: only its SHA-256 is stored, never the token itself."""

    user = ref("accounts.User", "user_id", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PasswordResetToken(_TokenBase):
    id = id_field("prt")
    used_at = models.DateTimeField(null=True, blank=True)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "password_reset_tokens"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="prt_user_created_idx")]

    def __str__(self) -> str:
        return f"reset for {self.user_id}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and not self.is_expired


class EmailVerificationToken(_TokenBase):
    id = id_field("evt")
    email = models.EmailField(help_text="The address this token proves.")
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_verification_tokens"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="evt_user_created_idx")]

    def __str__(self) -> str:
        return f"verify {self.email}"

    @property
    def is_usable(self) -> bool:
        return self.verified_at is None and not self.is_expired

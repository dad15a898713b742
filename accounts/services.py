"""State changes for accounts: the audit trail, sign-in tracking and locking,
one-time tokens, account deletion and notifications.

Every function here is the only writer of what it changes. Views, allauth's
adapter, admin actions and commands call these; none re-implements a rule.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import (
    AdminLog,
    AuditAction,
    EmailVerificationToken,
    Notification,
    NotificationPreference,
    PasswordResetToken,
    Role,
    User,
)
from accounts.notifications import kind as notification_kind

logger = logging.getLogger(__name__)


# --- request facts -------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, read behind ALLAUTH_TRUSTED_PROXY_COUNT proxies.

    allauth's reading takes the address the nearest trusted proxy saw, so a
    client cannot choose its own by sending X-Forwarded-For.
    """
    if request is None:
        return None
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except Exception:
        return None


def user_agent(request: HttpRequest | None) -> str:
    return (request.headers.get("user-agent", "") if request is not None else "")[:500]


def token_hash(token: str) -> str:
    """Only this digest of a one-time token is ever stored."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- audit trail -----------------------------------------------------------------


def audit_record(
    *,
    actor: User | None,
    action: str,
    table: str,
    record_id: str = "",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    description: str = "",
    request: HttpRequest | None = None,
) -> AdminLog:
    """Append one row to admin_logs: who, what, which row, before/after, from where."""
    return AdminLog.objects.create(
        user=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        table_name=table,
        record_id=record_id,
        old_values=old,
        new_values=new,
        description=description[:500],
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )


# --- sign-in: tracking and locking -------------------------------------------------


class AccountLocked(ValidationError):
    """Raised before authentication while an account is locked."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = timezone.localtime(until)
        super().__init__(
            f"Too many failed sign-ins. This account is locked until {local:%H:%M} ({local:%d %b %Y}, "
            f"{local.tzname()}). You can reset your password to get back in sooner.",
            code="account_locked",
        )


def _login_key(login: str) -> str:
    return "login-lock:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


def login_lock_check(*, user: User | None, login: str) -> None:
    """Refuse a sign-in attempt while the account is locked, right password or not.

    An identifier with no account "locks" the same way (in the cache), so the
    lock message cannot be used to find out which accounts exist.
    """
    now = timezone.now()
    if user is not None:
        if user.locked_until and user.locked_until > now:
            raise AccountLocked(user.locked_until)
        return
    state = cache.get(_login_key(login))
    if state and state.get("locked_until") and state["locked_until"] > now:
        raise AccountLocked(state["locked_until"])


def login_failure_record(*, user: User | None, login: str, request: HttpRequest | None = None) -> None:
    """Count a failed sign-in; the LOGIN_LOCK_THRESHOLD-th within the window locks the account."""
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCK_WINDOW)
    lock_for = timedelta(seconds=settings.LOGIN_LOCK_DURATION)
    if user is None:
        key = _login_key(login)
        state = cache.get(key) or {"count": 0, "first": now}
        if now - state["first"] > window:
            state = {"count": 0, "first": now}
        state["count"] += 1
        if state["count"] >= settings.LOGIN_LOCK_THRESHOLD:
            state["locked_until"] = now + lock_for
        cache.set(key, state, timeout=int((window + lock_for).total_seconds()))
        return

    with transaction.atomic():
        # Row lock: two wrong passwords arriving together must both be counted.
        locked = User.all_objects.select_for_update().get(pk=user.pk)
        # "Within 15 minutes" counts the failures of the last LOGIN_LOCK_WINDOW,
        # not a run of failures each close to the one before (which locked
        # someone mistyping every ten minutes for an hour). The row keeps only
        # the last failure, so the times live in the cache, read and written
        # under the row lock; a zero count (success, unlock, reset) starts afresh.
        times_key = f"login-failures:{locked.pk}"
        times = [t for t in (cache.get(times_key) or []) if now - t <= window] if locked.failed_login_attempts else []
        times.append(now)
        cache.set(times_key, times, timeout=int(window.total_seconds()))
        locked.failed_login_attempts = len(times)
        locked.last_failed_login_at = now
        fields = ["failed_login_attempts", "last_failed_login_at", "updated_at"]
        just_locked = locked.failed_login_attempts >= settings.LOGIN_LOCK_THRESHOLD
        if just_locked:
            locked.locked_until = now + lock_for
            fields.append("locked_until")
        locked.save(update_fields=fields)
        if just_locked:
            audit_record(
                actor=None,
                action=AuditAction.ACTION,
                table="users",
                record_id=locked.pk,
                new={"locked_until": locked.locked_until.isoformat()},
                description=f"Locked after {locked.failed_login_attempts} failed sign-ins.",
                request=request,
            )
            notification_send(
                user=locked,
                kind="account_locked",
                title="Your account was locked",
                body=(
                    f"Someone entered a wrong password {locked.failed_login_attempts} times. Sign-in is paused "
                    f"until {timezone.localtime(locked.locked_until):%H:%M}. If this was not you, reset your "
                    "password."
                ),
                deeplink="/accounts/password/reset/",
            )
    user.failed_login_attempts = locked.failed_login_attempts
    user.locked_until = locked.locked_until


def login_success_record(*, user: User, request: HttpRequest | None = None) -> None:
    """A successful sign-in: failures forgotten, time, address and count kept."""
    User.all_objects.filter(pk=user.pk).update(
        failed_login_attempts=0,
        last_failed_login_at=None,
        locked_until=None,
        last_login_ip=client_ip(request),
        login_count=F("login_count") + 1,
        updated_at=timezone.now(),
    )


def account_unlock(*, user: User, by: User, request: HttpRequest | None = None) -> None:
    """Staff lift a lock before it runs out."""
    if not by.is_staff:
        raise PermissionError("Only staff can unlock accounts.")
    with transaction.atomic():
        locked = User.all_objects.select_for_update().get(pk=user.pk)
        old = {
            "failed_login_attempts": locked.failed_login_attempts,
            "locked_until": locked.locked_until.isoformat() if locked.locked_until else None,
        }
        locked.failed_login_attempts = 0
        locked.last_failed_login_at = None
        locked.locked_until = None
        locked.save(update_fields=["failed_login_attempts", "last_failed_login_at", "locked_until", "updated_at"])
        audit_record(
            actor=by,
            action=AuditAction.ACTION,
            table="users",
            record_id=locked.pk,
            old=old,
            new={"failed_login_attempts": 0, "locked_until": None},
            description="Unlocked by staff.",
            request=request,
        )
    user.failed_login_attempts, user.locked_until = 0, None


# --- email verification tokens ---------------------------------------------------------


def email_token_record(*, user: User, email: str, key: str) -> EmailVerificationToken:
    """Remember (as a digest) a verification link we are about to send."""
    return EmailVerificationToken.objects.create(
        user=user,
        email=email,
        token_hash=token_hash(key),
        expires_at=timezone.now() + timedelta(days=settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS),
    )


def email_token_usable(key: str) -> EmailVerificationToken | None:
    """The recorded token for `key` if it is unexpired and unused."""
    token = EmailVerificationToken.objects.filter(token_hash=token_hash(key)).first()
    return token if token is not None and token.is_usable else None


def email_verified(*, user: User, email_address, key: str | None = None) -> None:
    """An address was proven: close its token and mark the account verified.

    A proven address replaces an unproven primary (someone correcting a typo
    made at sign-up): it becomes the sign-in address and the typo is dropped.
    """
    from allauth.account.models import EmailAddress

    now = timezone.now()
    with transaction.atomic():
        if key is not None:
            EmailVerificationToken.objects.filter(
                user=user, token_hash=token_hash(key), verified_at__isnull=True
            ).update(verified_at=now)
        primary = EmailAddress.objects.get_primary(user)
        if primary is None or (primary.pk != email_address.pk and not primary.verified):
            email_address.set_as_primary()  # also writes users.email
            if primary is not None:
                primary.delete()
        User.all_objects.filter(pk=user.pk, email__iexact=email_address.email).update(
            email_verified=True, email_verified_at=now, updated_at=now
        )
    user.refresh_from_db(fields=["email", "email_verified", "email_verified_at"])


def email_primary_changed(*, user: User, email_address) -> None:
    """The sign-in address changed: the account is verified only if that address is."""
    now = timezone.now()
    User.all_objects.filter(pk=user.pk).update(
        email_verified=email_address.verified,
        email_verified_at=now if email_address.verified else None,
        updated_at=now,
    )


# --- password reset tokens --------------------------------------------------------------


def password_reset_token_record(*, user: User, token: str, request: HttpRequest | None) -> PasswordResetToken:
    return PasswordResetToken.objects.create(
        user=user,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        requested_ip=client_ip(request),
        user_agent=user_agent(request),
    )


def password_reset_token_usable(*, user: User, token: str) -> bool:
    return any(t.is_usable for t in PasswordResetToken.objects.filter(user=user, token_hash=token_hash(token)))


def password_reset_completed(*, user: User, request: HttpRequest | None = None) -> None:
    """A reset went through: every open link dies and the lock is lifted.

    The person has just proven they own the address, so making them wait out
    a lock someone else caused would only lock the owner out.
    """
    now = timezone.now()
    with transaction.atomic():
        PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        User.all_objects.filter(pk=user.pk).update(
            failed_login_attempts=0, last_failed_login_at=None, locked_until=None, updated_at=now
        )
        audit_record(
            actor=user,
            action=AuditAction.ACTION,
            table="users",
            record_id=user.pk,
            description="Password reset by email link; other sessions ended.",
            request=request,
        )


# --- sign-up and deletion ---------------------------------------------------------


def account_profile_create(*, user: User, full_name: str):
    """The profile that goes with a new account's role."""
    from doctors.models import DoctorProfile, VerificationStatus
    from patients.models import PatientProfile

    full_name = full_name.strip()
    if user.role == Role.DOCTOR:
        profile = DoctorProfile(user=user, full_name=full_name, verification_status=VerificationStatus.DRAFT)
    elif user.role == Role.PATIENT:
        profile = PatientProfile(user=user, full_name=full_name)
    else:
        return None
    profile.full_clean()
    profile.save()
    if user.role == Role.DOCTOR:
        notification_send(
            user=user,
            kind="welcome",
            title="Welcome, doctor. Complete your profile to be verified",
            body="Add your registration number, qualifications and fees. Our staff verify every doctor "
            "before patients can find or book them.",
            deeplink="/doctor/profile/",
        )
    else:
        notification_send(
            user=user,
            kind="welcome",
            title="Welcome to Dhanwantari",
            body="Confirm your email address so you can book consultations. Your records stay private to you "
            "and the doctors you consult.",
            deeplink="/account/",
        )
    return profile


class AccountDeletionError(Exception):
    pass


def account_delete(*, user: User, request: HttpRequest | None = None) -> None:
    """Close an account and erase its owner's personal data (right to be forgotten).

    The row stays (consultations, prescriptions and payments that must be kept
    point at it) but identifies nobody: email, phone and their copies in
    deleted_email/deleted_phone, the last sign-in address, allauth's email
    addresses and MFA authenticators are gone, the profile reads "Deleted
    user". accounts.privacy.personal_data_erase does the rest (profile, files,
    messages, notifications, tokens, exports) and says what is kept and why.

    Sign-in is impossible and every session ends: the password becomes
    unusable (Django checks a hash of it on every request), deleted users
    cannot be loaded at all, and saving the row closes the user's open
    websockets (accounts.receivers sends "session.close" to `user.<id>`).

    The audit row records the closing without the erased values: the audit
    trail is append-only and kept, so it must not become a copy of them.
    """
    from allauth.account.models import EmailAddress

    from accounts.privacy import personal_data_erase

    if user.is_staff:
        raise AccountDeletionError("Staff accounts are closed by an administrator.")
    now = timezone.now()
    with transaction.atomic():
        locked = User.all_objects.select_for_update().get(pk=user.pk)
        if locked.deleted_at is not None:
            return
        old = {"had_email": bool(locked.email), "had_phone": bool(locked.phone), "is_active": locked.is_active}
        locked.email = None
        locked.phone = None
        locked.deleted_email = ""
        locked.deleted_phone = ""
        locked.email_verified = locked.phone_verified = False
        locked.last_login_ip = None
        locked.is_active = False
        locked.deleted_at = now
        locked.set_unusable_password()
        locked.save()
        EmailAddress.objects.filter(user=locked).delete()
        erased = personal_data_erase(user=locked)
        audit_record(
            actor=user,
            action=AuditAction.SOFT_DELETE,
            table="users",
            record_id=locked.pk,
            old=old,
            new={"email": None, "phone": None, "is_active": False, "erased": erased},
            description="Account closed by its owner; personal data erased.",
            request=request,
        )


# --- notifications ------------------------------------------------------------------


def notification_send(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    deeplink: str = "",
    data: dict[str, Any] | None = None,
) -> Notification:
    """Notify a user: stored for the notification centre now, email/SMS after commit.

    Delivery runs as a background task once the surrounding transaction has
    committed, so nobody is emailed about something that was rolled back.
    """
    notification_kind(kind)  # an unknown kind is a programming error, raised here
    notification = Notification(user=user, kind=kind, title=title[:200], body=body, deeplink=deeplink, data=data or {})
    notification.full_clean()
    notification.save()

    def deliver() -> None:
        from accounts.tasks import deliver_notification

        deliver_notification.enqueue(notification.pk)

    transaction.on_commit(deliver)
    return notification


def notification_mark_read(*, user: User, notification_id: str) -> Notification:
    """Mark one of the user's notifications read; someone else's is 'not found'."""
    notification = Notification.objects.get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    now = timezone.now()
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now, updated_at=now)


@dataclass(frozen=True)
class Delivery:
    email: bool
    sms: bool


def notification_delivery(*, user: User, kind: str) -> Delivery:
    """Where this kind goes for this user: their preference, else the kind's default."""
    spec = notification_kind(kind)
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    email = spec.mandatory or (pref.email if pref else spec.email)
    sms = spec.sms_allowed and (pref.sms if pref else spec.sms)
    # Only to proven addresses: a mistyped email or number belongs to a stranger.
    return Delivery(
        email=email and bool(user.email) and user.email_verified,
        sms=sms and bool(user.phone) and user.phone_verified,
    )


def notification_preferences_update(*, user: User, choices: dict[str, Delivery]) -> None:
    """Save a user's choices; mandatory kinds always email, SMS only where allowed."""
    with transaction.atomic():
        for name, choice in choices.items():
            spec = notification_kind(name)
            NotificationPreference.objects.update_or_create(
                user=user,
                kind=name,
                defaults={"email": spec.mandatory or choice.email, "sms": spec.sms_allowed and choice.sms},
            )


# --- staff: resending a verification link (staff console) ------------------------------


def email_verification_resend(*, user: User, by: User, request: HttpRequest) -> bool:
    """Staff send a fresh verification link to an account's unverified address.

    Returns False (and writes nothing) when every address is already verified.
    The link goes through allauth like any other, so its token is recorded by
    the adapter; staff are not subject to the per-address send rate limit.
    """
    from allauth.account.models import EmailAddress

    if not by.is_staff:
        raise PermissionError("Only staff can resend verification email.")
    address = EmailAddress.objects.filter(user=user, verified=False).order_by("-primary").first()
    if address is None:
        return False
    address.send_confirmation(request)
    audit_record(
        actor=by,
        action=AuditAction.ACTION,
        table="users",
        record_id=user.pk,
        new={"email_verification": "resent"},
        description="Verification email resent by staff.",
        request=request,
    )
    return True

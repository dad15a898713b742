"""Read paths for account pages, each a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Notification, NotificationPreference, User
from accounts.notifications import KINDS
from accounts.services import Delivery


def unread_notification_count(*, user: User) -> int:
    """Uses the (user_id, read_at, created_at) index."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first (the spec's unread query, without the filter)."""
    return Notification.objects.filter(user=user).order_by("-created_at")


def notification_preferences(*, user: User) -> dict[str, Delivery]:
    """Each kind's choice for this user: their saved row, or the kind's default (1 query)."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    return {
        name: Delivery(
            email=spec.mandatory or (saved[name].email if name in saved else spec.email),
            sms=spec.sms_allowed and (saved[name].sms if name in saved else spec.sms),
        )
        for name, spec in KINDS.items()
    }

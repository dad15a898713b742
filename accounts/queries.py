"""Read paths for account pages, each a fixed number of queries."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import Notification, NotificationPreference, User
from accounts.notifications import kinds_for
from accounts.services import Delivery


def unread_notification_count(*, user: User) -> int:
    """Uses the (user_id, read_at, created_at) index."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first (the spec's unread query, without the filter)."""
    return Notification.objects.filter(user=user).order_by("-created_at")


def user_timezone(*, user: User) -> ZoneInfo:
    """The zone this person reads times in; a name zoneinfo does not know falls back to the site's."""
    try:
        return ZoneInfo(user.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def notification_preferences(*, user: User) -> dict[str, Delivery]:
    """Each kind this user can receive, with their saved choice or the default (1 query)."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    return {
        name: Delivery(
            email=spec.mandatory or (saved[name].email if name in saved else spec.email),
            sms=spec.sms_allowed and (saved[name].sms if name in saved else spec.sms),
        )
        for name, spec in kinds_for(user.role).items()
    }

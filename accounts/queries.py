"""Read paths for account pages, each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from accounts.models import Notification, NotificationPreference, User
from accounts.notifications import kinds_for
from accounts.services import Delivery


def unread_notification_count(*, user: User) -> int:
    """Uses the (user_id, read_at, created_at) index."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first (the spec's unread query, without the filter)."""
    return Notification.objects.filter(user=user).order_by("-created_at")


NOTIFICATIONS_PAGE_SIZE = 20


@dataclass(frozen=True)
class NotificationCounts:
    total: int
    unread: int


def notification_counts(*, user: User) -> NotificationCounts:
    """How many notifications the user has, and how many are unread: one
    aggregate, read from the (user_id, read_at, created_at) index alone."""
    counts = Notification.objects.filter(user=user).aggregate(
        total=Count("pk"), unread=Count("pk", filter=Q(read_at__isnull=True))
    )
    return NotificationCounts(total=counts["total"], unread=counts["unread"])


class _NotificationRows:
    """The user's notifications, newest first, for Paginator with the count already known.

    Paginator would otherwise ask COUNT(*) again; notification_counts() has
    it (with the unread count, in one aggregate). A page is one query on
    (user_id, created_at), columns limited to what the page shows.
    """

    def __init__(self, *, user: User, total: int) -> None:
        self.user = user
        self.total = total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:  # pragma: no cover - Paginator prefers count()
        return self.total

    def __getitem__(self, index: slice) -> list[Notification]:
        if not self.total:
            return []
        return list(
            Notification.objects.filter(user=self.user)
            .only("title", "body", "deeplink", "read_at", "created_at")
            .order_by("-created_at", "-id")[index]
        )


def notification_page(*, user: User, page: int | str | None) -> tuple[Page, NotificationCounts]:
    """One page of the user's notifications, newest first, with the counts the
    page and the header badge show: 2 queries (counts, rows) however many
    notifications the user has; 1 when they have none."""
    counts = notification_counts(user=user)
    rows = _NotificationRows(user=user, total=counts.total)
    return Paginator(rows, NOTIFICATIONS_PAGE_SIZE).get_page(page), counts


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

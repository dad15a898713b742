from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts.queries import unread_notification_count


def notifications(request):
    """The unread badge in the header: one COUNT, and only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user=user))}

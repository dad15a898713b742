"""Background work for accounts: delivering notifications by email and SMS."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from accounts.models import Notification
from accounts.services import notification_delivery
from accounts.sms import SMSError, send_sms

logger = logging.getLogger(__name__)


def _site_url() -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/")


@task()
def deliver_notification(notification_id: str) -> None:
    """Email and/or text one notification, each at most once.

    `emailed_at` / `sms_sent_at` are set in the same transaction that claims
    the row, so a task that runs twice sends nothing the second time.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("user").filter(pk=notification_id).first()
        )
        if notification is None:
            return
        user = notification.user
        delivery = notification_delivery(user=user, kind=notification.kind)
        now = timezone.now()
        fields = []
        if delivery.email and notification.emailed_at is None:
            context = {"notification": notification, "user": user, "site_url": _site_url()}
            message = EmailMultiAlternatives(
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{notification.title}",
                body=render_to_string("emails/notification.txt", context),
                to=[user.email],
            )
            message.attach_alternative(render_to_string("emails/notification.html", context), "text/html")
            message.send()
            notification.emailed_at = now
            fields.append("emailed_at")
        if delivery.sms and notification.sms_sent_at is None:
            try:
                send_sms(to=user.phone, message=f"Dhanwantari: {notification.title}")
            except SMSError:
                # The in-app notification and email stand; a failed text is logged, not retried forever.
                logger.warning("SMS for notification %s failed", notification.pk, exc_info=True)
            else:
                notification.sms_sent_at = now
                fields.append("sms_sent_at")
        if fields:
            notification.save(update_fields=[*fields, "updated_at"])

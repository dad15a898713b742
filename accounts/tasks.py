"""Background work for accounts: delivering notifications by email and SMS; building data exports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from accounts.models import Notification
from accounts.notifications import kind as notification_kind
from accounts.services import notification_delivery
from accounts.sms import SMSError, send_sms

logger = logging.getLogger(__name__)


def _site_url() -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/")


@dataclass(frozen=True)
class _Claim:
    notification: Notification
    at: datetime
    email: bool
    sms: bool


def _claim(notification_id: str) -> _Claim | None:
    """Mark the channels still owed as sent, and commit, before sending anything.

    Claiming first is what makes delivery at most once: a second run (a retry,
    a duplicate enqueue, a worker that died after sending) finds the stamps
    set and sends nothing. The row lock makes two concurrent runs take turns;
    it is released before any network call, so a slow SMTP server or SMS
    gateway never holds a lock or a transaction open.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("user").filter(pk=notification_id).first()
        )
        if notification is None:
            return None
        delivery = notification_delivery(user=notification.user, kind=notification.kind)
        now = timezone.now()
        email = delivery.email and notification.emailed_at is None
        sms = delivery.sms and notification.sms_sent_at is None
        fields = []
        if email:
            notification.emailed_at = now
            fields.append("emailed_at")
        if sms:
            notification.sms_sent_at = now
            fields.append("sms_sent_at")
        if fields:
            notification.save(update_fields=[*fields, "updated_at"])
    return _Claim(notification=notification, at=now, email=email, sms=sms)


def _release(claim: _Claim, field: str) -> None:
    """Give a claimed channel back after the send failed, so the stamp tells the truth.

    Only our own claim is cleared (matched on its time), never a later one.
    """
    Notification.objects.filter(pk=claim.notification.pk, **{field: claim.at}).update(
        **{field: None}, updated_at=timezone.now()
    )
    setattr(claim.notification, field, None)


# Confirmations that carry the consultation as an .ics file, so it can go
# straight into the person's calendar (a reschedule updates the same entry; a
# cancellation's file marks it cancelled).
CALENDAR_KINDS = frozenset({"consultation_booked", "consultation_rescheduled", "consultation_cancelled"})


def _calendar_attachment(notification: Notification) -> MIMEText | None:
    """The consultation's .ics for a booking or reschedule confirmation, worded for its recipient.

    Built when the email is sent, so it describes the booking as it is then
    (already moved again, or cancelled, is what the calendar should know).
    None when the notification is of another kind or names no consultation of
    this recipient. A failure to build it is logged and the email goes
    without it: a confirmation is worth more than its calendar file.
    """
    consultation_id = (notification.data or {}).get("consultation_id")
    if notification.kind not in CALENDAR_KINDS or not consultation_id:
        return None
    # Imported here: consultations depends on accounts, not the other way round.
    from consultations.calendar import METHOD, consultation_ics, ics_filename
    from consultations.models import Consultation
    from consultations.policies import is_participant

    try:
        consultation = (
            Consultation.objects.select_related("patient__patient_profile", "doctor__doctor_profile")
            .filter(pk=str(consultation_id))
            .first()
        )
        if consultation is None or consultation.scheduled_at is None:
            return None
        if not is_participant(notification.user, consultation):
            return None
        ics = consultation_ics(consultation, recipient=notification.user)
    except Exception:  # a bug here must not cost the person their confirmation
        logger.exception("Calendar file for notification %s failed", notification.pk)
        return None
    # Built by hand because Django's attach() cannot carry the `method`
    # parameter that calendar clients read from the Content-Type.
    part = MIMEText(ics.decode(), "calendar", "utf-8")
    part.set_param("method", METHOD)
    part.add_header("Content-Disposition", "attachment", filename=ics_filename(consultation))
    return part


def _send_email(notification: Notification) -> None:
    user = notification.user
    context = {
        "notification": notification,
        "user": user,
        "site_url": _site_url(),
        "mandatory": notification_kind(notification.kind).mandatory,
    }
    # A header cannot hold a line break; titles are one line, but never trust that in a header.
    title = " ".join(notification.title.split())
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{title}",
        body=render_to_string("emails/notification.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/notification.html", context), "text/html")
    calendar = _calendar_attachment(notification)
    if calendar is not None:
        message.attach(calendar)
    message.send()


@task()
def deliver_notification(notification_id: str) -> None:
    """Email and/or text one notification, each at most once.

    `emailed_at` / `sms_sent_at` are claimed (committed) before sending; a send
    that fails gives its claim back, so the stamps mean "sent".
    """
    claim = _claim(notification_id)
    if claim is None:
        return
    email_error: Exception | None = None
    if claim.email:
        try:
            _send_email(claim.notification)
        except Exception as exc:  # SMTP and template errors alike: the text message still goes.
            _release(claim, "emailed_at")
            email_error = exc
    if claim.sms:
        try:
            send_sms(to=claim.notification.user.phone, message=f"Dhanwantari: {claim.notification.title}")
        except SMSError:
            # The in-app notification and email stand; a failed text is logged, not retried forever.
            _release(claim, "sms_sent_at")
            logger.warning("SMS for notification %s failed", claim.notification.pk, exc_info=True)
    if email_error is not None:
        # Raised so the task backend records the failure; the claim was given back above.
        raise email_error


@task()
def data_export_build(user_id: str, export_id: str) -> None:
    """Build a "Download my data" archive (accounts.privacy.export_build); a second run does nothing."""
    from accounts.privacy import export_build

    export_build(user_id=user_id, export_id=export_id)

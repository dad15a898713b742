"""Payments: services. Every change to a consultation's payment columns goes
through here, in one transaction, with the consultation row locked.

Where money comes from:

- offline (the default provider): the doctor or staff record a payment, and
  later any refund, with a receipt number.
- Razorpay: an order is created for the fee; the patient pays in Razorpay
  Checkout on our pay page; the consultation becomes paid only when the
  checkout return carries a valid signature AND the payment fetched from
  Razorpay's API is captured for that order, amount and currency, or when a
  signed webhook says so. A browser redirect alone never marks anything paid.

Every provider event is kept once in payment_events ((provider, event_id) is
unique), with what it did: applied, ignored (already reflected, or
superseded: a payment.failed after the capture, anything after the refund)
or rejected (did not match the consultation: the consultation is untouched).
Each applied change also writes an audit row and notifies the patient.

Refunds of Razorpay payments are requested from Razorpay after the
cancellation commits (payments.tasks.payment_refund_issue) and the
consultation is refunded when Razorpay confirms it (the API answer or the
refund.processed webhook). Refunds of offline payments stay refund_pending
until the doctor or staff record them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, User
from accounts.services import audit_record, notification_send
from consultations import lifecycle
from consultations.models import Consultation, PaymentMethod, PaymentStatus, Status
from dhanwantari.ids import new_id
from payments.models import Outcome, PaymentEvent, Provider
from payments.policies import OWED
from payments.providers import active_provider, provider_for
from payments.providers.base import ProviderOrder, ProviderPayment, ProviderRefund, to_minor
from payments.providers.razorpay import (
    ID_PATTERN,
    RazorpayProvider,
    order_from_entity,
    payment_from_entity,
    refund_from_entity,
)

logger = logging.getLogger(__name__)

# Error messages are constants so tests and pages can import them.
RECORD_NOT_ALLOWED = "Only the consultation's doctor or our staff can record its payments and refunds."
PAY_NOT_ALLOWED = "Only the patient can pay for this consultation."
PAYMENT_NOT_DUE = "No payment is owed for this consultation (payment status: {status})."
AMOUNT_NOT_FEE = "The amount must be the consultation fee, {currency} {fee}."
RECEIPT_REQUIRED = "Enter the receipt number."
REFUND_NOT_DUE = "No refund is waiting to be recorded for this consultation."
REFUND_AMOUNT_WRONG = "The amount must be the refund owed, {currency} {amount}."
REFUND_ONLINE = "This refund goes back through Razorpay by itself; only our staff can record it by hand."
ONLINE_UNAVAILABLE = "Online payment is not available. Please pay at the clinic."
CHECKOUT_INCOMPLETE = "The payment details did not arrive complete, so nothing was marked as paid. Please try again."
CHECKOUT_WRONG_ORDER = "That payment is not for this consultation, so nothing was marked as paid."
SIGNATURE_INVALID = "We could not verify that payment, so nothing was marked as paid. Please try again."
PAYMENT_NOT_CONFIRMED = "Razorpay has not confirmed this payment, so nothing was marked as paid."
ORDER_MISMATCH = "Razorpay created an order for a different amount; nothing was saved. Please try again."
WEBHOOK_MALFORMED = "The webhook body is not a Razorpay event."

# Event types we act on (Razorpay's names).
CAPTURE_EVENTS = ("payment.captured", "payment.authorized", "order.paid")

PAYMENT_FIELDS = (
    "payment_status",
    "payment_method",
    "payment_order_id",
    "payment_reference",
    "paid_at",
    "refund_amount",
    "refunded_at",
    "refund_reference",
)


class PaymentError(ValidationError):
    """A payment action refused; the message says why. `field` names the form field it belongs next to."""

    field: str | None = None


class PaymentNotAllowed(PaymentError):
    """The wrong person for this action."""


class PaymentNotDue(PaymentError):
    """Nothing is owed (or nothing is to be refunded) right now."""


class AmountMismatch(PaymentError):
    field = "amount"


class ReceiptRequired(PaymentError):
    field = "receipt_number"


class OnlinePaymentUnavailable(PaymentError):
    """The active provider takes no online payments."""


class PaymentNotVerified(PaymentError):
    """A checkout return that does not prove a payment: nothing was marked paid."""


class SignatureInvalid(PaymentNotVerified):
    """The checkout or webhook signature does not match: nothing was stored."""


class WebhookMalformed(PaymentError):
    """A correctly signed body that is not a Razorpay event."""


# --- helpers -----------------------------------------------------------------------


def _lock(consultation_id: str) -> Consultation:
    # Soft-deleted consultations included: money that moved is real either way.
    return Consultation.all_objects.select_for_update().get(pk=consultation_id)


def _money(consultation: Consultation) -> dict[str, Any]:
    """The payment columns as the audit log keeps them."""
    values = {name: getattr(consultation, name) for name in PAYMENT_FIELDS}
    return {
        name: value.isoformat() if isinstance(value, datetime) else str(value) if isinstance(value, Decimal) else value
        for name, value in values.items()
    }


def _save(locked: Consultation, before: dict[str, Any]) -> list[str]:
    after = _money(locked)
    changed = [name for name in PAYMENT_FIELDS if after[name] != before[name]]
    locked.full_clean()
    locked.save(update_fields=[*changed, "updated_at"])
    return changed


def _copy_back(consultation: Consultation, locked: Consultation) -> Consultation:
    for name in (*PAYMENT_FIELDS, "updated_at"):
        setattr(consultation, name, getattr(locked, name))
    return consultation


def _amount_text(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount}"


def _pay_link(consultation: Consultation) -> str:
    return reverse("payments:pay", args=[consultation.pk])


def _notify(consultation: Consultation, *, kind: str, title: str, body: str = "") -> None:
    notification_send(
        user=consultation.patient,
        kind=kind,
        title=title,
        body=body,
        deeplink=_pay_link(consultation),
        data={"consultation_id": consultation.pk},
    )


def _audit(*, by: User | None, locked: Consultation, before: dict[str, Any], description: str) -> None:
    after = _money(locked)
    audit_record(
        actor=by,
        action=AuditAction.UPDATE,
        table="consultations",
        record_id=locked.pk,
        old={name: value for name, value in before.items() if after[name] != value},
        new={name: value for name, value in after.items() if before[name] != value},
        description=description,
    )


def _record_event(
    *,
    provider: str,
    event_id: str,
    event_type: str,
    consultation: Consultation | None,
    outcome: str,
    note: str = "",
    by: User | None = None,
    payment: ProviderPayment | None = None,
    refund: ProviderRefund | None = None,
    order_id: str = "",
    amount: Decimal | None = None,
    currency: str = "",
    occurred_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> PaymentEvent:
    money = refund or payment
    return PaymentEvent.objects.create(
        provider=provider,
        event_id=event_id[:100],
        event_type=event_type[:50],
        consultation=consultation,
        order_id=(order_id or (payment.order_id if payment else ""))[:100],
        payment_id=(payment.id if payment else refund.payment_id if refund else "")[:100],
        refund_id=(refund.id if refund else "")[:100],
        amount=amount if amount is not None else money.amount if money else None,
        currency=currency or (money.currency if money else ""),
        occurred_at=occurred_at,
        recorded_by=by if by is not None and by.is_authenticated else None,
        payload=payload or {},
        outcome=outcome,
        outcome_note=note[:300],
    )


def _already_stored(provider: str, event_id: str) -> bool:
    return PaymentEvent.objects.filter(provider=provider, event_id=event_id[:100]).exists()


def _recorder_role(consultation: Consultation, by: User) -> str:
    role = lifecycle.role_in(consultation, by)
    if role not in (lifecycle.DOCTOR, lifecycle.STAFF):
        raise PaymentNotAllowed(RECORD_NOT_ALLOWED, code="not_allowed")
    return role


def _check_payer(consultation: Consultation, by: User) -> None:
    if not by.is_authenticated or by.pk != consultation.patient_id:
        raise PaymentNotAllowed(PAY_NOT_ALLOWED, code="not_allowed")
    if consultation.payment_status not in OWED or consultation.fee_amount <= 0:
        raise PaymentNotDue(
            PAYMENT_NOT_DUE.format(status=consultation.get_payment_status_display().lower()), code="not_due"
        )


def _razorpay() -> RazorpayProvider:
    provider = active_provider()
    if not isinstance(provider, RazorpayProvider):
        raise OnlinePaymentUnavailable(ONLINE_UNAVAILABLE, code="online_unavailable")
    return provider


# --- cancellation (called by consultations.services) -----------------------------------


def payment_settle_cancellation(
    *, consultation: Consultation, refund_amount: Decimal, by: User, now: datetime
) -> list[str]:
    """Settle the money of a consultation being cancelled; returns the fields changed.

    Called by consultations.services.consultation_transition inside its
    transaction, with `consultation` locked and not yet saved. Paid: the refund
    the policy allows becomes pending; a Razorpay payment is refunded through
    Razorpay once the cancellation has committed (never for a cancellation
    that rolls back), the clinic records an offline one. Not paid yet: nothing
    is owed any more (a Razorpay payment completing later is refunded in full,
    see _apply_capture).
    """
    changed: list[str] = []
    if consultation.payment_status == PaymentStatus.PAID:
        if refund_amount > 0:
            consultation.refund_amount = refund_amount
            consultation.payment_status = PaymentStatus.REFUND_PENDING
            changed += ["refund_amount", "payment_status"]
            if consultation.payment_method == PaymentMethod.RAZORPAY:
                _refund_after_commit(consultation.pk)
    elif consultation.payment_status in OWED:
        consultation.payment_status = PaymentStatus.NOT_REQUIRED
        changed.append("payment_status")
    return changed


def _refund_after_commit(consultation_id: str) -> None:
    def enqueue() -> None:
        from payments.tasks import payment_refund_issue

        payment_refund_issue.enqueue(consultation_id)

    transaction.on_commit(enqueue)


# --- offline: recorded by the doctor or staff ---------------------------------------------


def _save_offline(
    locked: Consultation,
    before: dict[str, Any],
    *,
    what: str,
    by: User,
    role: str,
    receipt: str,
    amount: Decimal,
    now: datetime,
) -> None:
    """Save a payment or refund the clinic recorded, with its event and audit row."""
    _save(locked, before)
    _record_event(
        provider=Provider.OFFLINE,
        event_id=new_id("offline"),
        event_type=f"offline.{what}",
        consultation=locked,
        outcome=Outcome.APPLIED,
        note=f"Recorded by the {role}, receipt {receipt}.",
        by=by,
        amount=amount,
        currency=locked.currency,
        occurred_at=now,
        payload={"receipt_number": receipt},
    )
    _audit(
        by=by,
        locked=locked,
        before=before,
        description=f"{what.capitalize()} recorded by the {role} (receipt {receipt}).",
    )


def payment_record_offline(
    *, consultation: Consultation, by: User, amount: Decimal, receipt_number: str, now: datetime | None = None
) -> Consultation:
    """Record that the patient paid the fee at the clinic (or by any means outside the site).

    The consultation's doctor or staff only; the amount must be the fee; a
    receipt number is required; only while payment is owed. Raises a
    PaymentError subclass and writes nothing if refused.
    """
    now = now or timezone.now()
    receipt = receipt_number.strip()
    with transaction.atomic():
        locked = _lock(consultation.pk)
        role = _recorder_role(locked, by)
        if locked.payment_status not in OWED or locked.fee_amount <= 0:
            raise PaymentNotDue(
                PAYMENT_NOT_DUE.format(status=locked.get_payment_status_display().lower()), code="not_due"
            )
        if not receipt:
            raise ReceiptRequired(RECEIPT_REQUIRED, code="receipt_required")
        if amount != locked.fee_amount:
            raise AmountMismatch(
                AMOUNT_NOT_FEE.format(currency=locked.currency, fee=locked.fee_amount), code="amount_not_fee"
            )
        before = _money(locked)
        locked.payment_status = PaymentStatus.PAID
        if locked.payment_method != PaymentMethod.PAY_AT_CLINIC:
            locked.payment_method = PaymentMethod.OFFLINE
        locked.payment_reference = receipt
        locked.paid_at = now
        _save_offline(locked, before, what="payment", by=by, role=role, receipt=receipt, amount=amount, now=now)
        _notify(
            locked,
            kind="payment_received",
            title=f"Payment of {_amount_text(locked.fee_amount, locked.currency)} received",
            body=f"Receipt number {receipt}.",
        )
    return _copy_back(consultation, locked)


def refund_record_offline(
    *, consultation: Consultation, by: User, amount: Decimal, receipt_number: str, now: datetime | None = None
) -> Consultation:
    """Record that the refund owed after a cancellation was paid back to the patient.

    The doctor or staff for an offline payment; staff only for a Razorpay
    payment (when Razorpay could not refund it). The amount must be the refund
    owed; a receipt number is required.
    """
    now = now or timezone.now()
    receipt = receipt_number.strip()
    with transaction.atomic():
        locked = _lock(consultation.pk)
        role = _recorder_role(locked, by)
        if locked.payment_status != PaymentStatus.REFUND_PENDING:
            raise PaymentNotDue(REFUND_NOT_DUE, code="refund_not_due")
        if locked.payment_method == PaymentMethod.RAZORPAY and role != lifecycle.STAFF:
            raise PaymentNotAllowed(REFUND_ONLINE, code="refund_online")
        if not receipt:
            raise ReceiptRequired(RECEIPT_REQUIRED, code="receipt_required")
        if amount != locked.refund_amount:
            raise AmountMismatch(
                REFUND_AMOUNT_WRONG.format(currency=locked.currency, amount=locked.refund_amount),
                code="amount_not_refund",
            )
        before = _money(locked)
        locked.payment_status = PaymentStatus.REFUNDED
        locked.refund_reference = receipt
        locked.refunded_at = now
        _save_offline(locked, before, what="refund", by=by, role=role, receipt=receipt, amount=amount, now=now)
        _notify(
            locked,
            kind="refund_processed",
            title=f"Your refund of {_amount_text(locked.refund_amount, locked.currency)} has been paid",
            body=f"Refund receipt number {receipt}.",
        )
    return _copy_back(consultation, locked)


# --- Razorpay: order and checkout ---------------------------------------------------------


@dataclass(frozen=True)
class CheckoutOrder:
    """What the pay page hands to Razorpay Checkout."""

    order_id: str
    amount: Decimal
    currency: str
    amount_minor: int


def razorpay_order_for(*, consultation: Consultation, by: User) -> CheckoutOrder:
    """The Razorpay order the patient pays this consultation's fee through: created once, then reused.

    The order is created with Razorpay before anything is written here; if
    two requests race, the first saved order wins and the other is left
    unused at Razorpay (an order with no payment costs nothing). Raises
    OnlinePaymentUnavailable, PaymentNotAllowed, PaymentNotDue, ProviderError
    or AmountMismatch.
    """
    provider = _razorpay()
    _check_payer(consultation, by)

    def checkout(order_id: str, locked: Consultation) -> CheckoutOrder:
        return CheckoutOrder(
            order_id=order_id,
            amount=locked.fee_amount,
            currency=locked.currency,
            amount_minor=to_minor(locked.fee_amount, locked.currency),
        )

    if consultation.payment_order_id:
        return checkout(consultation.payment_order_id, consultation)
    order: ProviderOrder = provider.create_order(
        amount=consultation.fee_amount,
        currency=consultation.currency,
        receipt=consultation.pk,
        notes={"consultation_id": consultation.pk},
    )
    if order.amount != consultation.fee_amount or order.currency != consultation.currency:
        raise AmountMismatch(ORDER_MISMATCH, code="order_mismatch")
    with transaction.atomic():
        locked = _lock(consultation.pk)
        _check_payer(locked, by)
        if locked.payment_order_id:
            return checkout(_copy_back(consultation, locked).payment_order_id, locked)
        before = _money(locked)
        locked.payment_order_id = order.id
        _save(locked, before)
        _audit(by=by, locked=locked, before=before, description="Razorpay order created for the consultation fee.")
    _copy_back(consultation, locked)
    return checkout(order.id, locked)


def razorpay_checkout_verify(
    *,
    consultation: Consultation,
    by: User,
    order_id: str,
    payment_id: str,
    signature: str,
    now: datetime | None = None,
) -> PaymentEvent:
    """Settle what Razorpay Checkout handed the browser, if it proves a payment.

    Proof is both: the signature HMAC-SHA256(order_id|payment_id, key secret)
    matches, and the payment fetched from Razorpay's API is captured (or
    authorised) for this consultation's order, fee and currency. Anything
    less raises PaymentNotVerified (or SignatureInvalid, ProviderError) and
    stores nothing. Returns the stored event: applied, or ignored when the
    webhook got there first.
    """
    now = now or timezone.now()
    provider = _razorpay()
    if not by.is_authenticated or by.pk != consultation.patient_id:
        raise PaymentNotAllowed(PAY_NOT_ALLOWED, code="not_allowed")
    order_id, payment_id, signature = (value.strip() for value in (order_id, payment_id, signature))
    if not (ID_PATTERN.match(order_id) and ID_PATTERN.match(payment_id) and signature):
        raise PaymentNotVerified(CHECKOUT_INCOMPLETE, code="incomplete")
    if not consultation.payment_order_id or order_id != consultation.payment_order_id:
        raise PaymentNotVerified(CHECKOUT_WRONG_ORDER, code="wrong_order")
    if not provider.checkout_signature_valid(order_id=order_id, payment_id=payment_id, signature=signature):
        logger.warning("Checkout return with a bad signature for consultation %s", consultation.pk)
        raise SignatureInvalid(SIGNATURE_INVALID, code="bad_signature")
    payment = provider.fetch_payment(payment_id)
    if (
        payment.id != payment_id
        or payment.order_id != order_id
        or not payment.succeeded
        or payment.amount != consultation.fee_amount
        or payment.currency != consultation.currency
    ):
        logger.warning("Checkout return for consultation %s: Razorpay does not confirm %s", consultation.pk, payment_id)
        raise PaymentNotVerified(PAYMENT_NOT_CONFIRMED, code="not_confirmed")

    event_id = f"checkout:{payment_id}"
    try:
        with transaction.atomic():
            locked = _lock(consultation.pk)
            existing = PaymentEvent.objects.filter(provider=Provider.RAZORPAY, event_id=event_id).first()
            if existing is not None:
                _copy_back(consultation, locked)
                return existing
            outcome, note = _apply_capture(locked, payment, now=now, by=by, source="checkout")
            event = _record_event(
                provider=Provider.RAZORPAY,
                event_id=event_id,
                event_type="checkout.verified",
                consultation=locked,
                outcome=outcome,
                note=note,
                by=by,
                payment=payment,
                occurred_at=now,
                payload={"payment": _payment_snapshot(payment)},
            )
    except IntegrityError:
        existing = PaymentEvent.objects.filter(provider=Provider.RAZORPAY, event_id=event_id).first()
        if existing is None:
            raise
        return existing
    _copy_back(consultation, locked)
    return event


def _payment_snapshot(payment: ProviderPayment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "status": payment.status,
        "method": payment.method,
    }


# --- applying what Razorpay tells us (checkout, webhooks, refund answers) -------------------


def _mismatch(locked: Consultation, payment: ProviderPayment) -> str:
    """Why this payment is not this consultation's, or ""."""
    if payment.order_id != locked.payment_order_id:
        return f"Order {payment.order_id or '(none)'} is not this consultation's order ({locked.payment_order_id})."
    if payment.currency != locked.currency:
        return f"Currency {payment.currency} is not the consultation's {locked.currency}."
    if payment.amount != locked.fee_amount:
        return f"Amount {payment.amount} is not the fee {locked.fee_amount}."
    return ""


def _apply_capture(
    locked: Consultation, payment: ProviderPayment, *, now: datetime, by: User | None, source: str
) -> tuple[str, str]:
    """A successful payment for the consultation's order. Returns (outcome, note)."""
    problem = _mismatch(locked, payment)
    if problem:
        return Outcome.REJECTED, problem
    if locked.payment_status == PaymentStatus.PAID:
        if locked.payment_reference == payment.id:
            return Outcome.IGNORED, "Already recorded as paid."
        logger.warning("Second payment %s for consultation %s", payment.id, locked.pk)
        return Outcome.IGNORED, f"Already paid by {locked.payment_reference}: refund {payment.id} from Razorpay."
    before = _money(locked)
    if locked.payment_status in OWED:
        locked.payment_status = PaymentStatus.PAID
        locked.payment_method = PaymentMethod.RAZORPAY
        locked.payment_reference = payment.id
        locked.paid_at = now
        _save(locked, before)
        _audit(by=by, locked=locked, before=before, description=f"Razorpay payment {payment.id} confirmed ({source}).")
        _notify(
            locked,
            kind="payment_received",
            title=f"Payment of {_amount_text(locked.fee_amount, locked.currency)} received",
            body=f"Razorpay payment {payment.id}.",
        )
        return Outcome.APPLIED, "Paid."
    if locked.payment_status == PaymentStatus.NOT_REQUIRED and locked.status == Status.CANCELLED:
        # The patient paid while (or after) the consultation was cancelled:
        # nothing is owed, so the whole amount goes back.
        locked.payment_method = PaymentMethod.RAZORPAY
        locked.payment_reference = payment.id
        locked.paid_at = now
        locked.refund_amount = locked.fee_amount
        locked.payment_status = PaymentStatus.REFUND_PENDING
        _save(locked, before)
        _audit(
            by=by,
            locked=locked,
            before=before,
            description=f"Razorpay payment {payment.id} arrived after cancellation; refunding in full.",
        )
        _notify(
            locked,
            kind="payment_received",
            title=f"Payment of {_amount_text(locked.fee_amount, locked.currency)} received",
            body="The consultation had been cancelled, so the full amount is being refunded to you.",
        )
        _refund_after_commit(locked.pk)
        return Outcome.APPLIED, "Paid after cancellation: full refund requested."
    return Outcome.IGNORED, f"Superseded: payment status is already {locked.payment_status}."


def _apply_failure(locked: Consultation, payment: ProviderPayment, *, by: User | None) -> tuple[str, str]:
    problem = _mismatch(locked, payment)
    if problem:
        return Outcome.REJECTED, problem
    if locked.payment_status == PaymentStatus.FAILED:
        return Outcome.IGNORED, "Already recorded as failed."
    if locked.payment_status != PaymentStatus.PENDING:
        # e.g. an earlier attempt failed after a later one was captured.
        return Outcome.IGNORED, f"Superseded: payment status is already {locked.payment_status}."
    before = _money(locked)
    locked.payment_status = PaymentStatus.FAILED
    _save(locked, before)
    reason = payment.error_description or "The payment did not go through."
    _audit(by=by, locked=locked, before=before, description=f"Razorpay payment {payment.id} failed: {reason}"[:500])
    _notify(
        locked,
        kind="payment_failed",
        title="Your payment did not go through",
        body=f"{reason} You have not been charged; you can try again.",
    )
    return Outcome.APPLIED, f"Failed: {reason}"


def _apply_refund_processed(
    locked: Consultation, refund: ProviderRefund, *, now: datetime, by: User | None, source: str
) -> tuple[str, str]:
    if not locked.payment_reference or refund.payment_id != locked.payment_reference:
        return Outcome.REJECTED, f"Refund of payment {refund.payment_id}, not of this consultation's payment."
    if refund.currency != locked.currency:
        return Outcome.REJECTED, f"Currency {refund.currency} is not the consultation's {locked.currency}."
    if locked.payment_status == PaymentStatus.REFUNDED:
        return Outcome.IGNORED, "Already refunded."
    before = _money(locked)
    if locked.payment_status == PaymentStatus.REFUND_PENDING:
        if refund.amount != locked.refund_amount:
            return Outcome.REJECTED, f"Refund amount {refund.amount} is not the refund owed {locked.refund_amount}."
        if locked.refund_reference and locked.refund_reference != refund.id:
            return Outcome.REJECTED, f"Refund {refund.id} is not the refund requested ({locked.refund_reference})."
    elif locked.payment_status == PaymentStatus.PAID:
        # Refunded from Razorpay's dashboard, not through a cancellation here.
        if not 0 < refund.amount <= locked.fee_amount:
            return Outcome.REJECTED, f"Refund amount {refund.amount} is not within the fee {locked.fee_amount}."
        locked.refund_amount = refund.amount
    else:
        return Outcome.IGNORED, f"Superseded: payment status is {locked.payment_status}."
    locked.payment_status = PaymentStatus.REFUNDED
    locked.refund_reference = refund.id
    locked.refunded_at = now
    _save(locked, before)
    _audit(by=by, locked=locked, before=before, description=f"Razorpay refund {refund.id} processed ({source}).")
    _notify(
        locked,
        kind="refund_processed",
        title=f"Your refund of {_amount_text(locked.refund_amount, locked.currency)} has been processed",
        body=f"Razorpay refund {refund.id}. Banks usually take 5 to 7 working days to show it.",
    )
    return Outcome.APPLIED, "Refunded."


def _apply_refund_started(locked: Consultation, refund: ProviderRefund, *, by: User | None) -> tuple[str, str]:
    if locked.payment_status != PaymentStatus.REFUND_PENDING or refund.payment_id != locked.payment_reference:
        return Outcome.IGNORED, f"Superseded: payment status is {locked.payment_status}."
    if locked.refund_reference == refund.id:
        return Outcome.IGNORED, "Already recorded as requested."
    before = _money(locked)
    locked.refund_reference = refund.id
    _save(locked, before)
    _audit(by=by, locked=locked, before=before, description=f"Razorpay accepted refund {refund.id}.")
    _notify(
        locked,
        kind="refund_processed",
        title=f"Your refund of {_amount_text(locked.refund_amount, locked.currency)} is on its way",
        body="Razorpay is processing it; we will tell you when it is done.",
    )
    return Outcome.APPLIED, "Refund requested; waiting for Razorpay to process it."


def _apply_refund_failed(locked: Consultation, refund: ProviderRefund, *, by: User | None) -> tuple[str, str]:
    if refund.payment_id != locked.payment_reference:
        return Outcome.REJECTED, f"Refund of payment {refund.payment_id}, not of this consultation's payment."
    if locked.payment_status != PaymentStatus.REFUND_PENDING:
        # Never un-refunds: a failure reported after the refund went through changes nothing.
        return Outcome.IGNORED, f"Superseded: payment status is {locked.payment_status}."
    if locked.refund_reference not in ("", refund.id):
        return Outcome.IGNORED, f"Not the refund requested ({locked.refund_reference})."
    before = _money(locked)
    locked.refund_reference = ""
    _save(locked, before)
    _audit(
        by=by,
        locked=locked,
        before=before,
        description=f"Razorpay could not process refund {refund.id}; retry it or record it by hand.",
    )
    _notify(
        locked,
        kind="refund_processed",
        title="Your refund is delayed",
        body="The payment provider could not process it. Our staff have been told and will make sure it reaches you.",
    )
    return Outcome.APPLIED, "Refund failed at Razorpay: retry (manage.py payments_retry_refunds) or record it."


# --- Razorpay: refunds --------------------------------------------------------------------


def razorpay_refund_pending(consultation: Consultation) -> bool:
    """Is a Razorpay refund owed and not yet requested (or its last request failed)?"""
    return (
        consultation.payment_status == PaymentStatus.REFUND_PENDING
        and consultation.payment_method == PaymentMethod.RAZORPAY
        and bool(consultation.payment_reference)
        and not consultation.refund_reference
        and consultation.refund_amount > 0
    )


def razorpay_refund_issue(*, consultation_id: str, now: datetime | None = None) -> str:
    """Ask Razorpay to refund what a cancelled consultation owes; returns the outcome.

    Safe to run any number of times: it does nothing once the refund is
    requested, and the request carries an idempotency key (one per attempt
    after a refund.failed), so two concurrent runs get the same refund back
    from Razorpay. A ProviderError propagates (the task is recorded as failed;
    `manage.py payments_retry_refunds` tries again) and nothing is written.
    """
    now = now or timezone.now()
    consultation = Consultation.all_objects.filter(pk=consultation_id).first()
    if consultation is None or not razorpay_refund_pending(consultation):
        return "nothing to do"
    provider = provider_for(Provider.RAZORPAY)
    attempt = PaymentEvent.objects.filter(
        consultation_id=consultation.pk, event_type="refund.failed", outcome=Outcome.APPLIED
    ).count()
    refund = provider.refund(
        payment_id=consultation.payment_reference,
        amount=consultation.refund_amount,
        currency=consultation.currency,
        idempotency_key=f"refund_{consultation.pk}_{attempt}",
        notes={"consultation_id": consultation.pk},
    )
    event_id = f"api:{refund.id}:{refund.status}"
    try:
        with transaction.atomic():
            locked = _lock(consultation.pk)
            if _already_stored(Provider.RAZORPAY, event_id):
                return Outcome.IGNORED
            if refund.status == "processed":
                outcome, note = _apply_refund_processed(locked, refund, now=now, by=None, source="API answer")
            elif refund.status == "failed":
                outcome, note = _apply_refund_failed(locked, refund, by=None)
            else:
                outcome, note = _apply_refund_started(locked, refund, by=None)
            _record_event(
                provider=Provider.RAZORPAY,
                event_id=event_id,
                event_type=f"refund.api.{refund.status or 'unknown'}",
                consultation=locked,
                outcome=outcome,
                note=note,
                refund=refund,
                order_id=locked.payment_order_id,
                occurred_at=refund.created_at or now,
                payload={"refund": {"id": refund.id, "status": refund.status, "amount": str(refund.amount)}},
            )
    except IntegrityError:
        if _already_stored(Provider.RAZORPAY, event_id):
            return Outcome.IGNORED
        raise
    return outcome


# --- Razorpay: webhooks -------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    """What a webhook delivery did: applied, ignored, rejected, or duplicate (already stored)."""

    outcome: str
    event: PaymentEvent | None = None


@dataclass(frozen=True)
class _Facts:
    event_type: str
    occurred_at: datetime | None
    payment: ProviderPayment | None
    order: ProviderOrder | None
    refund: ProviderRefund | None

    @property
    def order_id(self) -> str:
        if self.payment and self.payment.order_id:
            return self.payment.order_id
        return self.order.id if self.order else ""

    @property
    def consultation_hint(self) -> str:
        notes = self.payment.notes if self.payment else {}
        hint = notes.get("consultation_id")
        return hint if isinstance(hint, str) else ""


def _entity(payload: dict[str, Any], name: str, parse):
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict):
        return None
    try:
        return parse(entity)
    except ValueError:
        return None


def _facts(envelope: dict[str, Any]) -> _Facts:
    payload = envelope["payload"]
    created = envelope.get("created_at")
    return _Facts(
        event_type=envelope["event"],
        occurred_at=(
            datetime.fromtimestamp(created, tz=UTC)
            if isinstance(created, int) and not isinstance(created, bool) and created > 0
            else None
        ),
        payment=_entity(payload, "payment", payment_from_entity),
        order=_entity(payload, "order", order_from_entity),
        refund=_entity(payload, "refund", refund_from_entity),
    )


def _consultation_for_event(facts: _Facts) -> tuple[Consultation | None, bool]:
    """The consultation the event is about, locked; and whether it was found by its order.

    By order id (the order is ours, made for one consultation); a refund with
    no order falls back to the payment id. Failing both, the consultation the
    payment's notes name, so a mismatching event is kept against it.
    """
    everything = Consultation.all_objects
    if facts.order_id:
        # payment_order_id is indexed: the locking read touches only that row.
        found = everything.select_for_update().filter(payment_order_id=facts.order_id).first()
        if found is not None:
            return found, True
    elif facts.refund is not None and facts.refund.payment_id:
        # payment_reference is not indexed: find the row first, then lock it
        # by key, so the locking read never scans (and locks) the table.
        pk = (
            everything.filter(payment_reference=facts.refund.payment_id, payment_method=PaymentMethod.RAZORPAY)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            return _lock(pk), True
    if facts.consultation_hint:
        return everything.select_for_update().filter(pk=facts.consultation_hint).first(), False
    return None, False


HANDLED_EVENTS = (*CAPTURE_EVENTS, "payment.failed", "refund.processed", "refund.failed")


def _apply_webhook(locked: Consultation | None, matched: bool, facts: _Facts, now: datetime) -> tuple[str, str]:
    if facts.event_type not in HANDLED_EVENTS:
        return Outcome.IGNORED, "Not an event we act on."
    if locked is None:
        return Outcome.REJECTED, "No consultation has this order."
    if not matched:
        return Outcome.REJECTED, f"Order {facts.order_id or '(none)'} is not this consultation's order."
    kind = facts.event_type
    if kind in CAPTURE_EVENTS:
        if facts.payment is None:
            return Outcome.REJECTED, "The event carries no payment."
        if not facts.payment.succeeded:
            return Outcome.IGNORED, f"Payment status {facts.payment.status} is not a completed payment."
        return _apply_capture(locked, facts.payment, now=now, by=None, source=f"webhook {kind}")
    if kind == "payment.failed":
        if facts.payment is None:
            return Outcome.REJECTED, "The event carries no payment."
        return _apply_failure(locked, facts.payment, by=None)
    if kind == "refund.processed":
        if facts.refund is None:
            return Outcome.REJECTED, "The event carries no refund."
        return _apply_refund_processed(locked, facts.refund, now=now, by=None, source="webhook")
    if kind == "refund.failed":
        if facts.refund is None:
            return Outcome.REJECTED, "The event carries no refund."
        return _apply_refund_failed(locked, facts.refund, by=None)
    return Outcome.IGNORED, "Not an event we act on."


def razorpay_webhook_receive(
    *, body: bytes, signature: str, event_id: str = "", now: datetime | None = None
) -> WebhookResult:
    """Check, store once and apply one Razorpay webhook delivery.

    Raises SignatureInvalid (nothing stored) unless the body carries a valid
    X-Razorpay-Signature, and WebhookMalformed for a signed body that is not an
    event. An event id already stored is a duplicate: no second effect. Every
    other event is stored with its outcome; a mismatch (order, amount,
    currency) is stored as rejected and leaves the consultation untouched.
    """
    now = now or timezone.now()
    provider = RazorpayProvider.from_settings()
    if not provider.webhook_signature_valid(body=body, signature=signature):
        raise SignatureInvalid(SIGNATURE_INVALID, code="bad_signature")
    try:
        envelope = json.loads(body)
    except ValueError:
        raise WebhookMalformed(WEBHOOK_MALFORMED, code="malformed") from None
    if (
        not isinstance(envelope, dict)
        or not isinstance(envelope.get("event"), str)
        or not isinstance(envelope.get("payload"), dict)
    ):
        raise WebhookMalformed(WEBHOOK_MALFORMED, code="malformed")
    event_id = event_id.strip()
    if not event_id or len(event_id) > 100:
        # Razorpay always sends X-Razorpay-Event-Id; without it, the body
        # itself identifies the delivery (a retry sends the same bytes).
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()
    facts = _facts(envelope)

    try:
        with transaction.atomic():
            # Lock first, then check for a duplicate: two deliveries of one
            # event for one consultation take turns, and the second sees the first.
            locked, matched = _consultation_for_event(facts)
            if _already_stored(Provider.RAZORPAY, event_id):
                return WebhookResult("duplicate")
            outcome, note = _apply_webhook(locked, matched, facts, now)
            event = _record_event(
                provider=Provider.RAZORPAY,
                event_id=event_id,
                event_type=facts.event_type,
                consultation=locked,
                outcome=outcome,
                note=note,
                payment=facts.payment,
                refund=facts.refund,
                order_id=facts.order_id,
                occurred_at=facts.occurred_at,
                payload=envelope,
            )
    except IntegrityError:
        # The same event committed by a concurrent delivery (one that matched
        # no consultation, so there was no row to lock): a duplicate.
        if _already_stored(Provider.RAZORPAY, event_id):
            return WebhookResult("duplicate")
        raise
    if outcome == Outcome.REJECTED:
        logger.warning("Razorpay %s %s rejected: %s", facts.event_type, event_id, note)
    return WebhookResult(outcome, event)

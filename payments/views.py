"""Payments: the patient's pay page and Razorpay's checkout return, the
doctor's (or staff's) forms to record offline payments and refunds, and the
Razorpay webhook. Thin pages around payments.services.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultations.models import Consultation, PaymentStatus, Status
from payments import policies, queries, services
from payments.forms import OfflinePaymentForm, OfflineRefundForm, RazorpayReturnForm
from payments.providers import ProviderError, active_provider

PAID = "Payment received. Thank you!"
PAID_AFTER_CANCEL = "Your payment arrived after the consultation was cancelled, so the full amount is being refunded."
ALREADY_PAID = "This consultation is already paid."
CONFIRM_LATER = (
    "We could not confirm your payment with Razorpay just now. If money left your account, "
    "this page will show it as paid as soon as Razorpay confirms it; there is no need to pay again."
)
ONLINE_DOWN = "Online payment is not available right now. Please try again in a few minutes, or pay at the clinic."
PAYMENT_RECORDED = "Payment recorded. The patient has been told."
REFUND_RECORDED = "Refund recorded. The patient has been told."

# Razorpay's webhook bodies are a few kilobytes; anything far bigger is not one.
WEBHOOK_MAX_BYTES = 64 * 1024

_STATUS = {
    PaymentStatus.PENDING: ("Payment pending", "warning"),
    PaymentStatus.FAILED: ("Payment failed", "danger"),
    PaymentStatus.PAID: ("Paid", "success"),
    PaymentStatus.REFUND_PENDING: ("Refund pending", "warning"),
    PaymentStatus.REFUNDED: ("Refunded", "neutral"),
    PaymentStatus.NOT_REQUIRED: ("No payment needed", "neutral"),
    PaymentStatus.DISPUTED: ("Disputed", "danger"),
}


def _status(consultation: Consultation) -> dict[str, str]:
    label, tone = _STATUS.get(consultation.payment_status, (consultation.get_payment_status_display(), "neutral"))
    return {"status_label": label, "status_tone": tone}


def _say(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- the patient's pay page ------------------------------------------------------------


@login_required
@require_GET
def pay(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_payer(request.user, consultation_id)
    provider = active_provider()
    owed = policies.may_record_payment(consultation) and consultation.status != Status.CANCELLED
    checkout = None
    order_error = ""
    if owed and provider.online:
        # Creating the order here (once; later visits reuse it) lets the Pay
        # button open Razorpay at once, without a round trip of its own.
        try:
            checkout = services.razorpay_order_for(consultation=consultation, by=request.user)
        except ProviderError:
            order_error = ONLINE_DOWN
        except ValidationError as exc:
            order_error = _say(exc)
    parties = queries.parties(consultation)
    return render(
        request,
        "payments/pay.html",
        {
            "consultation": consultation,
            "parties": parties,
            "owed": owed,
            "online": provider.online,
            "checkout": checkout,
            "order_error": order_error,
            "failure": queries.last_failure(consultation),
            "razorpay_key_id": settings.RAZORPAY_KEY_ID,
            "checkout_js": settings.RAZORPAY_CHECKOUT_JS,
            **_status(consultation),
        },
    )


@login_required
@require_POST
def razorpay_return(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """Where the pay page's checkout handler posts Razorpay's answer.

    It proves nothing by itself: the service checks the signature and asks
    Razorpay. Every outcome goes back to the pay page, which shows the truth.
    """
    consultation = policies.consultation_for_payer(request.user, consultation_id)
    form = RazorpayReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.CHECKOUT_INCOMPLETE)
        return redirect("payments:pay", consultation.pk)
    try:
        services.razorpay_checkout_verify(
            consultation=consultation,
            by=request.user,
            order_id=form.cleaned_data["razorpay_order_id"],
            payment_id=form.cleaned_data["razorpay_payment_id"],
            signature=form.cleaned_data["razorpay_signature"],
        )
    except ProviderError:
        messages.error(request, CONFIRM_LATER)
    except ValidationError as exc:
        messages.error(request, _say(exc))
    else:
        if consultation.payment_status == PaymentStatus.PAID:
            messages.success(request, PAID)
        elif consultation.payment_status == PaymentStatus.REFUND_PENDING and consultation.status == Status.CANCELLED:
            messages.warning(request, PAID_AFTER_CANCEL)
    return redirect("payments:pay", consultation.pk)


# --- recording by the doctor or staff --------------------------------------------------


def _record_page(request: HttpRequest, consultation: Consultation, *, kind: str, form, status: int = 200):
    return render(
        request,
        "payments/record.html",
        {
            "consultation": consultation,
            "parties": queries.parties(consultation),
            "kind": kind,
            "form": form,
            **_status(consultation),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record_payment(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_recorder(request.user, consultation_id)
    if not policies.may_record_payment(consultation):
        status = 400 if request.method == "POST" else 200
        return _record_page(request, consultation, kind="payment", form=None, status=status)
    if request.method != "POST":
        form = OfflinePaymentForm(initial={"amount": consultation.fee_amount})
        return _record_page(request, consultation, kind="payment", form=form)
    form = OfflinePaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_record_offline(
                consultation=consultation,
                by=request.user,
                amount=form.cleaned_data["amount"],
                receipt_number=form.cleaned_data["receipt_number"],
            )
        except ValidationError as exc:
            form.add_error(getattr(exc, "field", None), exc)
        else:
            messages.success(request, PAYMENT_RECORDED)
            return redirect("consultations:detail", consultation.pk)
    return _record_page(request, consultation, kind="payment", form=form, status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record_refund(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_recorder(request.user, consultation_id)
    if not policies.may_record_refund(consultation, request.user):
        status = 400 if request.method == "POST" else 200
        return _record_page(request, consultation, kind="refund", form=None, status=status)
    if request.method != "POST":
        form = OfflineRefundForm(initial={"amount": consultation.refund_amount})
        return _record_page(request, consultation, kind="refund", form=form)
    form = OfflineRefundForm(request.POST)
    if form.is_valid():
        try:
            services.refund_record_offline(
                consultation=consultation,
                by=request.user,
                amount=form.cleaned_data["amount"],
                receipt_number=form.cleaned_data["receipt_number"],
            )
        except ValidationError as exc:
            form.add_error(getattr(exc, "field", None), exc)
        else:
            messages.success(request, REFUND_RECORDED)
            return redirect("consultations:detail", consultation.pk)
    return _record_page(request, consultation, kind="refund", form=form, status=400)


# --- Razorpay webhook ------------------------------------------------------------------


@csrf_exempt  # Razorpay cannot send our CSRF token; the HMAC signature authenticates it instead.
@require_POST
def razorpay_webhook(request: HttpRequest) -> HttpResponse:
    """400 for a bad signature (nothing stored); 200 for everything stored, or already stored.

    Rejected events (a mismatch) also answer 200: they are kept for staff,
    and Razorpay retrying them would change nothing.
    """
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return HttpResponseBadRequest("Bad Content-Length.")
    if declared > WEBHOOK_MAX_BYTES:
        return HttpResponse("Too large.", status=413)
    body = request.body
    if len(body) > WEBHOOK_MAX_BYTES:
        return HttpResponse("Too large.", status=413)
    try:
        result = services.razorpay_webhook_receive(
            body=body,
            signature=request.headers.get("X-Razorpay-Signature", ""),
            event_id=request.headers.get("X-Razorpay-Event-Id", ""),
        )
    except services.SignatureInvalid:
        return HttpResponseBadRequest("Invalid signature.")
    except services.WebhookMalformed:
        return HttpResponseBadRequest("Not a Razorpay event.")
    return JsonResponse({"outcome": str(result.outcome)})

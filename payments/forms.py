"""Forms for recording offline payments and refunds, and the checkout return."""

from __future__ import annotations

from decimal import Decimal

from django import forms

RECEIPT_HELP = "The number on the receipt you gave, or the transaction reference."


class OfflinePaymentForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount received", max_digits=10, decimal_places=2, min_value=Decimal("0.01"), localize=False
    )
    receipt_number = forms.CharField(label="Receipt number", max_length=100, help_text=RECEIPT_HELP)


class OfflineRefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount refunded", max_digits=10, decimal_places=2, min_value=Decimal("0.01"), localize=False
    )
    receipt_number = forms.CharField(
        label="Refund receipt number",
        max_length=100,
        help_text="The number of the refund receipt, or the reference of the bank transfer.",
    )


class RazorpayReturnForm(forms.Form):
    """What Razorpay Checkout hands the page's handler; proves nothing by itself."""

    razorpay_payment_id = forms.CharField(max_length=64)
    razorpay_order_id = forms.CharField(max_length=64)
    razorpay_signature = forms.CharField(max_length=128)

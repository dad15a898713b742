"""The two Razorpay signatures, and amounts in minor units."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import pytest

from payments.providers.base import from_minor, to_minor
from payments.providers.razorpay import RazorpayProvider, checkout_signature, webhook_signature

KEY_SECRET = "key-secret"
WEBHOOK_SECRET = "webhook-secret"
ORDER = "order_IluGWxBm9U8zJ8"
PAYMENT = "pay_IluGZFLHhgoxjh"
BODY = b'{"event":"payment.captured","payload":{}}'


def provider(**kwargs) -> RazorpayProvider:
    options = {
        "key_id": "rzp_test_1",
        "key_secret": KEY_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "api_base": "http://127.0.0.1:9",
    }
    return RazorpayProvider(**{**options, **kwargs})


def test_the_checkout_signature_is_hmac_sha256_of_order_bar_payment_with_the_key_secret():
    expected = hmac.new(KEY_SECRET.encode(), f"{ORDER}|{PAYMENT}".encode(), hashlib.sha256).hexdigest()
    assert checkout_signature(order_id=ORDER, payment_id=PAYMENT, secret=KEY_SECRET) == expected


def test_a_valid_checkout_signature_is_accepted():
    signature = checkout_signature(order_id=ORDER, payment_id=PAYMENT, secret=KEY_SECRET)
    assert provider().checkout_signature_valid(order_id=ORDER, payment_id=PAYMENT, signature=signature)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(
            checkout_signature(order_id=ORDER, payment_id=PAYMENT, secret="another-secret"), id="wrong secret"
        ),
        pytest.param(checkout_signature(order_id=ORDER, payment_id="pay_Other", secret=KEY_SECRET), id="other payment"),
        pytest.param(checkout_signature(order_id=PAYMENT, payment_id=ORDER, secret=KEY_SECRET), id="swapped ids"),
        pytest.param("0" * 64, id="forged"),
        pytest.param("", id="empty"),
    ],
)
def test_a_forged_checkout_signature_is_refused(signature):
    assert not provider().checkout_signature_valid(order_id=ORDER, payment_id=PAYMENT, signature=signature)


def test_no_checkout_signature_is_valid_without_a_key_secret():
    signature = checkout_signature(order_id=ORDER, payment_id=PAYMENT, secret="")
    assert not provider(key_secret="").checkout_signature_valid(order_id=ORDER, payment_id=PAYMENT, signature=signature)


def test_the_webhook_signature_is_hmac_sha256_of_the_raw_body_with_the_webhook_secret():
    expected = hmac.new(WEBHOOK_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert webhook_signature(body=BODY, secret=WEBHOOK_SECRET) == expected
    assert provider().webhook_signature_valid(body=BODY, signature=expected)


@pytest.mark.parametrize(
    "body, secret",
    [
        pytest.param(BODY.replace(b"captured", b"failed"), WEBHOOK_SECRET, id="tampered body"),
        pytest.param(BODY + b" ", WEBHOOK_SECRET, id="re-serialised body"),
        pytest.param(BODY, KEY_SECRET, id="key secret instead of webhook secret"),
    ],
)
def test_a_webhook_signature_for_other_bytes_or_another_secret_is_refused(body, secret):
    signature = webhook_signature(body=BODY, secret=WEBHOOK_SECRET)
    assert not provider(webhook_secret=secret).webhook_signature_valid(body=body, signature=signature)


def test_no_webhook_is_valid_without_a_webhook_secret():
    assert not provider(webhook_secret="").webhook_signature_valid(
        body=BODY, signature=webhook_signature(body=BODY, secret="")
    )


@pytest.mark.parametrize(
    "amount, currency, minor",
    [(Decimal("500.00"), "INR", 50000), (Decimal("0.01"), "INR", 1), (Decimal("1500"), "JPY", 1500)],
)
def test_amounts_go_to_the_wire_in_minor_units_and_back(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == amount


def test_an_amount_finer_than_the_minor_unit_is_refused():
    with pytest.raises(ValueError):
        to_minor(Decimal("10.005"), "INR")

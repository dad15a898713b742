"""The Razorpay adapter against the fake gateway on loopback."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from dhanwantari.testing.fake_razorpay import FakeRazorpay
from payments.providers import active_provider, provider_for
from payments.providers.base import ProviderError, ProviderUnsupported
from payments.providers.offline import OfflineProvider
from payments.providers.razorpay import RazorpayProvider


def test_the_active_provider_is_the_one_settings_name(settings, fake_razorpay):
    assert isinstance(active_provider(), RazorpayProvider)
    settings.PAYMENT_PROVIDER = "offline"
    assert isinstance(active_provider(), OfflineProvider)


def test_the_offline_provider_takes_no_online_payments():
    with pytest.raises(ProviderUnsupported):
        provider_for("offline").fetch_payment("pay_X")


def test_an_order_is_created_in_paise_with_the_consultation_as_receipt(fake_razorpay):
    order = provider_for("razorpay").create_order(
        amount=Decimal("500.00"), currency="INR", receipt="cons_01", notes={"consultation_id": "cons_01"}
    )

    stored = fake_razorpay.orders[order.id]
    assert (stored["amount"], stored["currency"], stored["receipt"]) == (50000, "INR", "cons_01")
    assert stored["notes"] == {"consultation_id": "cons_01"}
    assert (order.amount, order.currency) == (Decimal("500.00"), "INR")


def test_a_payment_is_fetched_with_its_order_amount_and_status(fake_razorpay):
    order = fake_razorpay.create_order(amount=50000)
    paid = fake_razorpay.create_payment(order["id"])

    payment = provider_for("razorpay").fetch_payment(paid["id"])

    assert (payment.id, payment.order_id, payment.amount, payment.currency, payment.status) == (
        paid["id"],
        order["id"],
        Decimal("500.00"),
        "INR",
        "captured",
    )
    assert payment.succeeded


def test_a_refund_with_the_same_idempotency_key_is_made_once(fake_razorpay):
    order = fake_razorpay.create_order(amount=50000)
    paid = fake_razorpay.create_payment(order["id"])
    provider = provider_for("razorpay")

    first = provider.refund(
        payment_id=paid["id"], amount=Decimal("250"), currency="INR", idempotency_key="refund_cons_1_0", notes={}
    )
    again = provider.refund(
        payment_id=paid["id"], amount=Decimal("250"), currency="INR", idempotency_key="refund_cons_1_0", notes={}
    )

    assert first.id == again.id
    assert (first.amount, first.status, first.payment_id) == (Decimal("250.00"), "processed", paid["id"])
    assert len(fake_razorpay.refunds) == 1
    assert fake_razorpay.payments[paid["id"]]["amount_refunded"] == 25000


def test_wrong_credentials_are_a_provider_error(fake_razorpay, settings):
    settings.RAZORPAY_KEY_SECRET = "not-the-secret"
    with pytest.raises(ProviderError) as error:
        provider_for("razorpay").fetch_payment("pay_Anything")
    assert "Authentication failed" in error.value.messages[0]


def test_an_http_error_from_razorpay_is_a_provider_error(fake_razorpay):
    fake_razorpay.fail_api_with = 503
    with pytest.raises(ProviderError) as error:
        provider_for("razorpay").create_order(amount=Decimal("500"), currency="INR", receipt="r", notes={})
    assert error.value.code == "provider_refused"


def test_an_unreachable_razorpay_is_a_provider_error(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    settings.RAZORPAY_API_BASE = f"http://127.0.0.1:{port}"
    settings.RAZORPAY_TIMEOUT = 2
    with pytest.raises(ProviderError) as error:
        provider_for("razorpay").fetch_payment("pay_Anything")
    assert error.value.code == "provider_unreachable"


def test_a_malformed_id_never_reaches_the_network(fake_razorpay):
    with pytest.raises(ProviderError):
        provider_for("razorpay").fetch_payment("../orders")
    assert fake_razorpay.calls == []


def test_a_non_http_api_base_is_refused(settings):
    settings.RAZORPAY_API_BASE = "file:///etc"
    with pytest.raises(ProviderError):
        provider_for("razorpay").fetch_payment("pay_Anything")


def test_the_fake_checks_basic_auth():
    with FakeRazorpay() as fake:
        provider = RazorpayProvider(key_id=fake.key_id, key_secret="wrong", webhook_secret="", api_base=fake.url)
        with pytest.raises(ProviderError):
            provider.create_order(amount=Decimal("1"), currency="INR", receipt="r", notes={})
        assert fake.orders == {}

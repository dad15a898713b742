"""Razorpay repeats webhooks and races them with the browser's checkout return:
however they interleave, a payment is applied once.

MariaDB/MySQL only: SQLite serialises every write transaction anyway, so a
race there proves nothing. Each thread has its own connection and
transaction, as concurrent requests would.

Why it holds: every path locks the consultation row first and only then
looks for its event id, so a second delivery waits for the first to commit
and then sees it (a duplicate), or sees the consultation already paid (the
checkout return and a webhook carry different event ids: the later one is
ignored). The unique (provider, event_id) index is the backstop for events
that match no consultation, where there is no row to lock. (Checked by
hand: with the select_for_update() calls removed from payments.services the
second test fails, the payment applied twice.)
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import Notification
from consultations.models import Consultation
from payments import services
from payments.models import PaymentEvent
from payments.tests.conftest import booked

RACERS = 4

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="the race needs MySQL/MariaDB row locks"),
    pytest.mark.django_db(transaction=True),
]


def race(calls) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = calls[index]()
        except Exception as error:  # every outcome, expected or not, is asserted below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_webhook_delivered_at_once_by_several_workers_applies_once(fake_razorpay):
    consultation = booked()
    order_id = services.razorpay_order_for(consultation=consultation, by=consultation.patient).order_id
    payment = fake_razorpay.create_payment(order_id)
    body, headers = fake_razorpay.signed(fake_razorpay.event("payment.captured", payment_id=payment["id"]))

    def deliver():
        return services.razorpay_webhook_receive(
            body=body, signature=headers["X-Razorpay-Signature"], event_id=headers["X-Razorpay-Event-Id"]
        ).outcome

    results = race([deliver] * RACERS)

    assert sorted(map(str, results)) == ["applied"] + ["duplicate"] * (RACERS - 1), results
    assert PaymentEvent.objects.count() == 1
    assert Consultation.objects.get(pk=consultation.pk).payment_status == "paid"
    assert Notification.objects.filter(kind="payment_received").count() == 1


def test_the_checkout_return_and_the_webhooks_racing_apply_the_payment_once(fake_razorpay):
    consultation = booked()
    order_id = services.razorpay_order_for(consultation=consultation, by=consultation.patient).order_id
    payment = fake_razorpay.create_payment(order_id)
    answer = fake_razorpay.checkout_response(payment)
    deliveries = [
        fake_razorpay.signed(fake_razorpay.event(kind, payment_id=payment["id"]))
        for kind in ("payment.captured", "order.paid")
    ]

    def checkout():
        return services.razorpay_checkout_verify(
            consultation=Consultation.objects.get(pk=consultation.pk),
            by=consultation.patient,
            order_id=answer["razorpay_order_id"],
            payment_id=answer["razorpay_payment_id"],
            signature=answer["razorpay_signature"],
        ).outcome

    def webhook(body, headers):
        return lambda: (
            services.razorpay_webhook_receive(
                body=body, signature=headers["X-Razorpay-Signature"], event_id=headers["X-Razorpay-Event-Id"]
            ).outcome
        )

    results = race([checkout, *(webhook(body, headers) for body, headers in deliveries)])

    assert sorted(map(str, results)) == ["applied", "ignored", "ignored"], results
    assert Consultation.objects.get(pk=consultation.pk).payment_status == "paid"
    assert Notification.objects.filter(kind="payment_received").count() == 1

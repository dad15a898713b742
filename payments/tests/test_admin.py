from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.admin import changelist_growth
from payments.models import PaymentEvent
from payments.tests.conftest import FEE

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:payments_paymentevent_changelist")


def make_event(i: int) -> PaymentEvent:
    # Matched and unmatched events, offline records with a recorder: every column kind.
    consultation = ConsultationFactory() if i % 3 else None
    return PaymentEvent.objects.create(
        provider="razorpay" if i % 2 else "offline",
        event_id=f"evt_{i:014d}",
        event_type="payment.captured",
        consultation=consultation,
        order_id=f"order_{i:014d}",
        payment_id=f"pay_{i:014d}",
        amount=FEE,
        currency="INR",
        recorded_by=consultation.doctor if consultation and i % 2 == 0 else None,
        outcome=["applied", "ignored", "rejected"][i % 3],
    )


def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client):
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, CHANGELIST, make_event)
    assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries


@pytest.mark.parametrize("field", ["order_id", "payment_id", "event_id"])
def test_staff_find_an_event_by_its_razorpay_ids(staff_client, field):
    wanted = make_event(1)
    make_event(2)
    response = staff_client.get(CHANGELIST, {"q": getattr(wanted, field)})
    assert list(response.context["cl"].result_list) == [wanted]


def test_the_changelist_shows_the_columns_staff_need(staff_client):
    event = make_event(1)
    html = staff_client.get(CHANGELIST).content.decode()
    for text in ("razorpay", "payment.captured", event.consultation_id, "500.00 INR", "Ignored"):
        assert text in html


def test_events_are_read_only(staff_client):
    event = make_event(1)
    change = reverse("admin:payments_paymentevent_change", args=[event.pk])

    page = staff_client.get(change)
    post = staff_client.post(change, {"outcome": "applied"})
    add = staff_client.get(reverse("admin:payments_paymentevent_add"))
    delete = staff_client.post(reverse("admin:payments_paymentevent_delete", args=[event.pk]), {"post": "yes"})

    assert page.status_code == 200
    assert (post.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    assert PaymentEvent.objects.get(pk=event.pk).outcome == "ignored"

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from consultations.models import Consultation, Message
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory, MessageFactory
from dhanwantari.testing.admin import changelist_growth
from doctors.tests.factories import verified_doctor
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db


def consultation_between_profiles(**kwargs) -> Consultation:
    return ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor(), **kwargs)


def make_consultation(i: int) -> None:
    # Doctor and AI consultations, some soft-deleted: every column kind.
    if i % 4 == 3:
        AIConsultationFactory(patient=patient_with_profile())
    else:
        consultation = consultation_between_profiles()
        if i % 4 == 2:
            consultation.soft_delete()


def make_message(i: int) -> None:
    consultation = consultation_between_profiles()
    sender = consultation.doctor if i % 2 else consultation.patient
    MessageFactory(consultation=consultation, sender=sender)


ROWS = {
    "consultations_consultation": make_consultation,
    "consultations_message": make_message,
    # Rows of the patient_consultation_history view.
    "consultations_patientconsultationhistory": lambda i: consultation_between_profiles(),
}


@pytest.mark.parametrize("changelist_name", ROWS)
def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client, changelist_name):
    make_row = ROWS[changelist_name]
    url = reverse(f"admin:{changelist_name}_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_row)

    assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries


@pytest.mark.parametrize(
    "changelist_name, make_object",
    [
        ("consultations_consultation", consultation_between_profiles),
        ("consultations_consultation", AIConsultationFactory),
        ("consultations_message", MessageFactory),
        ("consultations_patientconsultationhistory", consultation_between_profiles),
    ],
)
def test_the_change_page_opens(staff_client, changelist_name, make_object):
    obj = make_object()
    response = staff_client.get(reverse(f"admin:{changelist_name}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_a_soft_deleted_consultation_is_visible_to_staff(staff_client):
    alive = consultation_between_profiles()
    gone = consultation_between_profiles()
    gone.soft_delete()
    url = reverse("admin:consultations_consultation_changelist")

    everything = set(staff_client.get(url).context["cl"].result_list)
    deleted = list(staff_client.get(url, {"deleted": "yes"}).context["cl"].result_list)
    change = staff_client.get(reverse("admin:consultations_consultation_change", args=[gone.pk]))

    assert everything == {alive, gone}
    assert deleted == [gone]
    assert change.status_code == 200


def test_the_changelist_shows_names_but_no_clinical_notes(staff_client):
    consultation = consultation_between_profiles(doctor_notes="Suspect thyroid; order TSH.")

    response = staff_client.get(reverse("admin:consultations_consultation_changelist"))

    assert consultation.patient.patient_profile.full_name.encode() in response.content
    assert consultation.doctor.doctor_profile.full_name.encode() in response.content
    assert b"Suspect thyroid" not in response.content


@pytest.mark.parametrize("term", ["patient_email", "doctor_name", "id"])
def test_searching_consultations_finds_them_by_party_or_id(staff_client, term):
    wanted = consultation_between_profiles()
    consultation_between_profiles()
    query = {
        "patient_email": wanted.patient.email,
        "doctor_name": wanted.doctor.doctor_profile.full_name,
        "id": wanted.pk,
    }[term]

    response = staff_client.get(reverse("admin:consultations_consultation_changelist"), {"q": query})

    assert list(response.context["cl"].result_list) == [wanted]


def test_the_consultation_page_links_to_its_messages_only(staff_client):
    consultation = consultation_between_profiles()
    mine = MessageFactory.create_batch(2, consultation=consultation)
    MessageFactory()

    page = staff_client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]))
    link = reverse("admin:consultations_message_changelist") + f"?consultation={consultation.pk}"
    messages = staff_client.get(link)

    assert link.encode() in page.content
    assert b"2 messages" in page.content
    assert set(messages.context["cl"].result_list) == set(mine)


def test_a_consultation_whose_doctor_was_deleted_can_still_be_saved(staff_client):
    consultation = consultation_between_profiles()
    consultation.doctor.soft_delete()
    data = {
        "doctor": consultation.doctor_id,
        "mode": "video",
        "follow_up_of": "",
        "chief_complaint": consultation.chief_complaint,
        "symptoms": json.dumps(consultation.symptoms),
        "triage_level": "",
        "ai_summary": "",
        "doctor_notes": "",
    }

    response = staff_client.post(reverse("admin:consultations_consultation_change", args=[consultation.pk]), data)

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.mode == "video"


def test_consultations_are_booked_not_added_in_the_admin(staff_client):
    assert staff_client.get(reverse("admin:consultations_consultation_add")).status_code == 403


def test_the_patient_status_and_payment_are_shown_but_not_editable(staff_client):
    consultation = consultation_between_profiles()

    response = staff_client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]))

    form_fields = response.context["adminform"].form.fields
    # Time and money move through the services (reschedule, payments), never here.
    assert {
        "patient",
        "status",
        "scheduled_at",
        "duration_minutes",
        "fee_amount",
        "payment_status",
        "paid_at",
        "refund_amount",
    }.isdisjoint(form_fields)
    assert {"mode", "chief_complaint"} <= set(form_fields)


@pytest.mark.parametrize("changelist_name", ["consultations_message", "consultations_patientconsultationhistory"])
def test_messages_and_the_history_view_are_read_only(staff_client, changelist_name):
    message = MessageFactory(body="original")
    pk = message.pk if changelist_name == "consultations_message" else message.consultation_id

    add = staff_client.get(reverse(f"admin:{changelist_name}_add"))
    change = staff_client.post(reverse(f"admin:{changelist_name}_change", args=[pk]), {"body": "rewritten"})

    assert (add.status_code, change.status_code) == (403, 403)
    assert Message.objects.get(pk=message.pk).body == "original"


def test_the_message_list_does_not_show_bodies(staff_client):
    MessageFactory(body="My periods have been irregular")
    response = staff_client.get(reverse("admin:consultations_message_changelist"))
    assert b"irregular" not in response.content

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory
from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.admin import changelist_growth
from doctors.models import DoctorReview
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory, verified_doctor
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db


def make_profile(i: int) -> None:
    profile = DoctorProfileFactory(verified_by=StaffUserFactory() if i % 2 else None)
    if i % 5 == 0:
        profile.soft_delete()


def make_review(i: int) -> None:
    consultation = ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor(), status="completed")
    review = DoctorReviewFactory(consultation=consultation, rating=1 + i % 5)
    if i % 5 == 0:
        review.soft_delete()


ROWS = {
    "doctors_doctorprofile": make_profile,
    "doctors_doctorreview": make_review,
    # Rows of the active_doctors view: verified, active doctors.
    "doctors_activedoctor": lambda i: DoctorProfileFactory(),
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
        ("doctors_doctorprofile", DoctorProfileFactory),
        ("doctors_doctorreview", DoctorReviewFactory),
        ("doctors_activedoctor", DoctorProfileFactory),
    ],
)
def test_the_change_page_opens(staff_client, changelist_name, make_object):
    obj = make_object()
    response = staff_client.get(reverse(f"admin:{changelist_name}_change", args=[obj.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("changelist_name", ["doctors_doctorprofile", "doctors_activedoctor"])
def test_the_change_page_of_a_doctor_with_a_photo_opens(staff_client, changelist_name):
    profile = DoctorProfileFactory(photo=ContentFile(b"not really a jpeg", name="asha.jpg"))

    response = staff_client.get(reverse(f"admin:{changelist_name}_change", args=[profile.pk]))

    assert response.status_code == 200
    assert profile.photo.name.encode() in response.content


def test_verification_and_rating_are_shown_but_not_editable(staff_client):
    profile = DoctorProfileFactory(verification_status="pending")

    response = staff_client.get(reverse("admin:doctors_doctorprofile_change", args=[profile.pk]))

    form_fields = response.context["adminform"].form.fields
    assert {"verification_status", "verified_by", "rating_avg", "rating_count"}.isdisjoint(form_fields)
    assert "full_name" in form_fields
    assert b"Awaiting verification" in response.content


def test_the_verification_filter_lists_pending_doctors(staff_client):
    pending = DoctorProfileFactory(verification_status="pending")
    DoctorProfileFactory()

    response = staff_client.get(
        reverse("admin:doctors_doctorprofile_changelist"), {"verification_status__exact": "pending"}
    )

    assert list(response.context["cl"].result_list) == [pending]


@pytest.mark.parametrize("term", ["Dr. Farah Khan", "MH-HOM-424242"])
def test_searching_doctors_by_name_or_registration_finds_that_doctor(staff_client, term):
    wanted = DoctorProfileFactory(full_name="Dr. Farah Khan", registration_number="MH-HOM-424242")
    DoctorProfileFactory.create_batch(3)

    response = staff_client.get(reverse("admin:doctors_doctorprofile_changelist"), {"q": term})

    assert list(response.context["cl"].result_list) == [wanted]


def test_staff_cannot_write_a_review(staff_client):
    assert staff_client.get(reverse("admin:doctors_doctorreview_add")).status_code == 403


def test_staff_can_hide_a_review_but_not_reword_it(staff_client):
    review = DoctorReviewFactory(comment="Kind and thorough.")

    response = staff_client.post(
        reverse("admin:doctors_doctorreview_change", args=[review.pk]),
        {"is_visible": "", "hidden_reason": "Names another patient.", "comment": "Rewritten by staff", "rating": "1"},
    )

    assert response.status_code == 302
    stored = DoctorReview.all_objects.get(pk=review.pk)
    assert stored.is_visible is False
    assert stored.hidden_reason == "Names another patient."
    assert (stored.comment, stored.rating) == ("Kind and thorough.", review.rating)


@pytest.mark.parametrize("url_name", ["add", "change"])
def test_the_active_doctors_view_is_read_only(staff_client, url_name):
    profile = DoctorProfileFactory()
    args = [] if url_name == "add" else [profile.pk]

    response = staff_client.post(reverse(f"admin:doctors_activedoctor_{url_name}", args=args), {"full_name": "X"})

    assert response.status_code == 403

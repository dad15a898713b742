"""Verified reviews: who may write one, the week in which it can be changed,
staff hiding and removing them, and the doctor's rating always equal to the
spec's "Calculate doctor rating" query."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.urls import reverse

from accounts.models import AdminLog, Notification
from accounts.tests.factories import PatientUserFactory, StaffUserFactory
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory
from dhanwantari.demo import rating_decimal
from dhanwantari.tests.test_sample_queries import CALCULATE_DOCTOR_RATING
from doctors import services
from doctors.models import DoctorProfile, DoctorReview
from doctors.services import ReviewError, review_create, review_delete, review_set_visibility, review_update
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory, verified_doctor
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def completed(doctor: DoctorProfile, patient=None, **kwargs):
    return ConsultationFactory(
        doctor=doctor.user, patient=patient or patient_with_profile(), status="completed", **kwargs
    )


def review(doctor: DoctorProfile, rating: int = 5, comment: str = "Very kind.", patient=None) -> DoctorReview:
    consultation = completed(doctor, patient)
    return review_create(consultation=consultation, patient=consultation.patient, rating=rating, comment=comment)


def spec_rating() -> dict[str, tuple[Decimal, int]]:
    """The spec's query run verbatim: {doctor_id: (average as the column keeps it, count)}."""
    with connection.cursor() as cursor:
        cursor.execute(CALCULATE_DOCTOR_RATING)
        return {doctor_id: (rating_decimal(avg), count) for doctor_id, avg, count in cursor.fetchall()}


def assert_rating_matches_the_spec(*doctors: DoctorProfile) -> None:
    query = spec_rating()
    for doctor in doctors:
        stored = DoctorProfile.all_objects.get(pk=doctor.pk)
        assert (stored.rating_avg, stored.rating_count) == query.get(doctor.user_id, (Decimal("0"), 0)), doctor


# --- writing a review ------------------------------------------------------------------


def test_a_patient_reviews_a_completed_consultation():
    doctor = DoctorProfileFactory()
    consultation = completed(doctor)

    written = review_create(consultation=consultation, patient=consultation.patient, rating=4, comment=" Good. ")

    assert (written.rating, written.comment, written.is_visible, written.is_verified) == (4, "Good.", True, True)
    assert written.doctor_id == doctor.user_id
    doctor.refresh_from_db()
    assert (doctor.rating_avg, doctor.rating_count) == (Decimal("4.00"), 1)
    notice = Notification.objects.get(user=doctor.user, kind="review_received")
    assert notice.title == "New review: 4 out of 5"


@pytest.mark.parametrize("status", ["requested", "scheduled", "in_progress", "cancelled", "no_show"])
def test_a_consultation_that_is_not_completed_cannot_be_reviewed(status):
    consultation = ConsultationFactory(doctor=DoctorProfileFactory().user, status=status)

    with pytest.raises(ReviewError) as refused:
        review_create(consultation=consultation, patient=consultation.patient, rating=5, comment="")

    assert refused.value.code == "not_completed"
    assert not DoctorReview.all_objects.exists()


def test_someone_elses_consultation_cannot_be_reviewed():
    consultation = completed(DoctorProfileFactory())

    with pytest.raises(ReviewError) as refused:
        review_create(consultation=consultation, patient=patient_with_profile(), rating=1, comment="Bad.")

    assert refused.value.code == "not_yours"


def test_an_ai_intake_cannot_be_reviewed():
    consultation = AIConsultationFactory(status="completed")

    with pytest.raises(ReviewError) as refused:
        review_create(consultation=consultation, patient=consultation.patient, rating=5, comment="")

    assert refused.value.code == "not_reviewable"


def test_a_consultation_is_reviewed_once():
    doctor = DoctorProfileFactory()
    first = review(doctor)

    with pytest.raises(ReviewError, match=services.REVIEW_ALREADY_WRITTEN):
        review_create(consultation=first.consultation, patient=first.patient, rating=1, comment="Changed my mind.")

    assert DoctorReview.all_objects.count() == 1


def test_a_removed_review_cannot_be_written_again():
    first = review(DoctorProfileFactory())
    review_delete(review=first, by=first.patient)

    with pytest.raises(ReviewError) as refused:
        review_create(consultation=first.consultation, patient=first.patient, rating=5, comment="")

    assert refused.value.code == "already_reviewed"


@pytest.mark.parametrize("rating", [0, 6])
def test_a_rating_is_from_1_to_5(rating):
    consultation = completed(DoctorProfileFactory())

    with pytest.raises(ValidationError):
        review_create(consultation=consultation, patient=consultation.patient, rating=rating, comment="")

    assert not DoctorReview.all_objects.exists()


# --- changing it within a week --------------------------------------------------------------


def test_the_author_changes_their_review_within_seven_days():
    doctor = DoctorProfileFactory()
    with time_machine.travel(START, tick=False):
        written = review(doctor, rating=2)
    with time_machine.travel(START + timedelta(days=7) - timedelta(minutes=1), tick=False):
        review_update(review=written, by=written.patient, rating=5, comment="It worked in the end.")

    written.refresh_from_db()
    assert (written.rating, written.comment) == (5, "It worked in the end.")
    assert written.edited_at is not None
    assert DoctorProfile.objects.get(pk=doctor.pk).rating_avg == Decimal("5.00")


def test_after_seven_days_a_review_can_no_longer_be_changed():
    doctor = DoctorProfileFactory()
    with time_machine.travel(START, tick=False):
        written = review(doctor, rating=2)

    with time_machine.travel(START + timedelta(days=7), tick=False), pytest.raises(ReviewError) as refused:
        review_update(review=written, by=written.patient, rating=5, comment="")

    assert refused.value.messages == [services.REVIEW_EDIT_WINDOW_CLOSED]
    assert DoctorReview.objects.get(pk=written.pk).rating == 2


def test_only_the_author_changes_a_review():
    written = review(DoctorProfileFactory())

    with pytest.raises(ReviewError) as refused:
        review_update(review=written, by=patient_with_profile(), rating=1, comment="")

    assert refused.value.code == "not_yours"
    with pytest.raises(ReviewError):
        review_update(review=written, by=written.doctor, rating=5, comment="")


# --- staff: hide, show, remove -------------------------------------------------------------


def test_staff_hide_a_review_with_a_reason_and_it_leaves_the_rating():
    doctor = DoctorProfileFactory()
    kept, hidden = review(doctor, rating=5), review(doctor, rating=1)
    staff = StaffUserFactory()

    review_set_visibility(review=hidden, by=staff, visible=False, reason="Names another patient.")

    hidden.refresh_from_db()
    assert (hidden.is_visible, hidden.hidden_reason, hidden.moderated_by) == (False, "Names another patient.", staff)
    assert DoctorProfile.objects.get(pk=doctor.pk).rating_count == 1
    log = AdminLog.objects.get(table_name="doctor_reviews", record_id=hidden.pk)
    assert (log.user, log.old_values["is_visible"], log.new_values) == (
        staff,
        True,
        {"is_visible": False, "hidden_reason": "Names another patient."},
    )
    assert kept.is_visible


def test_hiding_without_a_reason_records_the_default_one():
    hidden = review(DoctorProfileFactory())

    review_set_visibility(review=hidden, by=StaffUserFactory(), visible=False)

    assert DoctorReview.objects.get(pk=hidden.pk).hidden_reason == services.DEFAULT_HIDDEN_REASON


def test_only_staff_hide_reviews():
    written = review(DoctorProfileFactory())

    with pytest.raises(PermissionDenied):
        review_set_visibility(review=written, by=written.doctor, visible=False, reason="I dislike it.")


def test_a_removed_review_is_invisible_too_and_cannot_be_shown_again():
    doctor = DoctorProfileFactory()
    written = review(doctor)
    staff = StaffUserFactory()

    review_delete(review=written, by=staff)

    stored = DoctorReview.all_objects.get(pk=written.pk)
    assert stored.is_deleted and not stored.is_visible
    assert doctor.user_id not in spec_rating()
    with pytest.raises(ReviewError, match=services.REVIEW_SHOW_REMOVED):
        review_set_visibility(review=stored, by=staff, visible=True)


def test_the_author_removes_their_review_within_the_week_only():
    with time_machine.travel(START, tick=False):
        early, late = review(DoctorProfileFactory()), review(DoctorProfileFactory())
        review_delete(review=early, by=early.patient)
    with time_machine.travel(START + timedelta(days=8), tick=False), pytest.raises(ReviewError):
        review_delete(review=late, by=late.patient)

    assert DoctorReview.all_objects.get(pk=early.pk).is_deleted
    assert not DoctorReview.all_objects.get(pk=late.pk).is_deleted


# --- the rating equals the spec's query ------------------------------------------------------


def test_the_rating_equals_the_spec_query_after_every_kind_of_change():
    asha, ravi = DoctorProfileFactory(), DoctorProfileFactory()
    staff = StaffUserFactory()

    # create
    five = review(asha, 5)
    four = review(asha, 4)
    other = review(ravi, 3)
    assert_rating_matches_the_spec(asha, ravi)

    last = review(asha, 4)
    assert DoctorProfile.objects.get(pk=asha.pk).rating_avg == Decimal("4.33")  # 13 / 3, to 2 places

    # edit
    review_update(review=four, by=four.patient, rating=5, comment="Better on reflection.")
    assert_rating_matches_the_spec(asha, ravi)
    assert DoctorProfile.objects.get(pk=asha.pk).rating_avg == Decimal("4.67")  # 14 / 3 rounds half up

    # hide
    review_set_visibility(review=five, by=staff, visible=False, reason="Duplicate.")
    assert_rating_matches_the_spec(asha, ravi)
    assert DoctorProfile.objects.get(pk=asha.pk).rating_avg == Decimal("4.50")

    # show
    review_set_visibility(review=five, by=staff, visible=True)
    assert_rating_matches_the_spec(asha, ravi)

    # soft delete, by staff and by the author
    review_delete(review=last, by=staff)
    review_delete(review=other, by=other.patient)
    assert_rating_matches_the_spec(asha, ravi)
    ravi.refresh_from_db()
    assert (ravi.rating_avg, ravi.rating_count) == (Decimal("0"), 0)


@pytest.mark.parametrize(
    "ratings, average",
    [([5], "5.00"), ([4, 5], "4.50"), ([1, 2, 2], "1.67"), ([5, 5, 4], "4.67"), ([3, 3, 4, 4, 4, 5], "3.83")],
)
def test_the_average_keeps_two_places_rounded_half_up(ratings, average):
    doctor = DoctorProfileFactory()
    for rating in ratings:
        review(doctor, rating)

    assert DoctorProfile.objects.get(pk=doctor.pk).rating_avg == Decimal(average)
    assert_rating_matches_the_spec(doctor)


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "mysql", reason="row locks are MySQL/MariaDB's; SQLite has one writer")
def test_reviews_saved_at_the_same_moment_are_all_counted():
    doctor = DoctorProfileFactory()
    consultations = [completed(doctor) for _ in range(6)]
    start = threading.Barrier(len(consultations))
    errors: list[BaseException] = []

    def write(consultation) -> None:
        try:
            start.wait()
            review_create(consultation=consultation, patient=consultation.patient, rating=4, comment="")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(c,)) for c in consultations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    doctor.refresh_from_db()
    assert (doctor.rating_avg, doctor.rating_count) == (Decimal("4.00"), 6)
    assert_rating_matches_the_spec(doctor)


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def patient_client(client):
    doctor = DoctorProfileFactory(full_name="Dr. Kavya Iyer")
    consultation = completed(doctor)
    client.force_login(consultation.patient)
    client.consultation = consultation
    return client


def write_url(consultation) -> str:
    return reverse("doctors:review_write", args=[consultation.pk])


def edit_url(consultation) -> str:
    return reverse("doctors:review_edit", args=[consultation.pk])


def test_the_review_page_shows_the_doctor_and_the_form(patient_client):
    response = patient_client.get(write_url(patient_client.consultation))

    assert response.status_code == 200
    assert b"Dr. Kavya Iyer" in response.content
    assert b"Publish review" in response.content


def test_a_patient_publishes_a_review_and_lands_on_its_edit_page(patient_client):
    consultation = patient_client.consultation

    response = patient_client.post(write_url(consultation), {"rating": "4", "comment": "Thorough."})

    assert response.status_code == 302
    assert response["Location"] == edit_url(consultation)
    assert DoctorReview.objects.get(consultation=consultation).rating == 4


def test_a_rating_is_required_and_nothing_is_written_without_one(patient_client):
    response = patient_client.post(write_url(patient_client.consultation), {"comment": "No stars."})

    assert response.status_code == 400
    assert response.context["form"].errors["rating"] == ["Choose a rating from 1 to 5."]
    assert not DoctorReview.all_objects.exists()


def test_someone_elses_consultation_is_not_found(client):
    consultation = completed(DoctorProfileFactory())
    client.force_login(patient_with_profile())

    assert client.get(write_url(consultation)).status_code == 404
    assert client.post(write_url(consultation), {"rating": "1"}).status_code == 404
    assert not DoctorReview.all_objects.exists()


def test_a_consultation_not_yet_completed_is_not_found(client):
    consultation = ConsultationFactory(doctor=DoctorProfileFactory().user, status="scheduled")
    client.force_login(consultation.patient)

    assert client.get(write_url(consultation)).status_code == 404


def test_a_second_review_is_offered_as_an_edit(patient_client):
    consultation = patient_client.consultation
    review_create(consultation=consultation, patient=consultation.patient, rating=3, comment="")

    response = patient_client.post(write_url(consultation), {"rating": "1"})

    assert response.status_code == 302
    assert response["Location"] == edit_url(consultation)
    assert DoctorReview.objects.get(consultation=consultation).rating == 3


def test_doctors_and_strangers_cannot_use_the_review_pages(client):
    consultation = completed(DoctorProfileFactory())
    assert client.get(write_url(consultation)).status_code == 302  # anonymous: sign in first
    client.force_login(consultation.doctor)
    assert client.get(write_url(consultation)).status_code == 403


def test_the_review_pages_refuse_other_methods(patient_client):
    assert patient_client.put(write_url(patient_client.consultation)).status_code == 405
    remove = reverse("doctors:review_delete", args=[patient_client.consultation.pk])
    assert patient_client.get(remove).status_code == 405


def test_the_author_edits_on_the_page_within_the_week(patient_client):
    consultation = patient_client.consultation
    review_create(consultation=consultation, patient=consultation.patient, rating=3, comment="")

    response = patient_client.post(edit_url(consultation), {"rating": "5", "comment": "Much better now."})

    assert response.status_code == 302
    assert DoctorReview.objects.get(consultation=consultation).rating == 5


def test_after_the_week_the_page_shows_the_review_read_only(patient_client):
    consultation = patient_client.consultation
    with time_machine.travel(START, tick=False):
        review_create(consultation=consultation, patient=consultation.patient, rating=3, comment="Fine.")

    with time_machine.travel(START + timedelta(days=9), tick=False):
        page = patient_client.get(edit_url(consultation))
        refused = patient_client.post(edit_url(consultation), {"rating": "1"}, follow=True)

    assert page.context["form"] is None
    assert b"can no longer be changed" in page.content
    assert b"Save changes" not in page.content
    assert services.REVIEW_EDIT_WINDOW_CLOSED in [str(m) for m in refused.context["messages"]]
    assert DoctorReview.objects.get(consultation=consultation).rating == 3


def test_the_author_removes_their_review_from_the_page(patient_client):
    consultation = patient_client.consultation
    written = review_create(consultation=consultation, patient=consultation.patient, rating=1, comment="")

    response = patient_client.post(reverse("doctors:review_delete", args=[consultation.pk]))

    assert response.status_code == 302
    assert DoctorReview.all_objects.get(pk=written.pk).is_deleted


def test_the_author_sees_that_staff_hid_their_review(patient_client):
    consultation = patient_client.consultation
    written = review_create(consultation=consultation, patient=consultation.patient, rating=1, comment="Rude words.")
    review_set_visibility(review=written, by=StaffUserFactory(), visible=False, reason="Abusive language.")

    response = patient_client.get(edit_url(consultation))

    assert b"Our staff have hidden this review" in response.content
    assert b"Abusive language." in response.content


def test_another_patient_cannot_open_the_edit_page(client):
    consultation = completed(DoctorProfileFactory())
    review_create(consultation=consultation, patient=consultation.patient, rating=5, comment="")
    client.force_login(PatientUserFactory())

    assert client.get(edit_url(consultation)).status_code == 404


# --- the staff console -----------------------------------------------------------------------


CHANGELIST = reverse("admin:doctors_doctorreview_changelist")


def test_staff_hide_reviews_from_the_admin_with_a_reason(staff_client):
    doctor = DoctorProfileFactory()
    hidden, kept = review(doctor, 1), review(doctor, 5)

    asked = staff_client.post(CHANGELIST, {"action": "hide_reviews", "_selected_action": [hidden.pk]})
    assert asked.status_code == 200
    assert asked.context["form"]["reason"].value() == services.DEFAULT_HIDDEN_REASON

    done = staff_client.post(
        CHANGELIST,
        {"action": "hide_reviews", "_selected_action": [hidden.pk], "apply": "yes", "reason": "Off topic."},
    )

    assert done.status_code == 302
    hidden.refresh_from_db()
    assert (hidden.is_visible, hidden.hidden_reason) == (False, "Off topic.")
    assert DoctorProfile.objects.get(pk=doctor.pk).rating_avg == Decimal("5.00")
    assert AdminLog.objects.filter(table_name="doctor_reviews", record_id=hidden.pk).exists()
    assert kept.is_visible


def test_staff_show_hidden_reviews_from_the_admin(staff_client):
    doctor = DoctorProfileFactory()
    written = review(doctor, 2)
    review_set_visibility(review=written, by=StaffUserFactory(), visible=False, reason="Check.")

    staff_client.post(CHANGELIST, {"action": "show_reviews", "_selected_action": [written.pk]})

    assert DoctorReview.objects.get(pk=written.pk).is_visible
    assert DoctorProfile.objects.get(pk=doctor.pk).rating_count == 1
    assert_rating_matches_the_spec(doctor)


def test_staff_remove_reviews_from_the_admin(staff_client):
    doctor = DoctorProfileFactory()
    written = review(doctor, 2)

    staff_client.post(CHANGELIST, {"action": "remove_reviews", "_selected_action": [written.pk]})

    assert DoctorReview.all_objects.get(pk=written.pk).is_deleted
    assert_rating_matches_the_spec(doctor)


def test_hiding_from_the_change_form_goes_through_the_service(staff_client):
    doctor = DoctorProfileFactory()
    written = review(doctor, 1)

    staff_client.post(
        reverse("admin:doctors_doctorreview_change", args=[written.pk]),
        {"is_visible": "", "hidden_reason": "Names another patient."},
    )

    assert DoctorProfile.objects.get(pk=doctor.pk).rating_count == 0
    assert AdminLog.objects.get(table_name="doctor_reviews", record_id=written.pk).new_values == {
        "is_visible": False,
        "hidden_reason": "Names another patient.",
    }


def test_the_patient_dashboard_leads_to_writing_then_changing_a_review(client):
    patient = patient_with_profile()
    consultation = ConsultationFactory(patient=patient, doctor=verified_doctor(), status="completed")
    client.force_login(patient)

    html = client.get(reverse("accounts:dashboard")).content.decode()
    assert reverse("doctors:review_write", args=[consultation.pk]) in html

    DoctorReviewFactory(consultation=consultation, rating=4)
    html = client.get(reverse("accounts:dashboard")).content.decode()
    assert reverse("doctors:review_edit", args=[consultation.pk]) in html
    assert "You rated this 4 of 5" in html

"""The prescribing services: drafts saved whole, issuing, corrections, read audits, the signature."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from accounts.models import AdminLog, Notification
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory
from dhanwantari.uploads import IMAGE_TYPES, MAX_PHOTO_BYTES, validate_upload
from prescriptions import services
from prescriptions.models import Prescription, PrescriptionLocked
from prescriptions.services import HeaderData, ItemData
from prescriptions.tests.conftest import ARNICA, BELLADONNA, SULPHUR_LM, draft, issued

pytestmark = pytest.mark.django_db


def remedies(rx: Prescription) -> list[str]:
    return [f"{item.remedy_name} {item.potency}" for item in rx.items.order_by("position")]


# --- drafts ------------------------------------------------------------------------------


def test_the_consultations_doctor_starts_a_draft_with_its_remedies(consultation):
    rx = draft(consultation, items=[ARNICA, BELLADONNA, SULPHUR_LM])

    assert (rx.status, rx.version, rx.patient_id, rx.doctor_id) == (
        "draft",
        1,
        consultation.patient_id,
        consultation.doctor_id,
    )
    assert remedies(rx) == ["Arnica montana 30C", "Belladonna 200C", "Sulphur LM1"]
    log = AdminLog.objects.get(table_name="prescriptions", record_id=rx.pk)
    assert log.action == "create"
    assert log.new_values["items"] == ["Arnica montana 30C", "Belladonna 200C", "Sulphur LM1"]
    # Clinical words stay out of the audit trail.
    assert "Sprained" not in str(log.new_values)


def test_saving_a_draft_replaces_its_item_list_whole(consultation):
    rx = draft(consultation, items=[ARNICA, BELLADONNA, SULPHUR_LM])

    services.prescription_save_draft(
        consultation=consultation,
        doctor=consultation.doctor,
        header=HeaderData(prescription_type="chronic", diagnosis="Ankle, second week."),
        items=[SULPHUR_LM, ARNICA],  # reordered, Belladonna removed
        prescription=rx,
    )

    rx.refresh_from_db()
    assert remedies(rx) == ["Sulphur LM1", "Arnica montana 30C"]
    assert [i.position for i in rx.items.order_by("position")] == [1, 2]
    assert (rx.prescription_type, rx.diagnosis) == ("chronic", "Ankle, second week.")
    update = AdminLog.objects.filter(record_id=rx.pk, action="update").get()
    assert update.old_values["items"] == ["Arnica montana 30C", "Belladonna 200C", "Sulphur LM1"]
    assert update.new_values["items"] == ["Sulphur LM1", "Arnica montana 30C"]
    assert update.old_values["diagnosis"] == "(text)"


def test_only_the_consultations_doctor_writes_its_prescription(consultation, other_doctor):
    with pytest.raises(services.PrescribingRefused) as refused:
        services.prescription_save_draft(
            consultation=consultation, doctor=other_doctor, header=HeaderData(), items=[ARNICA]
        )
    assert refused.value.code == "not_prescriber"
    assert not Prescription.objects.exists()


@pytest.mark.parametrize("status", ["requested", "scheduled", "cancelled", "no_show"])
def test_a_prescription_waits_for_the_consultation_to_start(doctor, patient, status):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status=status)

    with pytest.raises(services.PrescribingRefused) as refused:
        draft(consultation)

    assert refused.value.code == "consultation_not_open"
    assert not Prescription.objects.exists()


def test_the_ai_assistant_never_gets_a_prescription(patient, doctor):
    consultation = AIConsultationFactory(patient=patient)
    with pytest.raises(services.PrescribingRefused):
        services.prescription_save_draft(consultation=consultation, doctor=doctor, header=HeaderData(), items=[ARNICA])


def test_a_consultation_has_one_draft_at_a_time(consultation):
    first = draft(consultation)

    with pytest.raises(services.DraftExists) as refused:
        draft(consultation)

    assert refused.value.draft == first
    assert Prescription.objects.count() == 1


def test_a_completed_consultation_can_still_be_prescribed_for(doctor, patient):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status="completed")
    assert draft(consultation).status == "draft"


def test_at_most_twenty_remedies(consultation):
    with pytest.raises(services.PrescriptionError) as refused:
        draft(consultation, items=[ARNICA] * 21)
    assert refused.value.code == "too_many_items"


def test_a_bad_item_is_reported_by_its_row_and_nothing_is_written(consultation):
    bad = ItemData(remedy_name="Belladonna", potency_value=30, potency_scale="C", dosage_form="dilution", pill_size=30)

    with pytest.raises(services.ValidationError) as refused:
        draft(consultation, items=[ARNICA, bad])

    assert "item_2_pill_size" in refused.value.message_dict
    assert not Prescription.objects.exists()


# --- issuing ---------------------------------------------------------------------------------


def test_issuing_freezes_the_draft_and_tells_the_patient(consultation, django_capture_on_commit_callbacks):
    rx = draft(consultation)

    with django_capture_on_commit_callbacks(execute=True):
        services.prescription_issue(prescription=rx, doctor=consultation.doctor)

    rx.refresh_from_db()
    assert rx.status == "issued" and rx.issued_at is not None
    notice = Notification.objects.get(user=consultation.patient, kind="prescription_issued")
    assert notice.title == "Dr. Asha Kulkarni sent your prescription"
    assert notice.deeplink == f"/prescriptions/{rx.pk}/"
    assert AdminLog.objects.filter(record_id=rx.pk, action="action", new_values__status="issued").exists()


def test_an_issued_prescription_refuses_the_draft_service(consultation):
    rx = issued(consultation)

    with pytest.raises(PrescriptionLocked):
        services.prescription_save_draft(
            consultation=consultation, doctor=consultation.doctor, header=HeaderData(), items=[ARNICA], prescription=rx
        )

    assert remedies(rx) == ["Arnica montana 30C", "Belladonna 200C"]


def test_a_prescription_is_issued_once(consultation):
    rx = issued(consultation)
    with pytest.raises(services.CannotIssue) as refused:
        services.prescription_issue(prescription=rx, doctor=consultation.doctor)
    assert refused.value.code == "already_issued"
    assert Notification.objects.filter(kind="prescription_issued").count() == 1


def test_an_empty_draft_cannot_be_issued(consultation):
    rx = draft(consultation, items=[])
    with pytest.raises(services.CannotIssue) as refused:
        services.prescription_issue(prescription=rx, doctor=consultation.doctor)
    assert refused.value.messages == [services.NO_ITEMS]


def test_a_remedy_without_potency_must_be_a_placebo_to_be_issued(consultation):
    no_potency = ItemData(remedy_name="Saccharum lactis")
    rx = draft(consultation, items=[ARNICA, no_potency])

    with pytest.raises(services.CannotIssue) as refused:
        services.prescription_issue(prescription=rx, doctor=consultation.doctor)
    assert "Remedy 2 (Saccharum lactis)" in refused.value.messages[0]

    placebo = draft(
        ConsultationFactory(doctor=consultation.doctor, status="completed"),
        items=[ItemData(remedy_name="Saccharum lactis", is_placebo=True)],
    )
    assert services.prescription_issue(prescription=placebo, doctor=consultation.doctor).status == "issued"


def test_a_validity_that_has_passed_is_refused_at_issue(consultation):
    rx = draft(consultation, valid_until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(services.CannotIssue) as refused:
        services.prescription_issue(prescription=rx, doctor=consultation.doctor)
    assert refused.value.code == "validity_passed"


def test_another_doctor_cannot_issue_it(consultation, other_doctor):
    rx = draft(consultation)
    with pytest.raises(services.PrescribingRefused):
        services.prescription_issue(prescription=rx, doctor=other_doctor)
    rx.refresh_from_db()
    assert rx.status == "draft"


# --- corrections -----------------------------------------------------------------------------


def test_a_correction_withdraws_the_issued_one_and_opens_the_next_version(
    consultation, django_capture_on_commit_callbacks
):
    original = issued(consultation, follow_up_date=timezone.localdate() + timedelta(days=14))

    with django_capture_on_commit_callbacks(execute=True):
        new = services.prescription_correct(
            prescription=original, doctor=consultation.doctor, reason="Belladonna 30C, not 200C."
        )

    original.refresh_from_db()
    assert (original.status, original.cancellation_reason) == ("cancelled", "Belladonna 30C, not 200C.")
    assert original.cancelled_at is not None
    assert (new.status, new.version, new.supersedes_id) == ("draft", 2, original.pk)
    assert remedies(new) == remedies(original)
    assert new.follow_up_date == original.follow_up_date
    assert new.verification_code != original.verification_code
    notice = Notification.objects.get(user=consultation.patient, kind="prescription_issued", title__contains="withdrew")
    assert "Belladonna 30C, not 200C." in notice.body
    assert AdminLog.objects.filter(record_id=original.pk, new_values__status="cancelled").exists()
    assert AdminLog.objects.filter(record_id=new.pk, action="create", new_values__supersedes=original.pk).exists()


def test_the_corrected_version_is_fixed_and_issued_like_any_draft(consultation):
    original = issued(consultation)
    new = services.prescription_correct(prescription=original, doctor=consultation.doctor, reason="Wrong potency")
    services.prescription_save_draft(
        consultation=consultation,
        doctor=consultation.doctor,
        header=HeaderData.of(new),
        items=[ARNICA, ItemData(remedy_name="Belladonna", potency_value=30, potency_scale="C")],
        prescription=new,
    )

    services.prescription_issue(prescription=new, doctor=consultation.doctor)

    new.refresh_from_db()
    assert new.status == "issued"
    assert remedies(new) == ["Arnica montana 30C", "Belladonna 30C"]
    assert remedies(Prescription.objects.get(pk=original.pk)) == ["Arnica montana 30C", "Belladonna 200C"]
    titles = list(Notification.objects.filter(kind="prescription_issued").values_list("title", flat=True))
    assert "Dr. Asha Kulkarni sent your corrected prescription" in titles


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_a_reason(consultation, reason):
    original = issued(consultation)
    with pytest.raises(services.CannotCorrect) as refused:
        services.prescription_correct(prescription=original, doctor=consultation.doctor, reason=reason)
    assert refused.value.code == "reason_required"
    original.refresh_from_db()
    assert original.status == "issued"


def test_only_an_issued_prescription_is_corrected(consultation):
    rx = draft(consultation)
    with pytest.raises(services.CannotCorrect) as refused:
        services.prescription_correct(prescription=rx, doctor=consultation.doctor, reason="Typo")
    assert refused.value.code == "not_issued"


def test_a_withdrawn_prescription_is_not_corrected_twice(consultation):
    original = issued(consultation)
    services.prescription_correct(prescription=original, doctor=consultation.doctor, reason="Typo")
    with pytest.raises(services.CannotCorrect) as refused:
        services.prescription_correct(prescription=original, doctor=consultation.doctor, reason="Typo again")
    assert refused.value.code == "already_withdrawn"
    assert Prescription.objects.filter(supersedes=original).count() == 1


def test_another_doctor_cannot_correct_it(consultation, other_doctor):
    original = issued(consultation)
    with pytest.raises(services.PrescribingRefused):
        services.prescription_correct(prescription=original, doctor=other_doctor, reason="Not mine")


# --- reads ---------------------------------------------------------------------------------


def test_reads_by_anyone_but_the_patient_are_audited(consultation, staff):
    rx = issued(consultation)

    services.prescription_read_record(prescription=rx, reader=consultation.patient, what="pdf")
    services.prescription_read_record(prescription=rx, reader=consultation.doctor, what="pdf")
    services.prescription_read_record(prescription=rx, reader=staff, what="page")

    reads = AdminLog.objects.filter(record_id=rx.pk, action="view")
    assert sorted((log.user_id, log.new_values["what"]) for log in reads) == sorted(
        [(consultation.doctor_id, "pdf"), (staff.pk, "page")]
    )


# --- the doctor's signature ---------------------------------------------------------------------


def checked_image(size=(900, 200), color=(20, 20, 120)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    buffer.name = "signature.png"
    buffer.seek(0)
    return validate_upload(buffer, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)


def test_a_signature_is_stored_as_a_3_by_1_png_and_the_old_one_removed(doctor, django_capture_on_commit_callbacks):
    profile = doctor.doctor_profile
    with django_capture_on_commit_callbacks(execute=True):
        services.doctor_signature_update(profile=profile, by=doctor, signature=checked_image())
    first = profile.signature.name
    with default_storage.open(first) as handle, Image.open(handle) as stored:
        assert (stored.format, stored.size) == ("PNG", services.SIGNATURE_BOX)

    with django_capture_on_commit_callbacks(execute=True):
        services.doctor_signature_update(profile=profile, by=doctor, signature=checked_image(color=(0, 0, 0)))

    assert profile.signature.name != first
    assert not default_storage.exists(first)
    assert AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk).count() == 2


def test_a_signature_can_be_removed(doctor, django_capture_on_commit_callbacks):
    profile = doctor.doctor_profile
    services.doctor_signature_update(profile=profile, by=doctor, signature=checked_image())
    name = profile.signature.name

    with django_capture_on_commit_callbacks(execute=True):
        changed = services.doctor_signature_update(profile=profile, by=doctor, remove=True)

    assert changed and not profile.signature
    assert not default_storage.exists(name)
    assert services.doctor_signature_update(profile=profile, by=doctor, remove=True) is False


def test_only_the_doctor_changes_their_signature(doctor, other_doctor):
    with pytest.raises(PermissionDenied):
        services.doctor_signature_update(profile=doctor.doctor_profile, by=other_doctor, signature=checked_image())


def test_a_save_that_changes_only_a_dose_is_still_audited(consultation):
    rx = draft(consultation, items=[ARNICA])
    services.prescription_save_draft(
        consultation=consultation,
        doctor=consultation.doctor,
        header=HeaderData.of(rx),
        items=[ItemData(**{**ARNICA.__dict__, "dose": "2 globules"})],
        prescription=rx,
    )

    update = AdminLog.objects.get(record_id=rx.pk, action="update")
    assert update.new_values == {"items": "details changed"}

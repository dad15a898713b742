"""Staff verify or reject doctors; only verified, active, not-deleted doctors
are in active_doctors. Through the services and through the admin actions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AdminLog, Notification
from accounts.tests.factories import StaffUserFactory
from dhanwantari.testing.admin import changelist_growth
from doctors import services
from doctors.models import ActiveDoctor, DoctorDocument, DoctorProfile
from doctors.services import DoctorVerificationError, doctor_reject, doctor_verify
from doctors.tests.factories import DoctorProfileFactory
from doctors.tests.test_profile_onboarding import add_document, complete_doctor, new_doctor

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:doctors_doctorprofile_changelist")


def pending_doctor(**kwargs) -> DoctorProfile:
    profile = complete_doctor(**kwargs)
    services.doctor_submit_for_verification(profile=profile, by=profile.user)
    return profile


def listed() -> set[str]:
    return set(ActiveDoctor.objects.values_list("id", flat=True))


# --- the services -----------------------------------------------------------------------------


def test_staff_verify_a_pending_doctor_who_is_then_listed():
    profile = pending_doctor()
    staff = StaffUserFactory()
    assert profile.pk not in listed()

    doctor_verify(profile=profile, by=staff)

    profile.refresh_from_db()
    assert (profile.verification_status, profile.verified_by) == ("verified", staff)
    assert profile.verified_at is not None
    assert profile.pk in listed()
    log = AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk, user=staff).get()
    assert (log.action, log.old_values, log.new_values["verification_status"]) == (
        "action",
        {"verification_status": "pending"},
        "verified",
    )
    notice = Notification.objects.get(user=profile.user, kind="doctor_verification")
    assert notice.title == "Your profile is verified"


def test_staff_reject_a_pending_doctor_with_a_reason_the_doctor_reads():
    profile = pending_doctor()
    staff = StaffUserFactory()

    doctor_reject(profile=profile, by=staff, reason="  The number is not on the council's register.  ")

    profile.refresh_from_db()
    assert (profile.verification_status, profile.rejection_reason) == (
        "rejected",
        "The number is not on the council's register.",
    )
    assert profile.pk not in listed()
    log = AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk, user=staff)
    assert log.new_values == {
        "verification_status": "rejected",
        "rejection_reason": "The number is not on the council's register.",
    }
    notice = Notification.objects.get(user=profile.user, kind="doctor_verification")
    assert "The number is not on the council's register." in notice.body


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(reason):
    profile = pending_doctor()

    with pytest.raises(DoctorVerificationError, match=services.REASON_REQUIRED):
        doctor_reject(profile=profile, by=StaffUserFactory(), reason=reason)

    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == "pending"


@pytest.mark.parametrize("status", ["draft", "verified", "rejected"])
@pytest.mark.parametrize("decide", [doctor_verify, lambda **kw: doctor_reject(**kw, reason="No.")])
def test_only_pending_profiles_are_decided(status, decide):
    profile = DoctorProfileFactory(verification_status=status)

    with pytest.raises(DoctorVerificationError, match="only pending profiles can be"):
        decide(profile=profile, by=StaffUserFactory())

    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == status
    assert not AdminLog.objects.filter(table_name="doctor_profiles").exists()


def test_only_staff_decide(client):
    profile = pending_doctor()

    with pytest.raises(PermissionDenied):
        doctor_verify(profile=profile, by=profile.user)
    with pytest.raises(PermissionDenied):
        doctor_reject(profile=profile, by=profile.user, reason="I reject myself.")


def test_a_profile_emptied_while_pending_cannot_be_verified():
    profile = pending_doctor()
    services.doctor_profile_update(profile=profile, by=profile.user, changes={"qualifications": []})

    with pytest.raises(DoctorVerificationError, match="missing at least one qualification"):
        doctor_verify(profile=profile, by=StaffUserFactory())


# --- who is in active_doctors ---------------------------------------------------------------


def test_only_verified_active_not_deleted_doctors_are_listed():
    draft = new_doctor()
    waiting = pending_doctor()
    rejected = pending_doctor()
    doctor_reject(profile=rejected, by=StaffUserFactory(), reason="Blurred certificate.")
    verified = pending_doctor()
    doctor_verify(profile=verified, by=StaffUserFactory())
    deactivated = pending_doctor()
    doctor_verify(profile=deactivated, by=StaffUserFactory())
    deactivated.user.is_active = False
    deactivated.user.save(update_fields=["is_active"])
    deleted = pending_doctor()
    doctor_verify(profile=deleted, by=StaffUserFactory())
    deleted.soft_delete()

    assert listed() == {verified.pk}
    assert {draft.pk, waiting.pk, rejected.pk, deactivated.pk, deleted.pk}.isdisjoint(listed())


def test_a_rejected_doctor_who_corrects_and_resubmits_can_be_verified():
    profile = pending_doctor()
    doctor_reject(profile=profile, by=StaffUserFactory(), reason="Upload the certificate itself.")
    add_document(profile, data=b"%PDF-1.4\n% a second certificate\n%%EOF\n", name="certificate-2.pdf")

    services.doctor_submit_for_verification(profile=profile, by=profile.user)
    doctor_verify(profile=profile, by=StaffUserFactory())

    assert profile.pk in listed()


# --- the admin actions ------------------------------------------------------------------------


def test_staff_verify_doctors_with_the_admin_action(staff_client):
    first, second = pending_doctor(), pending_doctor()

    response = staff_client.post(
        CHANGELIST, {"action": "verify_doctors", "_selected_action": [first.pk, second.pk]}, follow=True
    )

    assert "Verified 2 doctors; they are notified." in [str(m) for m in response.context["messages"]]
    assert listed() == {first.pk, second.pk}
    assert (
        AdminLog.objects.filter(
            table_name="doctor_profiles", action="action", new_values__verification_status="verified"
        ).count()
        == 2
    )
    assert Notification.objects.filter(kind="doctor_verification", user__in=[first.user, second.user]).count() == 2


def test_the_verify_action_says_which_profiles_were_not_pending(staff_client):
    pending, draft = pending_doctor(), new_doctor(full_name="Dr. Not Ready")

    response = staff_client.post(
        CHANGELIST, {"action": "verify_doctors", "_selected_action": [pending.pk, draft.pk]}, follow=True
    )

    shown = {(m.level_tag, str(m)) for m in response.context["messages"]}
    assert ("success", "Verified 1 doctor; they are notified.") in shown
    assert (
        "error",
        "Dr. Not Ready is not awaiting verification (the profile is “Profile incomplete”); "
        "only pending profiles can be verified.",
    ) in shown
    assert DoctorProfile.objects.get(pk=draft.pk).verification_status == "draft"


def test_rejecting_from_the_admin_asks_for_a_reason_first(staff_client):
    profile = pending_doctor()

    response = staff_client.post(CHANGELIST, {"action": "reject_doctors", "_selected_action": [profile.pk]})

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/doctors/reject_reason.html"
    assert profile.full_name.encode() in response.content
    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == "pending"


def test_a_rejection_from_the_admin_without_a_reason_is_asked_again(staff_client):
    profile = pending_doctor()

    response = staff_client.post(
        CHANGELIST, {"action": "reject_doctors", "_selected_action": [profile.pk], "apply": "yes", "reason": " "}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == "pending"


def test_staff_reject_with_a_reason_from_the_admin(staff_client):
    profile = pending_doctor()

    response = staff_client.post(
        CHANGELIST,
        {
            "action": "reject_doctors",
            "_selected_action": [profile.pk],
            "apply": "yes",
            "reason": "The certificate is for another person.",
        },
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.verification_status, profile.rejection_reason) == (
        "rejected",
        "The certificate is for another person.",
    )
    assert AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk, action="action").count() == 2
    assert Notification.objects.filter(user=profile.user, kind="doctor_verification").exists()


def test_the_profile_change_page_links_the_documents_and_says_what_is_missing(staff_client):
    profile = pending_doctor()
    document = profile.user.verification_documents.get()

    response = staff_client.get(reverse("admin:doctors_doctorprofile_change", args=[profile.pk]))

    assert reverse("doctors:document_download", args=[document.pk]).encode() in response.content
    assert b"Nothing: complete." in response.content


# --- the documents admin ---------------------------------------------------------------------------


def test_documents_are_read_only_in_the_admin(staff_client):
    document = add_document(new_doctor())
    change = reverse("admin:doctors_doctordocument_change", args=[document.pk])

    page = staff_client.get(change)
    posted = staff_client.post(change, {"kind": "other", "original_filename": "renamed.pdf"})

    assert page.status_code == 200
    assert reverse("doctors:document_download", args=[document.pk]).encode() in page.content
    assert b'name="_save"' not in page.content
    assert posted.status_code == 403
    assert staff_client.get(reverse("admin:doctors_doctordocument_add")).status_code == 403
    assert DoctorDocument.objects.get(pk=document.pk).original_filename == "reg.pdf"


def test_the_documents_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client):
    def make_row(i: int) -> None:
        add_document(new_doctor(), data=b"%PDF-1.4\n%" + str(i).encode() + b"\n%%EOF\n", name=f"cert-{i}.pdf")

    url = reverse("admin:doctors_doctordocument_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_row)

    assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries

"""A doctor fills in their profile, adds a photo and documents, and submits it
for verification; documents and photos are served only to who may see them."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import AdminLog, Notification
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from dhanwantari.uploads import DOCUMENT_TYPES, MAX_DOCUMENT_BYTES, validate_upload
from doctors import services
from doctors.models import ActiveDoctor, DoctorDocument, DoctorProfile
from doctors.templatetags.doctor_media import photo_url
from doctors.tests.factories import DoctorProfileFactory
from doctors.tests.test_uploads import image_bytes, jpeg_with_gps, pdf_bytes

pytestmark = pytest.mark.django_db

EDIT = reverse("doctors:profile_edit")
SUBMIT = reverse("doctors:profile_submit")
UPLOAD = reverse("doctors:document_upload")


# --- the cast ---------------------------------------------------------------------------


def new_doctor(**kwargs) -> DoctorProfile:
    """A doctor who has just signed up: a draft profile with nothing filled in."""
    defaults = {
        "verification_status": "draft",
        "verified_at": None,
        "registration_number": "",
        "registration_council": "",
        "qualifications": [],
        "specializations": [],
        "languages": [],
        "consultation_modes": [],
        "consultation_fee": Decimal("0"),
        "follow_up_fee": Decimal("0"),
        "clinic_name": "",
        "city": "",
        "state": "",
        "latitude": None,
        "longitude": None,
    }
    return DoctorProfileFactory(**{**defaults, **kwargs})


def add_document(profile: DoctorProfile, *, kind: str = "registration", data: bytes | None = None, name="reg.pdf"):
    checked = validate_upload(
        SimpleUploadedFile(name, data or pdf_bytes()), allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES
    )
    return services.doctor_document_add(profile=profile, by=profile.user, kind=kind, upload=checked)


def complete_doctor(**kwargs) -> DoctorProfile:
    """A draft profile with everything verification needs, registration certificate included."""
    profile = DoctorProfileFactory(verification_status="draft", verified_at=None, **kwargs)
    add_document(profile)
    return profile


def form_data(**overrides) -> dict:
    data = {
        "registration_number": "MH-HOM-40213",
        "registration_council": "Maharashtra Council of Homoeopathy",
        "qualifications": "BHMS\nMD (Hom)",
        "experience_years": "12",
        "gender": "female",
        "specializations": ["classical", "womens_health"],
        "languages": ["English", "Marathi"],
        "bio": "Classical homeopath; I see many children with recurring colds.",
        "consultation_modes": ["video", "in_person"],
        "consultation_fee": "600",
        "follow_up_fee": "0",
        "follow_up_window_days": "14",
        "follow_up_visits": "2",
        "clinic_name": "Sanjeevani Clinic",
        "clinic_address": "12 FC Road, Shivajinagar",
        "city": "Pune",
        "state": "Maharashtra",
        "postal_code": "411004",
        "latitude": "18.5204303",
        "longitude": "73.8567437",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def doctor_client(client):
    profile = new_doctor()
    client.force_login(profile.user)
    client.profile = profile
    return client


# --- the profile page ---------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(EDIT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_patient_may_not_open_the_doctor_profile_page(client):
    client.force_login(PatientUserFactory())

    assert client.get(EDIT).status_code == 403


def test_the_profile_page_refuses_other_methods(doctor_client):
    assert doctor_client.put(EDIT).status_code == 405
    assert doctor_client.get(SUBMIT).status_code == 405
    assert doctor_client.get(UPLOAD).status_code == 405


def test_the_page_shows_a_new_doctor_everything_still_missing(doctor_client):
    response = doctor_client.get(EDIT)

    assert response.status_code == 200
    assert [item for item, done in response.context["checklist"] if not done] == [
        "your registration number",
        "the council you are registered with",
        "at least one qualification",
        "at least one specialisation",
        "how you consult (chat, audio, video or in person)",
        "your consultation fee",
        "your registration certificate (upload it under Documents)",
    ]
    assert b"Submit for verification" in response.content
    # Specialisations, languages and modes as tappable tiles: 15 + 12 + 4.
    assert response.content.count(b'class="dp-check"') == 31


def test_the_page_has_no_inline_script_or_style(doctor_client):
    html = doctor_client.get(EDIT).content.decode()

    assert "<script>" not in html and "<script " not in html.replace('<script type="module" src=', "")
    assert " style=" not in html
    assert 'src="/static/js/doctor-location.js"' in html


def test_a_doctor_saves_their_profile(doctor_client):
    response = doctor_client.post(EDIT, form_data())

    assert response.status_code == 302
    profile = DoctorProfile.objects.get(pk=doctor_client.profile.pk)
    assert profile.registration_number == "MH-HOM-40213"
    assert profile.qualifications == ["BHMS", "MD (Hom)"]
    assert profile.specializations == ["classical", "womens_health"]
    assert profile.languages == ["English", "Marathi"]
    assert profile.consultation_modes == ["video", "in_person"]
    assert (profile.consultation_fee, profile.follow_up_fee) == (Decimal("600"), Decimal("0"))
    # A phone's GPS gives seven places; the column keeps six.
    assert (profile.latitude, profile.longitude) == (Decimal("18.520430"), Decimal("73.856744"))
    assert profile.verification_status == "draft"  # saving is not submitting
    log = AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk)
    assert (log.user, log.action) == (profile.user, "update")
    assert log.new_values["registration_number"] == "MH-HOM-40213"


def test_qualifications_typed_with_commas_or_twice_are_tidied(doctor_client):
    doctor_client.post(EDIT, form_data(qualifications="BHMS,  MD (Hom)\nbhms\n\n"))

    assert DoctorProfile.objects.get(pk=doctor_client.profile.pk).qualifications == ["BHMS", "MD (Hom)"]


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("postal_code", "041100", "A PIN code is 6 digits and does not start with 0."),
        ("consultation_fee", "-1", "Ensure this value is greater than or equal to 0."),
        ("experience_years", "90", "Ensure this value is less than or equal to 70."),
        ("latitude", "95", "Ensure this value is less than or equal to 90."),
        ("longitude", "", "Give both latitude and longitude, or neither."),
        ("specializations", ["homeopathic_surgery"], "Select a valid choice."),
        ("consultation_modes", ["teleport"], "Select a valid choice."),
    ],
)
def test_bad_input_gets_a_clear_error_and_nothing_is_saved(doctor_client, field, value, error):
    response = doctor_client.post(EDIT, form_data(**{field: value}))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(error in message for messages in errors.values() for message in messages), errors
    assert DoctorProfile.objects.get(pk=doctor_client.profile.pk).registration_number == ""
    assert b"Your profile is not saved yet." in response.content


def test_seeing_patients_in_person_needs_a_clinic_address(doctor_client):
    response = doctor_client.post(EDIT, form_data(clinic_address="", consultation_modes=["in_person"]))

    assert response.status_code == 400
    assert "clinic_address" in response.context["form"].errors


# --- the photo ------------------------------------------------------------------------------


def test_a_photo_is_stored_square_without_exif_under_a_random_name(doctor_client):
    photo = SimpleUploadedFile("asha-at-home.jpg", jpeg_with_gps(size=(1200, 900)), content_type="image/jpeg")

    response = doctor_client.post(EDIT, {**form_data(), "photo": photo})

    assert response.status_code == 302
    profile = DoctorProfile.objects.get(pk=doctor_client.profile.pk)
    assert profile.photo.name.startswith("doctors/photos/") and profile.photo.name.endswith(".jpg")
    assert "asha" not in profile.photo.name
    with default_storage.open(profile.photo.name) as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert (image.format, image.size) == ("JPEG", (512, 512))
    assert dict(image.getexif()) == {}


def test_a_web_page_posing_as_a_photo_is_refused_with_its_reason(doctor_client):
    fake = SimpleUploadedFile("me.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>")

    response = doctor_client.post(EDIT, {**form_data(), "photo": fake})

    assert response.status_code == 400
    assert "Web pages, SVG drawings and scripts cannot be uploaded" in response.context["form"].errors["photo"][0]
    assert not DoctorProfile.objects.get(pk=doctor_client.profile.pk).photo


def test_a_new_photo_replaces_the_old_file(doctor_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doctor_client.post(EDIT, {**form_data(), "photo": SimpleUploadedFile("a.jpg", image_bytes())})
    first = DoctorProfile.objects.get(pk=doctor_client.profile.pk).photo.name

    with django_capture_on_commit_callbacks(execute=True):
        doctor_client.post(EDIT, {**form_data(), "photo": SimpleUploadedFile("b.png", image_bytes("PNG"))})

    second = DoctorProfile.objects.get(pk=doctor_client.profile.pk).photo.name
    assert second != first
    assert default_storage.exists(second)
    assert not default_storage.exists(first)


def test_a_doctor_can_remove_their_photo(doctor_client, django_capture_on_commit_callbacks):
    doctor_client.post(EDIT, {**form_data(), "photo": SimpleUploadedFile("a.jpg", image_bytes())})
    old = DoctorProfile.objects.get(pk=doctor_client.profile.pk).photo.name

    with django_capture_on_commit_callbacks(execute=True):
        doctor_client.post(EDIT, {**form_data(), "remove_photo": "on"})

    assert not DoctorProfile.objects.get(pk=doctor_client.profile.pk).photo
    assert not default_storage.exists(old)


def photo_of(profile: DoctorProfile) -> DoctorProfile:
    checked = validate_upload(SimpleUploadedFile("p.jpg", image_bytes()), allowed={"image/jpeg"}, max_bytes=10**6)
    services.doctor_profile_update(profile=profile, by=profile.user, changes={}, photo=checked)
    return DoctorProfile.objects.get(pk=profile.pk)


def test_a_listed_doctors_photo_is_public_and_cached_for_a_day(client):
    profile = photo_of(DoctorProfileFactory())

    response = client.get(photo_url(profile))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_an_unlisted_doctors_photo_is_only_for_them_and_staff(client):
    profile = photo_of(new_doctor())
    url = photo_url(profile)

    assert client.get(url).status_code == 404
    client.force_login(PatientUserFactory())
    assert client.get(url).status_code == 404
    client.force_login(profile.user)
    response = client.get(url)
    assert (response.status_code, response["Cache-Control"]) == (200, "private, max-age=86400")
    client.force_login(StaffUserFactory())
    assert client.get(url).status_code == 200


def test_a_doctor_without_a_photo_has_no_photo_url_and_the_view_says_404(client):
    profile = DoctorProfileFactory()

    assert photo_url(profile) == ""
    assert client.get(reverse("doctors:doctor_photo", args=[profile.pk])).status_code == 404


def test_the_photo_url_changes_with_the_photo(client):
    profile = photo_of(DoctorProfileFactory())
    first = photo_url(profile)

    assert photo_url(photo_of(profile)) != first


# --- documents ---------------------------------------------------------------------------------


def test_a_doctor_uploads_a_document_stored_under_a_random_name(doctor_client):
    response = doctor_client.post(
        UPLOAD, {"kind": "registration", "file": SimpleUploadedFile("My Certificate.pdf", pdf_bytes())}
    )

    assert response.status_code == 302
    document = DoctorDocument.objects.get(doctor=doctor_client.profile.user)
    assert document.original_filename == "My Certificate.pdf"
    assert document.file.name == f"doctors/documents/{document.doctor_id}/{document.pk}"
    assert (document.content_type, document.kind) == ("application/pdf", "registration")
    assert AdminLog.objects.filter(table_name="doctor_documents", record_id=document.pk, action="create").exists()


def test_a_hostile_document_is_refused_and_nothing_is_stored(doctor_client):
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100

    response = doctor_client.post(UPLOAD, {"kind": "registration", "file": SimpleUploadedFile("cert.pdf", exe)})

    assert response.status_code == 400
    assert (
        "Only JPEG, PNG or WebP images and PDF documents can be uploaded here."
        in (response.context["document_form"].errors["file"][0])
    )
    assert not DoctorDocument.all_objects.exists()


def test_the_same_file_twice_is_refused(doctor_client):
    add_document(doctor_client.profile)

    response = doctor_client.post(UPLOAD, {"kind": "degree", "file": SimpleUploadedFile("again.pdf", pdf_bytes())})

    assert response.status_code == 400
    assert response.context["document_form"].errors["__all__"] == [services.DOCUMENT_DUPLICATE]


def test_a_draft_doctor_can_remove_a_document(doctor_client):
    document = add_document(doctor_client.profile)

    response = doctor_client.post(reverse("doctors:document_remove", args=[document.pk]))

    assert response.status_code == 302
    assert DoctorDocument.all_objects.get(pk=document.pk).is_deleted


def test_documents_stay_while_staff_check_them(client):
    profile = complete_doctor()
    document = DoctorDocument.objects.get(doctor=profile.user)
    services.doctor_submit_for_verification(profile=profile, by=profile.user)
    client.force_login(profile.user)

    response = client.post(reverse("doctors:document_remove", args=[document.pk]), follow=True)

    assert services.DOCUMENTS_LOCKED in response.content.decode()
    assert not DoctorDocument.all_objects.get(pk=document.pk).is_deleted


def test_another_doctor_cannot_remove_a_document(client):
    document = add_document(new_doctor())
    client.force_login(new_doctor().user)

    assert client.post(reverse("doctors:document_remove", args=[document.pk])).status_code == 404
    assert not DoctorDocument.all_objects.get(pk=document.pk).is_deleted


@pytest.mark.parametrize(
    "who, status",
    [
        ("owner", 200),
        ("other doctor", 404),
        ("patient", 404),
        ("staff", 200),
        ("anonymous", 302),
    ],
)
def test_who_may_download_a_document(client, who, status):
    profile = new_doctor()
    document = add_document(profile, name="Registration.pdf")
    users = {
        "owner": profile.user,
        "other doctor": new_doctor().user,
        "patient": PatientUserFactory(),
        "staff": StaffUserFactory(),
    }
    if who in users:
        client.force_login(users[who])

    response = client.get(reverse("doctors:document_download", args=[document.pk]))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))
    if status == 200:
        assert response["Content-Disposition"] == 'attachment; filename="Registration.pdf"'
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content) == pdf_bytes()


def test_staff_opening_a_document_is_audited_but_the_doctors_own_reads_are_not(client):
    profile = new_doctor()
    document = add_document(profile)
    staff = StaffUserFactory()

    client.force_login(profile.user)
    client.get(reverse("doctors:document_download", args=[document.pk]))
    client.force_login(staff)
    client.get(reverse("doctors:document_download", args=[document.pk]))

    views = AdminLog.objects.filter(table_name="doctor_documents", record_id=document.pk, action="view")
    assert [log.user for log in views] == [staff]


def test_a_removed_document_is_gone_for_the_doctor_but_kept_for_staff(client):
    profile = new_doctor()
    document = add_document(profile)
    services.doctor_document_remove(document=document, by=profile.user)
    url = reverse("doctors:document_download", args=[document.pk])

    client.force_login(profile.user)
    assert client.get(url).status_code == 404
    client.force_login(StaffUserFactory())
    assert client.get(url).status_code == 200


# --- submitting for verification ------------------------------------------------------------


def test_submitting_an_incomplete_profile_lists_what_is_missing(doctor_client):
    doctor_client.post(EDIT, form_data(consultation_fee="0"))

    response = doctor_client.post(SUBMIT, follow=True)

    assert (
        "Before you submit your profile for verification, add your consultation fee and "
        "your registration certificate (upload it under Documents)."
    ) in [str(message) for message in response.context["messages"]]
    assert DoctorProfile.objects.get(pk=doctor_client.profile.pk).verification_status == "draft"


def test_a_complete_profile_is_submitted_and_waits_for_staff(client):
    profile = complete_doctor()
    client.force_login(profile.user)

    response = client.post(SUBMIT)

    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.verification_status == "pending"
    assert profile.submitted_at is not None
    assert AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk, action="action").new_values == {
        "verification_status": "pending"
    }
    assert not ActiveDoctor.objects.filter(pk=profile.pk).exists()


@pytest.mark.parametrize("field", ["registration_number", "registration_council"])
def test_each_credential_is_required(field):
    profile = complete_doctor(**{field: ""})

    with pytest.raises(services.ProfileIncomplete) as refused:
        services.doctor_submit_for_verification(profile=profile, by=profile.user)

    assert len(refused.value.missing) == 1


@pytest.mark.parametrize(
    "changes, missing",
    [
        ({"qualifications": []}, "at least one qualification"),
        ({"specializations": []}, "at least one specialisation"),
        ({"consultation_modes": []}, "how you consult (chat, audio, video or in person)"),
        ({"consultation_fee": Decimal("0")}, "your consultation fee"),
    ],
)
def test_verification_needs_qualifications_specialisations_modes_and_a_fee(changes, missing):
    profile = complete_doctor(**changes)

    with pytest.raises(services.ProfileIncomplete) as refused:
        services.doctor_submit_for_verification(profile=profile, by=profile.user)

    assert refused.value.missing == [missing]


def test_a_degree_certificate_is_not_a_registration_certificate():
    profile = DoctorProfileFactory(verification_status="draft")
    add_document(profile, kind="degree")

    with pytest.raises(services.ProfileIncomplete) as refused:
        services.doctor_submit_for_verification(profile=profile, by=profile.user)

    assert refused.value.missing == ["your registration certificate (upload it under Documents)"]


def test_a_pending_profile_cannot_be_submitted_twice():
    profile = complete_doctor()
    services.doctor_submit_for_verification(profile=profile, by=profile.user)

    with pytest.raises(services.DoctorVerificationError, match=services.ALREADY_PENDING):
        services.doctor_submit_for_verification(profile=profile, by=profile.user)


def test_a_rejected_doctor_submits_again_and_the_old_reason_is_cleared():
    profile = complete_doctor()
    profile.verification_status, profile.rejection_reason = "rejected", "Number not on the register."
    profile.save()

    services.doctor_submit_for_verification(profile=profile, by=profile.user)

    profile.refresh_from_db()
    assert (profile.verification_status, profile.rejection_reason) == ("pending", "")


def test_only_the_doctor_submits_their_own_profile():
    profile = complete_doctor()

    with pytest.raises(PermissionDenied):
        services.doctor_submit_for_verification(profile=profile, by=DoctorUserFactory())


# --- a verified doctor changing credentials ---------------------------------------------------


def test_a_verified_doctor_is_warned_before_changing_credentials(client):
    profile = DoctorProfileFactory()
    client.force_login(profile.user)

    html = client.get(EDIT).content.decode()

    assert "Changing your registration number or council sends your profile back to our staff" in html


def verified_form(profile: DoctorProfile, **overrides) -> dict:
    same = {"registration_number": profile.registration_number, "registration_council": profile.registration_council}
    return form_data(**{**same, **overrides})


def test_changing_the_registration_number_sends_a_verified_doctor_back_to_pending(client):
    profile = DoctorProfileFactory(verified_by=StaffUserFactory())
    assert ActiveDoctor.objects.filter(pk=profile.pk).exists()
    client.force_login(profile.user)

    response = client.post(EDIT, verified_form(profile, registration_number="MH-HOM-99999"), follow=True)

    profile.refresh_from_db()
    assert (profile.verification_status, profile.verified_at, profile.verified_by) == ("pending", None, None)
    assert not ActiveDoctor.objects.filter(pk=profile.pk).exists()
    assert "it is back with our staff for verification" in response.content.decode()
    log = AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk)
    assert (log.old_values["verification_status"], log.new_values["verification_status"]) == ("verified", "pending")
    assert log.new_values["registration_number"] == "MH-HOM-99999"
    assert Notification.objects.filter(user=profile.user, kind="doctor_verification").exists()


def test_changing_the_council_also_sends_them_back(client):
    profile = DoctorProfileFactory()
    client.force_login(profile.user)

    client.post(EDIT, verified_form(profile, registration_council="Central Council of Homoeopathy"))

    assert DoctorProfile.objects.get(pk=profile.pk).verification_status == "pending"


def test_changing_only_the_bio_keeps_a_doctor_verified(client):
    profile = DoctorProfileFactory()
    client.force_login(profile.user)

    client.post(EDIT, verified_form(profile, bio="Now also seeing patients on Saturdays."))

    profile.refresh_from_db()
    assert (profile.verification_status, profile.bio) == ("verified", "Now also seeing patients on Saturdays.")
    assert ActiveDoctor.objects.filter(pk=profile.pk).exists()


# --- the page's cost -------------------------------------------------------------------------


def test_the_profile_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    profile = photo_of(new_doctor())
    client.force_login(profile.user)
    client.get(EDIT)  # the session's first request writes its idle-timeout clock

    for count in (1, 15):
        while DoctorDocument.objects.filter(doctor=profile.user).count() < count:
            add_document(profile, data=image_bytes(size=(100 + DoctorDocument.objects.count(), 80)), name="scan.jpg")
        # 1 session, 2 user, 3 unread notifications (header badge), 4 the profile,
        # 5 the documents (checklist computed from them, no query of its own)
        with django_assert_num_queries(5):
            response = client.get(EDIT)
        assert len(response.context["documents"]) == count

"""The consultation room's page: who sees it, the history and its cursor, the
no-JavaScript composer, file attachments and the page's query budget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory
from consultations import messaging
from consultations.models import Message, MessageType
from consultations.tests.factories import ConsultationFactory, MessageFactory
from dhanwantari.uploads import MARKUP
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from records.models import Category, FileUpload
from records.tests.factories import image_bytes

pytestmark = pytest.mark.django_db

HTML_AS_PNG = b"\x89PNG\r\n\x1a\n<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


@pytest.fixture
def consultation(patient, doctor):
    return ConsultationFactory(patient=patient, doctor=doctor, mode="video", status="in_progress")


def room_url(consultation, **query) -> str:
    url = reverse("consultations:room", args=[consultation.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def attachment_url(consultation) -> str:
    return reverse("consultations:room_attachment", args=[consultation.pk])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def conversation(consultation, count: int) -> list[Message]:
    """`count` messages, alternating sender, a second apart (oldest first)."""
    start = timezone.now() - timedelta(hours=1)
    rows = []
    for n in range(count):
        sender = consultation.patient if n % 2 == 0 else consultation.doctor
        rows.append(MessageFactory(consultation=consultation, sender=sender, body=f"message number {n:03d}"))
    for n, row in enumerate(rows):
        Message.objects.filter(pk=row.pk).update(created_at=start + timedelta(seconds=n))
    return list(Message.objects.filter(consultation=consultation).order_by("created_at", "id"))


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- who sees the room ---------------------------------------------------------------------


def test_the_patient_and_the_doctor_see_the_room(consultation, patient, doctor):
    for user, other in ((patient, "Dr. Asha Kulkarni"), (doctor, "Meera Iyer")):
        response = signed_in(user).get(room_url(consultation))
        html = response.content.decode()
        assert response.status_code == 200
        assert f'<h1 class="room__name" id="room-title">{other}</h1>' in html
        assert f'data-ws-path="/ws/consultations/{consultation.pk}/"' in html
        assert reverse("consultations:detail", args=[consultation.pk]) in html
        # A video consultation carries the call panel and its script.
        assert "data-call-start" in html and "js/room-call.js" in html


def test_a_chat_consultation_has_no_call_panel(patient, doctor):
    chat = ConsultationFactory(patient=patient, doctor=doctor, mode="chat", status="in_progress")

    html = signed_in(patient).get(room_url(chat)).content.decode()

    assert '<section id="call" data-call-panel hidden></section>' in html
    assert "room-call.js" not in html


@pytest.mark.parametrize(
    "outsider",
    [
        pytest.param(lambda: PatientProfileFactory().user, id="another patient"),
        pytest.param(lambda: DoctorProfileFactory().user, id="another doctor"),
        pytest.param(StaffUserFactory, id="staff"),
    ],
)
def test_anyone_else_gets_404(consultation, outsider):
    client = signed_in(outsider())
    assert client.get(room_url(consultation)).status_code == 404
    assert client.post(room_url(consultation), {"body": "hello"}).status_code == 404
    assert client.post(attachment_url(consultation), {}).status_code == 404
    assert not Message.objects.exists()


def test_a_missing_consultation_is_404_like_a_forbidden_one(patient):
    assert signed_in(patient).get(reverse("consultations:room", args=["con_missing"])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(consultation):
    response = Client().get(room_url(consultation))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_attachment_address_takes_only_post(consultation, patient):
    assert signed_in(patient).get(attachment_url(consultation)).status_code == 405


def test_the_consultation_page_leads_to_the_room(consultation, patient):
    html = signed_in(patient).get(reverse("consultations:detail", args=[consultation.pk])).content.decode()
    assert f'href="{room_url(consultation)}" data-room-link' in html


# --- history -------------------------------------------------------------------------------


def test_the_latest_page_of_history_is_shown_oldest_first_with_a_link_to_older(consultation, patient):
    rows = conversation(consultation, 60)
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    shown = [row for row in rows if f'data-message-id="{row.pk}"' in html]
    assert shown == rows[10:]  # the latest 50
    assert html.index("message number 010") < html.index("message number 059")
    assert f'href="?before={rows[10].pk}" data-older' in html


def test_the_older_link_walks_back_to_the_start(consultation, patient):
    rows = conversation(consultation, 60)
    html = signed_in(patient).get(room_url(consultation, before=rows[10].pk)).content.decode()
    assert [row for row in rows if f'data-message-id="{row.pk}"' in html] == rows[:10]
    assert "data-older" not in html
    assert "Back to the latest messages" in html


def test_an_unknown_cursor_is_404(consultation, patient):
    conversation(consultation, 2)
    other = MessageFactory()
    assert signed_in(patient).get(room_url(consultation, before=other.pk)).status_code == 404


def test_my_messages_carry_their_receipt_and_text_is_escaped(consultation, patient, doctor):
    read = MessageFactory(consultation=consultation, sender=patient, body="<b>bold</b> & more")
    Message.objects.filter(pk=read.pk).update(delivered_at=timezone.now(), read_at=timezone.now())
    MessageFactory(consultation=consultation, sender=doctor, body="Since when?")
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<b>bold</b>" not in html
    assert 'data-ticks="read">✓✓ Read</span>' in html
    assert html.count("data-ticks=") == 1  # the doctor's message has none for the patient


def test_system_messages_are_shown_without_a_sender(consultation, patient):
    messaging.system_message(consultation=consultation, body="Video call ended after 12 min")
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert 'class="msg msg--system"' in html
    assert "Video call ended after 12 min" in html


def test_reading_the_page_marks_nothing_read(consultation, patient, doctor):
    MessageFactory(consultation=consultation, sender=doctor)
    signed_in(patient).get(room_url(consultation))
    assert Message.objects.get().read_at is None


@pytest.mark.parametrize("count", [3, 60])
def test_the_room_takes_a_fixed_number_of_queries(consultation, patient, count, django_assert_num_queries):
    conversation(consultation, count)
    client = signed_in(patient)
    # 1 session, 2 user, 3 the consultation with both profiles and the unread
    # count, 4 the page of messages with their senders, 5 the header's
    # notification badge, 6 the header's own profile (the account menu's name),
    # 7-9 the idle-timeout stamp written back to the session (savepoint,
    # update, release). None of them grows with the messages.
    with django_assert_num_queries(9):
        response = client.get(room_url(consultation))
    assert response.status_code == 200


# --- the composer without JavaScript -----------------------------------------------------------


def test_a_message_posted_without_javascript_is_saved_through_messaging(consultation, patient):
    response = signed_in(patient).post(room_url(consultation), {"body": "  The headache is back  "})
    assert response.status_code == 302
    assert response["Location"] == room_url(consultation) + "#composer"
    message = Message.objects.get()
    assert (message.sender, message.body, message.message_type) == (patient, "The headache is back", "text")


def test_an_empty_message_is_refused_with_the_reason(consultation, patient):
    response = signed_in(patient).post(room_url(consultation), {"body": "   "}, follow=True)
    assert messaging.MESSAGE_EMPTY in flashed(response)
    assert not Message.objects.exists()


def test_a_finished_consultation_is_read_only(consultation, patient):
    MessageFactory(consultation=consultation, sender=patient, body="Thank you doctor")
    consultation.status = "completed"
    consultation.save(update_fields=["status"])
    client = signed_in(patient)
    html = client.get(room_url(consultation)).content.decode()
    assert "Thank you doctor" in html
    assert "data-composer" not in html
    assert "This consultation is completed, so its chat is read-only." in html

    response = client.post(room_url(consultation), {"body": "One more thing"}, follow=True)
    assert "This consultation is completed, so its chat is read-only." in flashed(response)
    assert Message.objects.count() == 1


def test_the_room_page_has_no_inline_script_or_style(consultation, patient):
    conversation(consultation, 3)
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html


# --- attachments ---------------------------------------------------------------------------


def png(name="rash.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(), content_type="image/png")


def test_an_image_becomes_an_attachment_message_in_the_records(consultation, patient):
    response = signed_in(patient).post(attachment_url(consultation), {"file": png()}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    upload = FileUpload.objects.get()
    message = Message.objects.get()
    assert (upload.patient, upload.consultation, upload.category) == (patient, consultation, Category.PHOTO)
    assert (message.message_type, message.attachment, message.sender) == (MessageType.ATTACHMENT, upload, patient)
    assert message.metadata == {
        "name": "rash.png",
        "content_type": "image/png",
        "size": upload.size_bytes,
        "thumbnail": True,
    }
    assert response.json()["message"]["id"] == message.pk

    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert f'src="{reverse("records:thumbnail", args=[upload.pk])}"' in html
    assert f'href="{reverse("records:view", args=[upload.pk])}"' in html
    assert "/media/" not in html


def test_the_doctor_sends_a_file_into_the_patients_records(consultation, patient, doctor):
    signed_in(doctor).post(attachment_url(consultation), {"file": png("chart.png")})
    upload = FileUpload.objects.get()
    assert (upload.patient, upload.consultation) == (patient, consultation)
    assert Message.objects.get().sender == doctor


def test_html_dressed_as_a_png_is_refused_with_the_reason_and_nothing_kept(consultation, patient, settings):
    disguised = SimpleUploadedFile("cat.png", HTML_AS_PNG, content_type="image/png")
    response = signed_in(patient).post(
        attachment_url(consultation), {"file": disguised}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"error": MARKUP}
    assert not FileUpload.objects.exists()
    assert not Message.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_refused_file_without_javascript_comes_back_with_the_reason(consultation, patient):
    disguised = SimpleUploadedFile("cat.png", HTML_AS_PNG, content_type="image/png")
    response = signed_in(patient).post(attachment_url(consultation), {"file": disguised}, follow=True)
    assert MARKUP in flashed(response)
    assert not Message.objects.exists()


def test_no_file_is_taken_into_a_closed_room(consultation, patient):
    consultation.status = "cancelled"
    consultation.save(update_fields=["status"])
    response = signed_in(patient).post(attachment_url(consultation), {"file": png()}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "read-only" in response.json()["error"]
    assert not FileUpload.objects.exists()
    assert not Message.objects.exists()


def test_attachment_send_refuses_another_patients_file(consultation, patient):
    from records.services import files_upload

    stranger = PatientProfileFactory().user
    upload = files_upload(patient=stranger, by=stranger, files=[png()]).stored[0]
    with pytest.raises(messaging.InvalidMessage):
        messaging.attachment_send(consultation=consultation, sender=patient, upload=upload)
    assert not Message.objects.exists()


# --- unread counts follow the room's receipts ----------------------------------------------------


def test_messages_read_in_the_room_leave_the_unread_counts(consultation, patient, doctor):
    from consultations import queries

    rows = [MessageFactory(consultation=consultation, sender=doctor, body=f"Question {n}") for n in range(3)]
    MessageFactory(consultation=consultation, sender=patient)
    unread = lambda: queries.participant_consultation(user=patient, consultation_id=consultation.pk).unread  # noqa: E731
    assert unread() == 3

    # What the socket's `read` frame does, up to the second of the doctor's messages.
    messaging.messages_mark_read(consultation=consultation, reader=patient, up_to_id=rows[1].pk)
    assert unread() == 1
    dashboard = signed_in(patient).get(reverse("consultations:dashboard")).context["dash"]
    assert dashboard.unread_messages == 1
    assert [c.unread for c in dashboard.upcoming] == [1]

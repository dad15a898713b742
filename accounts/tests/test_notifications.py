"""Notifications: sending and delivering them, the notification centre, and the
email/SMS settings.

The cast: `patient` (email, no phone), `texter` (email and a verified phone)
and `outsider`, whose notifications nobody else may see or touch.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services, sms
from accounts.models import Notification, NotificationPreference
from accounts.notifications import KINDS, kinds_for
from accounts.services import Delivery
from accounts.tasks import deliver_notification
from accounts.tests.factories import NotificationFactory, PatientUserFactory
from patients.tests.factories import patient_with_profile

pytestmark = pytest.mark.django_db

SITE_URL = "https://dhanwantari.example"
LIST_URL = reverse("accounts:notifications")
PREFERENCES_URL = reverse("accounts:notification_preferences")
READ_ALL_URL = reverse("accounts:notifications_read_all")


def read_url(notification: Notification) -> str:
    return reverse("accounts:notification_read", args=[notification.pk])


def open_url(notification: Notification) -> str:
    return reverse("accounts:notification_open", args=[notification.pk])


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def patient():
    return patient_with_profile(full_name="Asha Rao")


@pytest.fixture
def texter():
    return PatientUserFactory(phone="+919812345678", phone_verified=True)


@pytest.fixture
def outsider():
    return PatientUserFactory()


class FakeGateway:
    """Stands in for the SMS backend: records texts, or fails like a gateway that is down."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failing = False

    def send(self, *, to: str, message: str) -> None:
        if self.failing:
            raise sms.SMSError("SMS gateway answered 500.")
        self.sent.append((to, message))


@pytest.fixture
def texts(monkeypatch) -> FakeGateway:
    gateway = FakeGateway()
    monkeypatch.setattr(sms, "get_sms_backend", lambda: gateway)
    return gateway


def send(django_capture_on_commit_callbacks, **kwargs) -> Notification:
    """notification_send in a transaction that commits, as a request or task would."""
    kwargs.setdefault("kind", "consultation_booked")
    kwargs.setdefault("title", "Your consultation with Dr. Meera Kulkarni is booked")
    kwargs.setdefault("body", "Thursday 4 December at 10:30. You can chat with your doctor before then.")
    kwargs.setdefault("deeplink", "/consultations/cns_01/")
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_send(**kwargs)
    notification.refresh_from_db()
    return notification


# --- notification_send ---------------------------------------------------------------


def test_sending_stores_the_notification_for_the_user(patient, django_capture_on_commit_callbacks):
    notification = send(django_capture_on_commit_callbacks, user=patient, data={"consultation_id": "cns_01"})

    stored = Notification.objects.get()
    assert stored == notification
    assert stored.user == patient
    assert stored.kind == "consultation_booked"
    assert stored.title == "Your consultation with Dr. Meera Kulkarni is booked"
    assert stored.deeplink == "/consultations/cns_01/"
    assert stored.data == {"consultation_id": "cns_01"}
    assert stored.read_at is None


def test_sending_an_unknown_kind_is_refused_and_stores_nothing(patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValueError, match="Unknown notification"):
        services.notification_send(user=patient, kind="no_such_kind", title="Hello")

    assert not Notification.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(
    "deeplink",
    ["https://evil.example/login", "//evil.example/login", "/\\evil.example", "javascript:alert(1)", "consultations/1"],
)
def test_sending_a_deeplink_off_the_site_is_refused_and_stores_nothing(
    deeplink, patient, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError) as error:
        services.notification_send(user=patient, kind="consultation_booked", title="Booked", deeplink=deeplink)

    assert "deeplink" in error.value.message_dict
    assert not Notification.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


def test_email_goes_out_only_after_the_transaction_commits(patient, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = services.notification_send(user=patient, kind="consultation_booked", title="Booked")
        assert mailoutbox == [], "nothing may be sent while the transaction can still roll back"

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_nothing_is_emailed_when_the_transaction_rolls_back(patient, mailoutbox, django_capture_on_commit_callbacks):
    class Rollback(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(Rollback),
        transaction.atomic(),
    ):
        services.notification_send(user=patient, kind="consultation_booked", title="Booked")
        raise Rollback

    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_the_email_has_the_title_body_and_absolute_deeplink(patient, mailoutbox, django_capture_on_commit_callbacks):
    send(django_capture_on_commit_callbacks, user=patient)

    (email,) = mailoutbox
    assert email.to == [patient.email]
    assert email.subject == "Dhanwantari: Your consultation with Dr. Meera Kulkarni is booked"
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    for part in (email.body, html):
        assert "Your consultation with Dr. Meera Kulkarni is booked" in part
        assert "Thursday 4 December at 10:30." in part
        assert f"{SITE_URL}/consultations/cns_01/" in part
        assert f"{SITE_URL}/account/notifications/" in part
    assert f'href="{SITE_URL}/consultations/cns_01/"' in html


def test_the_email_says_nothing_about_the_person_beyond_the_notification(
    mailoutbox, django_capture_on_commit_callbacks
):
    # The profile holds a name, allergies and medications; none of it belongs in an email.
    user = patient_with_profile(full_name="Asha Rao", allergies=[{"name": "Sulphur", "severity": "severe"}])
    send(django_capture_on_commit_callbacks, user=user)

    (email,) = mailoutbox
    for part in (email.body, email.alternatives[0][0]):
        assert "Asha" not in part
        assert "Sulphur" not in part
        assert "XYZ" not in part  # the factory's medication


def test_the_plain_text_email_is_not_html_escaped_and_the_html_one_is(
    patient, mailoutbox, django_capture_on_commit_callbacks
):
    send(django_capture_on_commit_callbacks, user=patient, title="Dr. D'Souza's reply <b>now</b>", body="A & B")

    (email,) = mailoutbox
    assert "Dr. D'Souza's reply <b>now</b>" in email.body
    assert "A & B" in email.body
    html = email.alternatives[0][0]
    assert "<b>now</b>" not in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html
    assert "A &amp; B" in html


def test_a_notification_without_deeplink_links_to_the_notification_centre(
    patient, mailoutbox, django_capture_on_commit_callbacks
):
    send(django_capture_on_commit_callbacks, user=patient, deeplink="")

    assert f"{SITE_URL}/notifications/" in mailoutbox[0].body


@pytest.mark.parametrize("kind", [name for name, spec in KINDS.items() if not spec.email])
def test_a_kind_that_is_not_emailed_by_default_sends_no_email(
    kind, patient, mailoutbox, django_capture_on_commit_callbacks
):
    notification = send(django_capture_on_commit_callbacks, user=patient, kind=kind)

    assert mailoutbox == []
    assert notification.emailed_at is None


def test_a_user_who_switched_email_off_gets_none(patient, mailoutbox, django_capture_on_commit_callbacks):
    services.notification_preferences_update(
        user=patient, choices={"consultation_booked": Delivery(email=False, sms=False)}
    )

    notification = send(django_capture_on_commit_callbacks, user=patient)

    assert mailoutbox == []
    assert notification.emailed_at is None


@pytest.mark.parametrize("kind", [name for name, spec in KINDS.items() if spec.mandatory])
def test_a_security_notice_is_emailed_even_if_email_was_switched_off(
    kind, patient, mailoutbox, django_capture_on_commit_callbacks
):
    # Written straight to the table: the service would not even store this choice.
    NotificationPreference.objects.create(user=patient, kind=kind, email=False, sms=False)

    send(django_capture_on_commit_callbacks, user=patient, kind=kind, title="New sign-in to your account")

    assert len(mailoutbox) == 1
    assert "always send these" in mailoutbox[0].body


def test_a_user_without_an_email_address_gets_no_email(texts, mailoutbox, django_capture_on_commit_callbacks):
    phone_only = PatientUserFactory(email=None, phone="+919812345670", phone_verified=True)

    notification = send(django_capture_on_commit_callbacks, user=phone_only, kind="consultation_reminder")

    assert mailoutbox == []
    assert notification.emailed_at is None
    assert texts.sent == [("+919812345670", "Dhanwantari: Your consultation with Dr. Meera Kulkarni is booked")]


# --- SMS -----------------------------------------------------------------------------------


def test_an_opted_in_kind_is_texted_to_a_verified_phone(texter, texts, django_capture_on_commit_callbacks):
    services.notification_preferences_update(
        user=texter, choices={"consultation_booked": Delivery(email=True, sms=True)}
    )

    notification = send(django_capture_on_commit_callbacks, user=texter, title="Booked for Thursday 10:30")

    assert texts.sent == [("+919812345678", "Dhanwantari: Booked for Thursday 10:30")]
    assert notification.sms_sent_at is not None


def test_a_kind_texted_by_default_is_texted_without_a_saved_choice(texter, texts, django_capture_on_commit_callbacks):
    send(django_capture_on_commit_callbacks, user=texter, kind="consultation_reminder", title="Consultation in 1 hour")

    assert texts.sent == [("+919812345678", "Dhanwantari: Consultation in 1 hour")]


def test_no_text_without_opting_in(texter, texts, django_capture_on_commit_callbacks):
    notification = send(django_capture_on_commit_callbacks, user=texter, kind="consultation_booked")

    assert texts.sent == []
    assert notification.sms_sent_at is None


def test_no_text_to_an_unverified_phone(texts, django_capture_on_commit_callbacks):
    unverified = PatientUserFactory(phone="+919812345671", phone_verified=False)

    notification = send(django_capture_on_commit_callbacks, user=unverified, kind="consultation_reminder")

    assert texts.sent == []
    assert notification.sms_sent_at is None


def test_no_text_for_a_kind_that_does_not_allow_sms_even_if_the_table_says_so(
    texter, texts, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=texter, kind="payment_received", email=True, sms=True)

    notification = send(django_capture_on_commit_callbacks, user=texter, kind="payment_received", title="Paid")

    assert texts.sent == []
    assert notification.sms_sent_at is None
    assert len(mailoutbox) == 1


def test_delivering_twice_sends_one_email_and_one_text(texter, texts, mailoutbox, django_capture_on_commit_callbacks):
    notification = send(django_capture_on_commit_callbacks, user=texter, kind="consultation_reminder")
    first = (notification.emailed_at, notification.sms_sent_at)

    deliver_notification.call(notification.pk)
    deliver_notification.enqueue(notification.pk)

    assert len(mailoutbox) == 1
    assert len(texts.sent) == 1
    notification.refresh_from_db()
    assert (notification.emailed_at, notification.sms_sent_at) == first
    assert None not in first


def test_a_gateway_failure_leaves_the_email_sent_and_the_notification_intact(
    texter, texts, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    texts.failing = True

    notification = send(django_capture_on_commit_callbacks, user=texter, kind="consultation_reminder")

    assert len(mailoutbox) == 1
    assert texts.sent == []
    assert notification.emailed_at is not None
    assert notification.sms_sent_at is None
    assert notification.read_at is None
    assert f"SMS for notification {notification.pk} failed" in caplog.text

    # The stamp says "not sent", so a later run texts and still does not email again.
    texts.failing = False
    deliver_notification.call(notification.pk)
    assert len(texts.sent) == 1
    assert len(mailoutbox) == 1


def test_an_email_failure_still_texts_and_leaves_email_unclaimed(
    texter, texts, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        notification = services.notification_send(user=texter, kind="consultation_reminder", title="In 1 hour")

    def smtp_down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", smtp_down)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        deliver_notification.call(notification.pk)

    notification.refresh_from_db()
    assert notification.emailed_at is None
    assert notification.sms_sent_at is not None
    assert len(texts.sent) == 1


def test_delivering_a_notification_that_no_longer_exists_does_nothing(mailoutbox):
    deliver_notification.call("ntf_01NOSUCHNOTIFICATION0000000")

    assert mailoutbox == []


# --- the notification centre ------------------------------------------------------------


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client


def at(hours_ago: float) -> datetime:
    return timezone.now() - timedelta(hours=hours_ago)


def test_the_list_shows_only_my_notifications_newest_first(patient_client, patient, outsider):
    NotificationFactory(user=patient, title="Two days ago", created_at=at(48))
    NotificationFactory(user=patient, title="Just now", created_at=at(0))
    NotificationFactory(user=patient, title="Three hours ago", created_at=at(3))
    NotificationFactory(user=outsider, title="Someone else's prescription", created_at=at(1))

    response = patient_client.get(LIST_URL)

    assert response.status_code == 200
    assert [n.title for n in response.context["page"]] == ["Just now", "Three hours ago", "Two days ago"]
    html = response.content.decode()
    assert "Someone else" not in html
    assert html.index("Just now") < html.index("Three hours ago") < html.index("Two days ago")


def test_the_list_shows_relative_time_and_the_exact_time_in_my_zone(patient_client, patient):
    patient.timezone = "America/New_York"
    patient.save(update_fields=["timezone"])
    NotificationFactory(user=patient, title="Recent", created_at=at(3))
    NotificationFactory(user=patient, title="Fixed", created_at=datetime(2025, 1, 15, 15, 30, tzinfo=UTC))

    html = patient_client.get(LIST_URL).content.decode()

    assert ">3\xa0hours ago</time>" in html
    assert 'datetime="2025-01-15T10:30:00-05:00"' in html
    assert 'title="15 Jan 2025, 10:30 AM EST"' in html


def test_an_unknown_time_zone_falls_back_to_the_site_zone(patient_client, patient):
    patient.timezone = "Mars/Olympus_Mons"
    patient.save(update_fields=["timezone"])
    NotificationFactory(user=patient, created_at=datetime(2025, 1, 15, 15, 30, tzinfo=UTC))

    response = patient_client.get(LIST_URL)

    assert response.status_code == 200
    assert 'datetime="2025-01-15T21:00:00+05:30"' in response.content.decode()


def test_unread_notifications_are_marked_and_have_a_mark_read_button(patient_client, patient):
    unread = NotificationFactory(user=patient, title="Unread one")
    read = NotificationFactory(user=patient, title="Read one", read_at=timezone.now())

    html = patient_client.get(LIST_URL).content.decode()

    assert html.count('class="ntf ntf--unread"') == 1
    assert "Unread: </span>Unread one" in html
    assert f'action="{read_url(unread)}"' in html
    assert f'action="{read_url(read)}"' not in html
    assert f'action="{READ_ALL_URL}"' in html


def test_the_open_button_is_only_there_for_a_notification_with_a_deeplink(patient_client, patient):
    linked = NotificationFactory(user=patient, deeplink="/consultations/cns_01/")
    plain = NotificationFactory(user=patient, deeplink="")

    html = patient_client.get(LIST_URL).content.decode()

    assert f'action="{open_url(linked)}"' in html
    assert f'action="{open_url(plain)}"' not in html


def test_every_button_on_the_list_posts_with_a_csrf_token(patient_client, patient):
    NotificationFactory.create_batch(3, user=patient)

    html = patient_client.get(LIST_URL).content.decode()

    forms = re.findall(r'<form\b[^>]*action="/notifications/[^"]*"[^>]*>.*?</form>', html, flags=re.S)
    assert len(forms) == 1 + 3 * 2  # mark all, then open and mark read for each
    for form in forms:
        assert 'method="post"' in form
        assert 'name="csrfmiddlewaretoken"' in form


def test_when_everything_is_read_there_is_no_mark_all_button(patient_client, patient):
    NotificationFactory(user=patient, read_at=timezone.now())

    html = patient_client.get(LIST_URL).content.decode()

    assert f'action="{READ_ALL_URL}"' not in html
    assert "You are all caught up." in html


def test_an_empty_list_says_so_and_links_to_the_settings(patient_client):
    response = patient_client.get(LIST_URL)

    html = response.content.decode()
    assert "No notifications yet" in html
    assert f'href="{PREFERENCES_URL}"' in html


def test_the_list_is_paginated(patient_client, patient):
    for hours in range(25):
        NotificationFactory(user=patient, title=f"Notification {hours}h", created_at=at(hours))

    first = patient_client.get(LIST_URL)
    second = patient_client.get(LIST_URL, {"page": 2})

    assert len(first.context["page"]) == 20
    assert 'href="?page=2"' in first.content.decode()
    assert [n.title for n in second.context["page"]] == [f"Notification {h}h" for h in range(20, 25)]
    assert 'href="?page=1"' in second.content.decode()
    # A page past the end, or not a number, shows a page rather than an error.
    assert patient_client.get(LIST_URL, {"page": 99}).context["page"].number == 2
    assert patient_client.get(LIST_URL, {"page": "x"}).context["page"].number == 1


def test_the_pages_have_no_inline_script_or_style(patient_client, patient):
    NotificationFactory(user=patient)

    for url in (LIST_URL, PREFERENCES_URL):
        html = patient_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "style=" not in html, url


def test_the_list_runs_the_same_queries_for_2_and_for_40_notifications(patient_client, patient):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert patient_client.get(LIST_URL).status_code == 200
        return len(captured)

    # The first request of a session also writes the session's idle clock.
    patient_client.get(LIST_URL)
    NotificationFactory.create_batch(2, user=patient)
    with_two = queries_for_list()
    NotificationFactory.create_batch(38, user=patient)
    with_forty = queries_for_list()

    assert with_two == with_forty
    # The session, the user, one aggregate for the page's and the unread count (shared
    # with the header badge), the page's rows, and the header's profile for the name.
    assert with_forty <= 5


def test_the_list_counts_everything_and_the_unread_in_one_query_shared_with_the_badge(patient_client, patient):
    NotificationFactory.create_batch(3, user=patient)
    NotificationFactory(user=patient, read_at=timezone.now())
    patient_client.get(LIST_URL)  # the session's first request also saves its idle clock

    with CaptureQueriesContext(connection) as captured:
        response = patient_client.get(LIST_URL)

    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert response.context["page"].paginator.count == 4
    assert response.context["unread_notifications"] == 3


def test_the_unread_badge_counts_my_unread_notifications(patient_client, patient, outsider):
    NotificationFactory.create_batch(3, user=patient)
    NotificationFactory(user=patient, read_at=timezone.now())
    NotificationFactory.create_batch(2, user=outsider)

    response = patient_client.get(LIST_URL)

    assert response.context["unread_notifications"] == 3
    assert "3 unread" in response.content.decode()


@pytest.mark.parametrize("url", [LIST_URL, PREFERENCES_URL])
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(f"{reverse('account_login')}?next={url}")


def test_a_visitor_who_is_not_signed_in_cannot_mark_anything_read(client, patient):
    notification = NotificationFactory(user=patient)

    response = client.post(read_url(notification))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    notification.refresh_from_db()
    assert notification.read_at is None


# --- marking read ----------------------------------------------------------------------


def test_marking_my_notification_read(patient_client, patient):
    notification = NotificationFactory(user=patient)

    response = patient_client.post(read_url(notification))

    assert response.status_code == 302
    assert response.url == LIST_URL
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_read_returns_to_the_same_page_of_the_list(patient_client, patient):
    notification = NotificationFactory(user=patient)

    assert patient_client.post(read_url(notification), {"page": "2"}).url == f"{LIST_URL}?page=2"
    assert patient_client.post(read_url(notification), {"page": "//evil.example"}).url == LIST_URL


def test_marking_read_again_keeps_the_first_time(patient_client, patient):
    first_read = timezone.now() - timedelta(days=1)
    notification = NotificationFactory(user=patient, read_at=first_read)

    patient_client.post(read_url(notification))

    notification.refresh_from_db()
    assert notification.read_at == first_read


@pytest.mark.parametrize("url_for", [read_url, open_url])
def test_someone_elses_notification_is_not_found_and_stays_unread(patient_client, outsider, url_for):
    theirs = NotificationFactory(user=outsider)

    response = patient_client.post(url_for(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_all_read_touches_only_my_notifications(patient_client, patient, outsider):
    mine = NotificationFactory.create_batch(3, user=patient)
    theirs = NotificationFactory(user=outsider)

    response = patient_client.post(READ_ALL_URL, follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    assert "Marked 3 notifications as read." in response.content.decode()
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "url_name", ["accounts:notification_read", "accounts:notification_open", "accounts:notifications_read_all"]
)
def test_marking_read_needs_a_post(patient_client, patient, url_name):
    notification = NotificationFactory(user=patient)
    args = [] if url_name.endswith("read_all") else [notification.pk]

    response = patient_client.get(reverse(url_name, args=args))

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.fixture
def csrf_client(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    return client


@pytest.mark.parametrize(
    "url_name", ["accounts:notification_read", "accounts:notification_open", "accounts:notifications_read_all"]
)
def test_marking_read_without_a_csrf_token_is_forbidden(csrf_client, patient, url_name):
    notification = NotificationFactory(user=patient)
    args = [] if url_name.endswith("read_all") else [notification.pk]

    response = csrf_client.post(reverse(url_name, args=args))

    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_with_the_pages_csrf_token_works(csrf_client, patient):
    notification = NotificationFactory(user=patient)
    csrf_client.get(LIST_URL)

    response = csrf_client.post(read_url(notification), {"csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value})

    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


# --- opening ---------------------------------------------------------------------------


def test_opening_follows_the_deeplink_and_marks_read(patient_client, patient):
    notification = NotificationFactory(user=patient, deeplink="/consultations/cns_01/?tab=chat")

    response = patient_client.post(open_url(notification))

    assert response.status_code == 302
    assert response.url == "/consultations/cns_01/?tab=chat"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_a_notification_without_deeplink_returns_to_the_list(patient_client, patient):
    notification = NotificationFactory(user=patient, deeplink="")

    response = patient_client.post(open_url(notification))

    assert response.url == LIST_URL


@pytest.mark.parametrize(
    "forged", ["//evil.example", "//evil.example/path", "https://evil.example/", "/\\evil.example", "/\t/evil.example"]
)
def test_a_deeplink_forced_off_the_site_in_the_database_is_not_followed(patient_client, patient, forged):
    notification = NotificationFactory(user=patient)
    # QuerySet.update skips clean(): this is what a bug or a bad migration could leave behind.
    Notification.objects.filter(pk=notification.pk).update(deeplink=forged)

    response = patient_client.post(open_url(notification))

    assert response.status_code == 302
    assert response.url == LIST_URL
    assert urlsplit(response.url).netloc == ""
    notification.refresh_from_db()
    assert notification.read_at is not None


# --- settings ---------------------------------------------------------------------------


def everything_on_form() -> dict[str, str]:
    """What the page posts when every box that exists is ticked."""
    data = {f"{name}__email": "on" for name in KINDS}
    data.update({f"{name}__sms": "on" for name, spec in KINDS.items() if spec.sms_allowed})
    return data


def test_the_settings_page_shows_each_kind_a_patient_receives_and_no_other(patient_client):
    html = patient_client.get(PREFERENCES_URL).content.decode()

    for spec in kinds_for("patient").values():
        assert spec.label in html
    for spec in KINDS.values():
        if "patient" not in spec.audience:
            assert spec.label not in html
    assert 'name="consultation_booked__sms"' in html
    assert 'name="payment_received__sms"' not in html
    # Defaults: reminders by SMS yes, bookings by SMS no; chat messages not emailed.
    assert re.search(r'name="consultation_reminder__sms"[^>]*\bchecked', html)
    assert not re.search(r'name="consultation_booked__sms"[^>]*\bchecked', html)
    assert not re.search(r'name="message_received__email"[^>]*\bchecked', html)


def test_security_notices_are_shown_ticked_and_locked(patient_client):
    html = patient_client.get(PREFERENCES_URL).content.decode()

    for name, spec in KINDS.items():
        if spec.mandatory:
            box = re.search(rf'<input[^>]*name="{name}__email"[^>]*>', html).group(0)
            assert "checked" in box
            assert "disabled" in box
    assert "Security notices are always sent." in html


def test_without_a_verified_phone_the_page_says_sms_needs_one(patient_client):
    html = patient_client.get(PREFERENCES_URL).content.decode()

    assert "Text messages need a verified mobile number." in html
    assert f'href="{reverse("account_change_phone")}"' in html


def test_with_a_verified_phone_there_is_no_such_note(client, texter):
    client.force_login(texter)

    html = client.get(PREFERENCES_URL).content.decode()

    assert "Text messages need a verified mobile number." not in html


def test_saving_choices(patient_client, patient):
    data = everything_on_form()
    del data["payment_received__email"]  # unticked
    data.pop("consultation_reminder__sms")  # unticked

    response = patient_client.post(PREFERENCES_URL, data, follow=True)

    assert response.redirect_chain == [(PREFERENCES_URL, 302)]
    assert "Your notification choices are saved." in response.content.decode()
    assert services.notification_delivery(user=patient, kind="payment_received").email is False
    assert services.notification_delivery(user=patient, kind="payment_failed").email is True
    saved = {p.kind: (p.email, p.sms) for p in NotificationPreference.objects.filter(user=patient)}
    assert saved["consultation_booked"] == (True, True)
    assert saved["consultation_reminder"] == (True, False)
    assert saved["payment_received"] == (False, False)
    # The page shows what was saved.
    html = response.content.decode()
    assert not re.search(r'name="payment_received__email"[^>]*\bchecked', html)
    assert re.search(r'name="consultation_booked__sms"[^>]*\bchecked', html)


def test_a_forged_post_cannot_switch_off_security_notices(patient_client, patient):
    data = everything_on_form()
    data["account_security__email"] = ""
    del data["account_locked__email"]

    patient_client.post(PREFERENCES_URL, data)

    for name, spec in KINDS.items():
        if spec.mandatory:
            assert NotificationPreference.objects.get(user=patient, kind=name).email is True
            assert services.notification_delivery(user=patient, kind=name).email is True


def test_a_forged_post_cannot_turn_on_sms_where_it_is_not_allowed(client, texter):
    client.force_login(texter)
    data = everything_on_form()
    forged = [name for name, spec in KINDS.items() if not spec.sms_allowed]
    data.update({f"{name}__sms": "on" for name in forged})

    client.post(PREFERENCES_URL, data)

    for name in forged:
        saved = NotificationPreference.objects.filter(user=texter, kind=name).first()
        assert saved is None or saved.sms is False
        assert services.notification_delivery(user=texter, kind=name).sms is False


def test_saving_settings_needs_a_csrf_token(csrf_client, patient):
    response = csrf_client.post(PREFERENCES_URL, everything_on_form())

    assert response.status_code == 403
    assert not NotificationPreference.objects.filter(user=patient).exists()


def test_the_settings_page_runs_a_fixed_number_of_queries(patient_client, django_assert_max_num_queries):
    patient_client.get(PREFERENCES_URL)

    # The session, the user, the saved choices (one query for every kind), and the
    # header's unread COUNT and profile for the name.
    with django_assert_max_num_queries(5):
        patient_client.get(PREFERENCES_URL)

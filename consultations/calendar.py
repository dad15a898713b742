"""A consultation as an iCalendar (.ics) file: the download and the confirmation email's attachment.

Built with the `icalendar` library, which does the escaping, line folding and
UTC formatting that RFC 5545 asks for.

Choices, and why:

- **METHOD:PUBLISH**, for the download and the email alike. REQUEST would make
  the file an invitation: clients then show Accept/Decline and send the reply
  to the ORGANIZER, and ours is a no-reply address. The booking is already
  made; the file only puts it in the person's calendar.
- **UID** is `<consultation id>@<site domain>` and never changes, and
  **SEQUENCE** is the number of times the booking was moved, so importing the
  file again after a reschedule updates the same calendar entry instead of
  adding a second one. A cancellation adds one more (a cancelled consultation
  is never moved again), so clients take STATUS:CANCELLED as the newer version.
- **Times are UTC** (`...Z`): no VTIMEZONE to get wrong; every calendar shows
  them in its owner's zone.
- **No clinical details**: calendars sync to third-party services and show on
  lock screens, so the chief complaint and symptoms stay out. The doctor's entry
  names the patient, as their appointment book would.
- **One alarm** an hour before, except on a cancelled consultation.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from accounts.models import User
from consultations.models import Consultation, Mode, Status

PRODID = "-//Dhanwantari//Consultations//EN"
METHOD = "PUBLISH"
CONTENT_TYPE = f"text/calendar; method={METHOD}; charset=utf-8"
ALARM_BEFORE = timedelta(hours=1)

# RFC 5545 STATUS for a VEVENT is TENTATIVE, CONFIRMED or CANCELLED.
_STATUS = {
    Status.REQUESTED: "TENTATIVE",
    Status.CANCELLED: "CANCELLED",
}


def doctor_name(doctor: User | None) -> str:
    """The doctor's name as a patient reads it, "Dr Meera Deshpande" (the title added unless already there)."""
    profile = getattr(doctor, "doctor_profile", None) if doctor is not None else None
    name = (profile.full_name if profile else "").strip()
    if not name:
        return "your doctor"
    if name.lower().startswith(("dr ", "dr.")):
        return name
    return f"Dr {name}"


def patient_name(patient: User) -> str:
    # Not display_name: its fallback is the login, and an email address or phone
    # number does not belong in the doctor's calendar or text messages.
    profile = getattr(patient, "patient_profile", None)
    return (profile.full_name if profile else "").strip() or "a patient"


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def consultation_url(consultation: Consultation) -> str:
    return site_url() + reverse("consultations:detail", args=[consultation.pk])


def clinic_location(consultation: Consultation) -> str:
    """Clinic name, address and city from the doctor's profile ("Arogya Clinic, 12 MG Road, Pune"); may be empty."""
    profile = getattr(consultation.doctor, "doctor_profile", None) if consultation.doctor_id else None
    if profile is None:
        return ""
    parts = [profile.clinic_name, profile.clinic_address, profile.city]
    return ", ".join(part.strip() for part in parts if part and part.strip())


def how_to_join(consultation: Consultation) -> str:
    """One or two sentences on where the consultation happens and how to get in."""
    if consultation.mode == Mode.IN_PERSON:
        place = clinic_location(consultation)
        return f"In person at {place}." if place else "In person at the doctor's clinic."
    kind = {Mode.CHAT: "chat", Mode.AUDIO: "audio call", Mode.VIDEO: "video call"}.get(consultation.mode, "call")
    return (
        f"Online {kind} on Dhanwantari. Join from the consultation page: {consultation_url(consultation)}"
        f" (the waiting room opens {settings.WAITING_ROOM_OPENS_MINUTES} minutes before the start)."
    )


def ics_filename(consultation: Consultation) -> str:
    return f"dhanwantari-{consultation.pk}.ics"


def _uid(consultation: Consultation) -> str:
    domain = urlsplit(site_url()).hostname or "dhanwantari.local"
    return f"{consultation.pk}@{domain}"


def _sequence(consultation: Consultation) -> int:
    return consultation.reschedule_count + (1 if consultation.status == Status.CANCELLED else 0)


def _summary(consultation: Consultation, recipient: User) -> str:
    if recipient.pk == consultation.doctor_id:
        return f"Consultation with {patient_name(consultation.patient)}"
    return f"Homeopathy consultation with {doctor_name(consultation.doctor)}"


def consultation_ics(consultation: Consultation, *, recipient: User | None = None) -> bytes:
    """The consultation as a one-event VCALENDAR, worded for `recipient` (default: the patient).

    Reads the patient's and doctor's profiles: select_related them when building
    many. Raises ValueError for a consultation with no time (an AI intake).
    """
    if consultation.scheduled_at is None:
        raise ValueError("A consultation without a scheduled time has no calendar entry.")
    recipient = recipient or consultation.patient
    start = consultation.scheduled_at.astimezone(UTC)
    summary = _summary(consultation, recipient)
    url = consultation_url(consultation)
    status = _STATUS.get(consultation.status, "CONFIRMED")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", METHOD)

    event = Event()
    event.add("uid", _uid(consultation))
    event.add("sequence", _sequence(consultation))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("created", consultation.created_at.astimezone(UTC))
    event.add("last-modified", consultation.updated_at.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=consultation.duration_minutes))
    event.add("summary", summary)
    if consultation.mode == Mode.IN_PERSON:
        event.add("description", f"{how_to_join(consultation)}\nDetails, rescheduling and cancellation: {url}")
        event.add("location", clinic_location(consultation) or "The doctor's clinic")
    else:
        event.add("description", how_to_join(consultation))
        event.add("location", url)
    event.add("url", url)
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    # PUBLISH requires an ORGANIZER (RFC 5546 3.2.1): the site's own sender,
    # never a person's address.
    sender_name, sender_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{sender_address}")
    organizer.params["cn"] = vText(sender_name or "Dhanwantari")
    event.add("organizer", organizer)

    if status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", -ALARM_BEFORE)
        alarm.add("description", summary)
        event.add_component(alarm)

    calendar.add_component(event)
    return calendar.to_ical()

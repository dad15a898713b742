"""Booking a slot, cancelling and moving a consultation: thin pages around
consultations.services, whose named errors come back next to the right field.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods

from accounts.policies import is_patient
from consultations import lifecycle, policies, services
from consultations.forms import BookingForm, CancelForm, RescheduleForm, slot_label, slot_value
from consultations.intake import services as intake_services
from consultations.intake.services import HANDOFF_SESSION_KEY
from consultations.models import Consultation, ConsultationType, PaymentMethod, PaymentStatus, Status
from doctors.availability import Slot
from doctors.models import DoctorProfile
from doctors.queries import doctor_public, upcoming_slots

# How far ahead the booking and reschedule pages offer slots.
BOOKING_DAYS = 14

BOOKED = "Your consultation is booked."
BOOKED_PAY = "Your consultation is booked. Please pay for it before it starts."
# With the offline provider there is nothing to complete here: the clinic is paid.
BOOKED_PAY_CLINIC = "Your consultation is booked. Here is how to pay the clinic."
CANCELLED = "The consultation is cancelled."
RESCHEDULED = "The consultation has moved to {when}."
# Who gives the money back (the clinic by hand, or Razorpay), told to whoever cancelled.
REFUND_HOW = {
    (lifecycle.PATIENT, "clinic"): "The clinic gives it back to you and records it here.",
    (lifecycle.PATIENT, "razorpay"): "It goes back to the account you paid from.",
    (lifecycle.DOCTOR, "clinic"): "Record the refund once you have given it back.",
    (lifecycle.DOCTOR, "razorpay"): "Razorpay returns it to the patient.",
}


def _refund_how(consultation: Consultation, role: str | None) -> str:
    via = "razorpay" if consultation.payment_method == PaymentMethod.RAZORPAY else "clinic"
    return REFUND_HOW.get((role, via), "")


# Which form field each booking error belongs next to.
_BOOKING_ERROR_FIELD = {
    services.ModeNotOffered: "mode",
    services.SlotNotOffered: "slot",
    services.SlotTaken: "slot",
    services.FollowUpNotAvailable: "follow_up_of",
    services.PaymentChoiceRefused: "pay_at_clinic",
}


def _slots(profile: DoctorProfile) -> tuple[list, list[Slot]]:
    """Free slots for the next BOOKING_DAYS, grouped by the viewer's day, and flat."""
    days = upcoming_slots(profile=profile, days=BOOKING_DAYS)
    flat = [slot for day in days for slot in day.slots]
    return days, flat


def _slot_param(value: str) -> str:
    """?slot= from the doctor's page (any ISO offset) as the form's UTC value; junk -> ""."""
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return ""
    return slot_value(moment) if moment.tzinfo else ""


def _slot_groups(slot_days: list, selected: str | None) -> tuple[list[dict], dict[str, str]]:
    """Slots for the template's radio list, by day, each with an id; and value -> id."""
    groups, ids = [], {}
    for day in slot_days:
        entries = []
        for slot in day.slots:
            value = slot_value(slot.start)
            ids[value] = f"slot-{len(ids)}"
            entries.append({"value": value, "id": ids[value], "start": slot.start, "checked": value == selected})
        groups.append({"day": day.day, "slots": entries, "open": any(e["checked"] for e in entries)})
    if groups and not any(g["open"] for g in groups):
        groups[0]["open"] = True
    return groups, ids


def _next_choices(next_slots: list[Slot], ids: dict[str, str]) -> list[dict]:
    return [{"id": ids[slot_value(s.start)], "start": s.start} for s in next_slots if slot_value(s.start) in ids]


def _handed_intake(request: HttpRequest) -> Consultation | None:
    """The finished AI intake the patient chose to book with ("Book a doctor with this case"), if any."""
    intake_id = request.session.get(HANDOFF_SESSION_KEY)
    if not intake_id:
        return None
    intake = Consultation.objects.filter(
        pk=intake_id, patient=request.user, consultation_type=ConsultationType.AI
    ).first()
    if intake is None or intake_services.intake_state(intake) != "done":
        return None
    return intake


def _initial_from_case(intake: Consultation) -> dict:
    """The booking form's case fields, filled from the intake's first complaint."""
    case = intake.symptoms or {}
    first = (case.get("complaints") or [{}])[0]
    modalities = first.get("modalities") or {}
    return {
        "chief_complaint": (case.get("chief_complaint") or first.get("description", ""))[:500],
        "duration": first.get("duration", ""),
        "severity": first.get("severity", ""),
        "location": first.get("location", ""),
        "sensation": first.get("sensation", ""),
        "better": ", ".join(modalities.get("better") or []),
        "worse": ", ".join(modalities.get("worse") or []),
        "thermal": (case.get("generals") or {}).get("thermal", ""),
    }


def _field_error(form, exc: ValidationError, mapping: dict) -> None:
    field = next((name for kind, name in mapping.items() if isinstance(exc, kind)), None)
    for message in exc.messages:
        form.add_error(field, message)


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, profile_id: str) -> HttpResponse:
    """Book one of a listed doctor's free slots: mode, time, complaint, fee."""
    profile = doctor_public(profile_id=profile_id)
    if not is_patient(request.user):
        raise PermissionDenied("Only a patient account can book a consultation.")
    now = timezone.now()
    slot_days, slots = _slots(profile)
    follow_ups = services.follow_up_options(patient=request.user, profile=profile, now=now)
    initial = {"slot": _slot_param(request.GET.get("slot", "")), "mode": request.GET.get("mode", "")}
    handed = _handed_intake(request)
    if handed is not None:
        initial.update(_initial_from_case(handed))
    form = BookingForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        modes=list(profile.consultation_modes or []),
        slots=slots,
        follow_ups=follow_ups,
    )
    next_slots: list[Slot] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consultation = services.consultation_book(
                patient=request.user,
                doctor_profile=profile,
                mode=data["mode"],
                slot_start=data["slot"],
                chief_complaint=data["chief_complaint"],
                symptoms=form.symptoms(),
                follow_up_of=data["follow_up_of"],
                pay_at_clinic=data["pay_at_clinic"],
                intake=handed if handed is not None and request.POST.get("attach_intake") else None,
                now=now,
            )
        except intake_services.IntakeError as exc:
            form.add_error(None, exc.message)
        except services.BookingError as exc:
            _field_error(form, exc, _BOOKING_ERROR_FIELD)
            if isinstance(exc, services.SlotTaken):
                next_slots = exc.next_slots
                # The taken slot leaves the list; the rest is fresh.
                slot_days, slots = _slots(profile)
                form.fields["slot"].choices = [(slot_value(s.start), slot_label(s)) for s in slots]
        else:
            if consultation.intake_id:
                request.session.pop(HANDOFF_SESSION_KEY, None)
            if consultation.payment_status == PaymentStatus.PENDING and not consultation.payment_method:
                online = settings.PAYMENT_PROVIDER == PaymentMethod.RAZORPAY
                messages.success(request, BOOKED_PAY if online else BOOKED_PAY_CLINIC)
                return redirect("payments:pay", consultation_id=consultation.pk)
            messages.success(request, BOOKED)
            return redirect("consultations:detail", consultation_id=consultation.pk)
    slot_groups, slot_ids = _slot_groups(slot_days, form["slot"].value())
    return render(
        request,
        "consultations/book.html",
        {
            "doctor": profile,
            "form": form,
            "slot_groups": slot_groups,
            "next_slots": _next_choices(next_slots, slot_ids),
            "handed_intake": handed,
            "email_unverified": not request.user.email_verified,
            "online_payment": settings.PAYMENT_PROVIDER == PaymentMethod.RAZORPAY,
            "policy": {
                "full_refund_hours": settings.CANCEL_FULL_REFUND_HOURS,
                "late_refund_percent": settings.CANCEL_LATE_REFUND_PERCENT,
                "reschedule_min_hours": settings.RESCHEDULE_MIN_HOURS,
                "reschedule_max": settings.RESCHEDULE_MAX,
            },
            "viewer_zone": timezone.get_current_timezone_name(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """Cancel with a reason; the page says beforehand what happens to the money."""
    consultation = policies.consultation_for_participant(request.user, consultation_id)
    detail = reverse("consultations:detail", args=[consultation.pk])
    if not lifecycle.may(consultation, Status.CANCELLED, request.user):
        messages.error(request, f"A {consultation.get_status_display().lower()} consultation cannot be cancelled.")
        return redirect(detail)
    now = timezone.now()
    role = lifecycle.role_in(consultation, request.user)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_transition(
                consultation=consultation,
                to=Status.CANCELLED,
                by=request.user,
                reason=form.cleaned_data["reason"],
                now=now,
            )
        except lifecycle.LifecycleError as exc:
            field = "reason" if isinstance(exc, lifecycle.ReasonRequired) else None
            for message in exc.messages:
                form.add_error(field, message)
        else:
            note = ""
            if consultation.payment_status == PaymentStatus.REFUND_PENDING:
                how = _refund_how(consultation, role)
                note = f" A refund of {consultation.currency} {consultation.refund_amount} is on its way."
                note += f" {how}" if how else ""
            messages.success(request, CANCELLED + note)
            return redirect(detail)
    return render(
        request,
        "consultations/cancel.html",
        {
            "consultation": consultation,
            "form": form,
            "refund_summary": policies.refund_summary(consultation, role, now),
            "refund_how": _refund_how(consultation, role) if policies.refund_due(consultation, role, now) else "",
            "reason_required": consultation.status == Status.SCHEDULED,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """Move a scheduled consultation to another free slot of the same doctor."""
    consultation = policies.consultation_for_participant(request.user, consultation_id)
    detail = reverse("consultations:detail", args=[consultation.pk])
    now = timezone.now()
    role = lifecycle.role_in(consultation, request.user)
    try:
        policies.reschedule_check(consultation, role, now)
    except policies.RescheduleRefused as exc:
        messages.error(request, exc.messages[0])
        return redirect(detail)
    profile = DoctorProfile.all_objects.get(user_id=consultation.doctor_id)
    slot_days, slots = _slots(profile)
    form = RescheduleForm(request.POST if request.method == "POST" else None, slots=slots)
    next_slots: list[Slot] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_reschedule(
                consultation=consultation, by=request.user, slot_start=form.cleaned_data["slot"], now=now
            )
        except (services.BookingError, policies.RescheduleRefused) as exc:
            for message in exc.messages:
                form.add_error("slot", message)
            if isinstance(exc, services.SlotTaken):
                next_slots = exc.next_slots
                slot_days, slots = _slots(profile)
                form.fields["slot"].choices = [(slot_value(s.start), slot_label(s)) for s in slots]
        else:
            # The same format as the consultation page shows ("1:56 PM", not "01:56 PM").
            when = dateformat.format(timezone.localtime(consultation.scheduled_at), "D j M Y, g:i A")
            messages.success(request, RESCHEDULED.format(when=when))
            return redirect(detail)
    slot_groups, slot_ids = _slot_groups(slot_days, form["slot"].value())
    return render(
        request,
        "consultations/reschedule.html",
        {
            "consultation": consultation,
            "doctor": profile,
            "form": form,
            "slot_groups": slot_groups,
            "next_slots": _next_choices(next_slots, slot_ids),
            "moves_left": max(settings.RESCHEDULE_MAX - consultation.reschedule_count, 0)
            if role == "patient"
            else None,
            "viewer_zone": timezone.get_current_timezone_name(),
        },
    )

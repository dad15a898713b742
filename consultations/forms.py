"""Forms for booking, cancelling and moving a consultation.

The forms only validate and shape input; the writes are
consultations.services (consultation_book, consultation_transition,
consultation_reschedule), whose named errors the views put back on the
matching field.

Slots travel as UTC ISO timestamps ("2026-12-01T04:30:00+00:00") and are shown
in the viewer's time zone. The symptom fields come out in the shape documented
in consultations/schemas.py, empty keys left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils import timezone

from consultations.models import Consultation, Mode, Status
from consultations.schemas import SEVERITIES, THERMALS
from doctors.availability import Slot

SLOT_REQUIRED = "Please pick a time."
SLOT_INVALID = "That time is not one of the free slots shown. Please pick again."
FEE_CONFIRM_REQUIRED = "Please confirm the fee and the cancellation policy to book."


def slot_value(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def slot_label(slot: Slot) -> str:
    local = timezone.localtime(slot.start)
    return f"{local:%a %d %b}, {local:%I:%M %p}".replace(" 0", " ")


def _words(text: str) -> list[str]:
    """ "sun, noise;  cold" -> ["sun", "noise", "cold"]"""
    return [word.strip() for word in text.replace(";", ",").split(",") if word.strip()][:30]


class SlotField(forms.ChoiceField):
    """A choice among the offered slots, cleaned to an aware UTC datetime."""

    default_error_messages = {"required": SLOT_REQUIRED, "invalid_choice": SLOT_INVALID}

    def __init__(self, *, slots: list[Slot], **kwargs: Any) -> None:
        super().__init__(choices=[(slot_value(s.start), slot_label(s)) for s in slots], **kwargs)

    def valid_value(self, value: Any) -> bool:
        # Any well-formed time is let through: the booking service is the one
        # that knows whether it is offered and still free, and says which
        # (a slot taken since the page was drawn gets "just taken" and the
        # next free times, not a generic "invalid choice").
        return self._parse(value) is not None

    @staticmethod
    def _parse(value: Any) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return moment if moment.tzinfo else None

    def clean(self, value: Any) -> datetime:
        return self._parse(super().clean(value))


class BookingForm(forms.Form):
    """What the patient states when booking: how, when, why, and for how much."""

    mode = forms.ChoiceField(label="How would you like to consult?", widget=forms.RadioSelect)
    slot = forms.ChoiceField(label="Time")  # replaced by a SlotField in __init__
    follow_up_of = forms.ChoiceField(label="Is this a follow-up?", widget=forms.RadioSelect, required=False)

    chief_complaint = forms.CharField(
        label="What is the main problem?",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Headaches for three weeks"}),
        error_messages={"required": "Please tell the doctor what the consultation is about."},
    )
    duration = forms.CharField(label="Since when?", max_length=300, required=False)
    severity = forms.ChoiceField(
        label="How bad is it?",
        required=False,
        choices=[("", "Choose…"), *[(s, s.capitalize()) for s in SEVERITIES]],
    )
    location = forms.CharField(label="Where in the body?", max_length=300, required=False)
    sensation = forms.CharField(
        label="What does it feel like?", max_length=300, required=False, help_text="e.g. throbbing, burning"
    )
    better = forms.CharField(
        label="What makes it better?", max_length=600, required=False, help_text="Separate with commas."
    )
    worse = forms.CharField(
        label="What makes it worse?", max_length=600, required=False, help_text="Separate with commas."
    )
    thermal = forms.ChoiceField(
        label="Do you usually feel cold or hot?",
        required=False,
        choices=[("", "Choose…"), *[(t, t.capitalize()) for t in THERMALS]],
    )
    other = forms.CharField(
        label="Anything else the doctor should know?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    pay_at_clinic = forms.BooleanField(label="I will pay at the clinic", required=False)
    confirm_fee = forms.BooleanField(
        label="I agree to the fee and the cancellation policy",
        error_messages={"required": FEE_CONFIRM_REQUIRED},
    )

    def __init__(
        self,
        *args: Any,
        modes: list[str],
        slots: list[Slot],
        follow_ups: list[Consultation],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = [(m, Mode(m).label) for m in modes]
        if len(modes) == 1:
            self.fields["mode"].initial = modes[0]
        self.fields["slot"] = SlotField(slots=slots, label="Time", widget=forms.RadioSelect)
        self.follow_ups = {c.pk: c for c in follow_ups}
        self.fields["follow_up_of"].choices = [("", "No, a new consultation")] + [
            (c.pk, f"Yes, after my consultation of {timezone.localtime(c.scheduled_at):%d %b %Y}") for c in follow_ups
        ]
        self.fields["follow_up_of"].initial = ""

    def clean_follow_up_of(self) -> Consultation | None:
        value = self.cleaned_data.get("follow_up_of")
        return self.follow_ups.get(value) if value else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("pay_at_clinic") and data.get("mode") and data["mode"] != Mode.IN_PERSON:
            self.add_error("pay_at_clinic", "Paying at the clinic is possible only for an in-person consultation.")
        return data

    def symptoms(self) -> dict[str, Any]:
        """The structured case, as consultations/schemas.py documents it."""
        data = self.cleaned_data
        complaint = {"description": data["chief_complaint"][:300]}
        for key in ("location", "sensation", "duration", "severity"):
            if data.get(key):
                complaint[key] = data[key]
        modalities = {k: _words(data[k]) for k in ("better", "worse") if _words(data.get(k, ""))}
        if modalities:
            complaint["modalities"] = modalities
        symptoms: dict[str, Any] = {
            "chief_complaint": data["chief_complaint"],
            "complaints": [complaint],
            "source": "patient",
        }
        if data.get("thermal"):
            symptoms["generals"] = {"thermal": data["thermal"]}
        if data.get("other"):
            symptoms["mentals"] = data["other"]
        return symptoms


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The other party sees this.",
    )


class RescheduleForm(forms.Form):
    slot = forms.ChoiceField(label="New time")

    def __init__(self, *args: Any, slots: list[Slot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"] = SlotField(slots=slots, label="New time", widget=forms.RadioSelect)


# --- the dashboards' small forms ------------------------------------------------------

EARNINGS_MAX_DAYS = 366
EARNINGS_RANGE_INVERTED = "The end date is before the start date."
EARNINGS_RANGE_TOO_LONG = f"Choose at most {EARNINGS_MAX_DAYS} days."
EARNINGS_RANGE_INCOMPLETE = "Enter both a start and an end date."
EARNINGS_DEFAULT_SHOWN = "Showing this month instead."


_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class EarningsRangeForm(forms.Form):
    """The earnings range, two days in the doctor's zone, both included (GET ?start=&end=)."""

    start = forms.DateField(label="From", required=False, widget=_DATE)
    end = forms.DateField(label="To", required=False, widget=_DATE)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if self.errors:
            return cleaned
        if start is None or end is None:
            raise forms.ValidationError(EARNINGS_RANGE_INCOMPLETE, code="incomplete")
        if end < start:
            self.add_error("end", forms.ValidationError(EARNINGS_RANGE_INVERTED, code="inverted"))
        elif (end - start).days + 1 > EARNINGS_MAX_DAYS:
            self.add_error("end", forms.ValidationError(EARNINGS_RANGE_TOO_LONG, code="too_long"))
        return cleaned


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(max_length=500, required=False)
    next = forms.CharField(max_length=500, required=False)


class IntakeConsentForm(forms.Form):
    """The one question before an AI intake starts: has the patient read what it is, and not?"""

    consent = forms.BooleanField(
        label="I understand: the assistant takes my case for a doctor; it does not diagnose or prescribe.",
        error_messages={"required": "Please tick the box to say you have read this and want to go on."},
    )

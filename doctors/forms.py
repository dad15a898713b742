"""Doctors: forms, in three parts: the doctor's own profile, documents,
verification and reviews; the directory and public pages; availability."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from dhanwantari.uploads import DOCUMENT_TYPES, IMAGE_TYPES, MAX_DOCUMENT_BYTES, MAX_PHOTO_BYTES, validate_upload
from doctors import geo, queries, schemas
from doctors.models import DoctorProfile, DocumentKind
from doctors.schemas import AVAILABILITY, WEEKDAYS
from patients.models import Gender

# --- profile, documents, verification, reviews -----------------------------------
# Plain forms that validate and normalise; the services in the same section write.

LANGUAGES = [
    "English",
    "Hindi",
    "Marathi",
    "Bengali",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Gujarati",
    "Punjabi",
    "Odia",
    "Urdu",
]
MODE_LABELS = {
    "chat": "Chat",
    "audio": "Audio call",
    "video": "Video call",
    "in_person": "In person, at your clinic",
}
# Offered as suggestions (a <datalist>), not a closed list: older rows may say it differently.
INDIAN_STATES = [
    "Andaman and Nicobar Islands",
    "Andhra Pradesh",
    "Arunachal Pradesh",
    "Assam",
    "Bihar",
    "Chandigarh",
    "Chhattisgarh",
    "Dadra and Nagar Haveli and Daman and Diu",
    "Delhi",
    "Goa",
    "Gujarat",
    "Haryana",
    "Himachal Pradesh",
    "Jammu and Kashmir",
    "Jharkhand",
    "Karnataka",
    "Kerala",
    "Ladakh",
    "Lakshadweep",
    "Madhya Pradesh",
    "Maharashtra",
    "Manipur",
    "Meghalaya",
    "Mizoram",
    "Nagaland",
    "Odisha",
    "Puducherry",
    "Punjab",
    "Rajasthan",
    "Sikkim",
    "Tamil Nadu",
    "Telangana",
    "Tripura",
    "Uttar Pradesh",
    "Uttarakhand",
    "West Bengal",
]
MAX_FEE = Decimal("100000")
MAX_QUALIFICATIONS = 20
PIN_CODE = RegexValidator(r"^[1-9][0-9]{5}$", "A PIN code is 6 digits and does not start with 0.")
_SPLIT_QUALIFICATIONS = re.compile(r"[\n,;]+")


class TileCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes as a grid of tappable tiles (doctors-profile.css); the template knows them by widget_type."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "dp-check__input", **(attrs or {})})


class DoctorProfileForm(forms.Form):
    """Everything a doctor edits about themself. Saving a half-filled form is fine:
    what verification needs is checked when they submit (services.verification_missing)."""

    registration_number = forms.CharField(
        label="Registration number",
        max_length=50,
        required=False,
        help_text="As printed on your registration certificate, for example MH-HOM-12345.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    registration_council = forms.CharField(
        label="Registered with",
        max_length=120,
        required=False,
        help_text="Your state Board or Council of Homoeopathy, or the central register.",
    )
    qualifications = forms.CharField(
        label="Qualifications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "dp-textarea--short"}),
        help_text="One per line, for example BHMS or MD (Hom).",
    )
    experience_years = forms.IntegerField(
        label="Years in practice",
        min_value=0,
        max_value=70,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "dp-input--narrow"}),
    )
    gender = forms.ChoiceField(
        label="Gender",
        choices=[("", "Prefer not to say"), *[(v, lbl) for v, lbl in Gender.choices if v != "undisclosed"]],
        required=False,
        help_text="Some patients look for a doctor of their own gender.",
    )
    specializations = forms.MultipleChoiceField(
        label="What you treat",
        choices=list(schemas.SPECIALIZATIONS.items()),
        required=False,
        widget=TileCheckboxes,
        help_text="Choose the areas patients should find you under.",
    )
    languages = forms.MultipleChoiceField(
        label="Languages you consult in",
        choices=[(name, name) for name in LANGUAGES],
        required=False,
        widget=TileCheckboxes,
    )
    bio = forms.CharField(
        label="About you",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="A few sentences patients read before booking: your approach, what you see most often.",
    )
    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="A clear photo of your face. JPEG, PNG or WebP, up to 5 MB. We crop it to a square.",
    )
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)
    signature = forms.FileField(
        label="Signature",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="Printed on your prescriptions. Sign on white paper and photograph it, or upload a scan. "
        "JPEG, PNG or WebP, up to 5 MB.",
    )
    remove_signature = forms.BooleanField(label="Remove my signature", required=False)
    consultation_modes = forms.MultipleChoiceField(
        label="How you consult",
        choices=[(mode, MODE_LABELS[mode]) for mode in schemas.MODES],
        required=False,
        widget=TileCheckboxes,
    )
    consultation_fee = forms.DecimalField(
        label="First consultation",
        min_value=Decimal("0"),
        max_value=MAX_FEE,
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "1"}),
    )
    follow_up_fee = forms.DecimalField(
        label="Follow-up",
        min_value=Decimal("0"),
        max_value=MAX_FEE,
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "1"}),
    )
    follow_up_window_days = forms.IntegerField(
        label="Follow-up period (days)",
        min_value=0,
        max_value=365,
        initial=0,
        required=False,
        help_text="After a consultation, the patient can book follow-ups at the follow-up fee for this many days. "
        "0: no follow-up pricing.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    follow_up_visits = forms.IntegerField(
        label="Follow-ups per consultation",
        min_value=1,
        max_value=20,
        initial=1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    clinic_name = forms.CharField(label="Clinic name", max_length=150, required=False)
    clinic_address = forms.CharField(
        label="Address",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address", "class": "dp-textarea--short"}),
    )
    city = forms.CharField(
        label="City or town", max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    state = forms.CharField(
        label="State",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "dp-states", "autocomplete": "off"}),
    )
    postal_code = forms.CharField(
        label="PIN code",
        max_length=6,
        required=False,
        validators=[PIN_CODE],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "postal-code", "class": "dp-input--narrow"}
        ),
    )
    latitude = forms.DecimalField(
        label="Latitude",
        required=False,
        min_value=Decimal("-90"),
        max_value=Decimal("90"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "data-location-latitude": ""}),
    )
    longitude = forms.DecimalField(
        label="Longitude",
        required=False,
        min_value=Decimal("-180"),
        max_value=Decimal("180"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "data-location-longitude": ""}),
    )

    # The page's sections, in order: (id, title, fields drawn by the shared loop).
    # The photo and the map coordinates have markup of their own in the template.
    SECTIONS = (
        (
            "registration",
            "Registration",
            ("registration_number", "registration_council", "qualifications", "experience_years"),
        ),
        ("practice", "Your practice", ("specializations", "languages", "gender", "bio")),
        (
            "fees",
            "Consultations and fees",
            ("consultation_modes", "consultation_fee", "follow_up_fee", "follow_up_window_days", "follow_up_visits"),
        ),
        ("clinic", "Clinic", ("clinic_name", "clinic_address", "city", "state", "postal_code")),
    )

    def __init__(self, *args: Any, profile: DoctorProfile, **kwargs: Any) -> None:
        kwargs.setdefault("initial", profile_initial(profile))
        super().__init__(*args, **kwargs)
        # A language saved earlier that is not on the short list stays chosen.
        known = set(LANGUAGES)
        extra = [name for name in profile.languages if name not in known]
        if extra:
            self.fields["languages"].choices = [*self.fields["languages"].choices, *[(n, n) for n in extra]]

    @property
    def sections(self) -> list[dict[str, Any]]:
        return [
            {"id": key, "title": title, "fields": [self[name] for name in names]} for key, title, names in self.SECTIONS
        ]

    def clean_registration_number(self) -> str:
        return " ".join(self.cleaned_data["registration_number"].split())

    def clean_registration_council(self) -> str:
        return " ".join(self.cleaned_data["registration_council"].split())

    def clean_qualifications(self) -> list[str]:
        items: list[str] = []
        for raw in _SPLIT_QUALIFICATIONS.split(self.cleaned_data["qualifications"]):
            item = " ".join(raw.split())
            if not item or item.casefold() in (i.casefold() for i in items):
                continue
            if len(item) > 80:
                raise forms.ValidationError(f"“{item[:30]}…” is too long; keep each qualification under 80 characters.")
            items.append(item)
        if len(items) > MAX_QUALIFICATIONS:
            raise forms.ValidationError(f"List at most {MAX_QUALIFICATIONS} qualifications.")
        return items

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        return validate_upload(upload, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    def clean_signature(self):
        upload = self.cleaned_data.get("signature")
        if not upload:
            return None
        return validate_upload(upload, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    def _clean_coordinate(self, name: str) -> Decimal | None:
        value = self.cleaned_data.get(name)
        # A phone's GPS gives more places than the column keeps (6 is ~10 cm).
        return None if value is None else value.quantize(Decimal("0.000001"))

    def clean_latitude(self) -> Decimal | None:
        return self._clean_coordinate("latitude")

    def clean_longitude(self) -> Decimal | None:
        return self._clean_coordinate("longitude")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_lat, has_lng = data.get("latitude") is not None, data.get("longitude") is not None
        if has_lat != has_lng and "latitude" not in self.errors and "longitude" not in self.errors:
            self.add_error("latitude" if not has_lat else "longitude", "Give both latitude and longitude, or neither.")
        if "in_person" in (data.get("consultation_modes") or []) and not (
            data.get("clinic_address") and data.get("city")
        ):
            self.add_error(
                "clinic_address", "You see patients in person: add your clinic's address and city so they can find it."
            )
        if data.get("photo") and data.get("remove_photo"):
            self.add_error("remove_photo", "Choose a new photo or remove the current one, not both.")
        if data.get("signature") and data.get("remove_signature"):
            self.add_error("remove_signature", "Choose a new signature or remove the current one, not both.")
        return data

    def clean_follow_up_window_days(self) -> int:
        value = self.cleaned_data.get("follow_up_window_days")
        return 0 if value is None else value

    def clean_follow_up_visits(self) -> int:
        value = self.cleaned_data.get("follow_up_visits")
        return 1 if value is None else value

    def changes(self) -> dict[str, Any]:
        """The profile fields as the service takes them."""
        return {name: self.cleaned_data[name] for name in self.fields if name not in UPLOAD_FIELDS}


# Files and their "remove" ticks: written by their own services, not doctor_profile_update.
UPLOAD_FIELDS = ("photo", "remove_photo", "signature", "remove_signature")


def profile_initial(profile: DoctorProfile) -> dict[str, Any]:
    return {
        "registration_number": profile.registration_number,
        "registration_council": profile.registration_council,
        "qualifications": "\n".join(profile.qualifications),
        "experience_years": profile.experience_years,
        "gender": profile.gender if profile.gender != "undisclosed" else "",
        "specializations": list(profile.specializations),
        "languages": list(profile.languages),
        "bio": profile.bio,
        "consultation_modes": list(profile.consultation_modes),
        "consultation_fee": profile.consultation_fee,
        "follow_up_fee": profile.follow_up_fee,
        "follow_up_window_days": profile.follow_up_window_days,
        "follow_up_visits": profile.follow_up_visits,
        "clinic_name": profile.clinic_name,
        "clinic_address": profile.clinic_address,
        "city": profile.city,
        "state": profile.state,
        "postal_code": profile.postal_code,
        "latitude": profile.latitude,
        "longitude": profile.longitude,
    }


class DoctorDocumentForm(forms.Form):
    kind = forms.ChoiceField(label="What is it?", choices=DocumentKind.choices, initial=DocumentKind.REGISTRATION)
    file = forms.FileField(
        label="File",
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
        help_text="A PDF, or a photo or scan (JPEG, PNG or WebP), up to 10 MB.",
    )

    def clean_file(self):
        return validate_upload(self.cleaned_data["file"], allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES)


RATING_CHOICES = [
    (5, "5 – Excellent"),
    (4, "4 – Good"),
    (3, "3 – Okay"),
    (2, "2 – Poor"),
    (1, "1 – Very poor"),
]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "dp-stars__input"}),
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="Your review",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What went well, what could be better. Other patients read this: "
        "leave out health details you would not want them to see.",
    )


# --- directory and public pages --------------------------------------------------

# Imports sit with the section that uses them (each section has its own author);
# the leading underscore keeps them from clashing with another section's names.


# Languages offered as a filter: the languages most Indian patients consult in.
DIRECTORY_LANGUAGES = [
    "English",
    "Hindi",
    "Marathi",
    "Bengali",
    "Gujarati",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Punjabi",
    "Odia",
    "Urdu",
    "Assamese",
]
MODE_LABELS = {"chat": "Chat", "audio": "Audio call", "video": "Video call", "in_person": "In person"}
RADIUS_CHOICES = [("5", "5 km"), ("10", "10 km"), ("25", "25 km"), ("50", "50 km"), ("100", "100 km"), ("any", "Any")]
# A "near" search arriving without a radius (a typed or shared link) keeps to this.
DEFAULT_RADIUS_KM = 50

NEAR_NOT_FOUND = "We could not find “{near}”. Try the nearest large city, or a 6-digit PIN code such as 411001."
FEE_RANGE_INVERTED = "The highest fee must be at least the lowest."
DISTANCE_NEEDS_PLACE = "To sort by distance, type a city or PIN code, or use your location."


class DirectorySearchForm(forms.Form):
    """The directory's search box and filters, read from the query string.

    A field that does not validate is left out of the search (and shown with
    its error), so one typo never empties the page.
    """

    q = forms.CharField(required=False, max_length=100, label="Name, clinic or city")
    near = forms.CharField(required=False, max_length=60, label="Near", help_text="A city or a 6-digit PIN code.")
    radius = forms.ChoiceField(required=False, choices=RADIUS_CHOICES, label="Within", initial=str(DEFAULT_RADIUS_KM))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    specialization = forms.ChoiceField(
        required=False,
        label="Specialisation",
        choices=[("", "Any specialisation"), *schemas.SPECIALIZATIONS.items()],
    )
    language = forms.ChoiceField(
        required=False, label="Language", choices=[("", "Any language")] + [(x, x) for x in DIRECTORY_LANGUAGES]
    )
    mode = forms.ChoiceField(
        required=False,
        label="Consults by",
        choices=[("", "Any way")] + [(mode, MODE_LABELS.get(mode, mode)) for mode in schemas.MODES],
    )
    available = forms.ChoiceField(
        required=False,
        label="Available",
        choices=[
            ("", "Any time"),
            (queries.Available.TODAY, "Today"),
            (queries.Available.WEEK, "In the next 7 days"),
        ],
    )
    fee_min = forms.DecimalField(
        required=False, label="Lowest fee (₹)", min_value=0, max_digits=8, decimal_places=0, localize=False
    )
    fee_max = forms.DecimalField(
        required=False, label="Highest fee (₹)", min_value=0, max_digits=8, decimal_places=0, localize=False
    )
    rating = forms.TypedChoiceField(
        required=False,
        label="Rating",
        choices=[("", "Any rating"), ("4.5", "4.5 and above"), ("4", "4 and above"), ("3", "3 and above")],
        coerce=Decimal,
        empty_value=None,
    )
    city = forms.CharField(required=False, max_length=100, label="Clinic in city")
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[
            ("", "Best match"),
            (queries.Sort.DISTANCE, "Nearest first"),
            (queries.Sort.EARLIEST, "Earliest available"),
            (queries.Sort.RATING, "Highest rated"),
            (queries.Sort.FEE, "Lowest fee"),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("fee_min", "fee_max"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "step": "50"})
        self.fields["near"].widget.attrs.update({"autocomplete": "off", "list": "directory-places"})
        self.fields["city"].widget.attrs.update({"autocomplete": "off", "list": "directory-places"})
        self.fields["q"].widget.attrs.update({"enterkeyhint": "search"})
        self.fields["q"].widget.input_type = "search"
        self.origin: queries.Origin | None = None

    def clean_radius(self) -> int | None:
        value = self.cleaned_data.get("radius")
        if "radius" not in self.data:
            return DEFAULT_RADIUS_KM
        return None if value in ("", "any") else int(value)

    def clean(self):
        cleaned = super().clean()
        near = (cleaned.get("near") or "").strip()
        lat, lng = cleaned.get("lat"), cleaned.get("lng")
        # Typed text wins over the browser's location: it is what the person just asked for.
        if near:
            place = geo.locate(near)
            if place is None:
                self.add_error("near", NEAR_NOT_FOUND.format(near=near))
            else:
                self.origin = queries.Origin(place.latitude, place.longitude, place.name)
        elif lat is not None and lng is not None:
            self.origin = queries.Origin(lat, lng, "your location")
        fee_min, fee_max = cleaned.get("fee_min"), cleaned.get("fee_max")
        if fee_min is not None and fee_max is not None and fee_max < fee_min:
            self.add_error("fee_max", FEE_RANGE_INVERTED)
        if cleaned.get("sort") == queries.Sort.DISTANCE and self.origin is None and "near" not in self.errors:
            self.add_error("sort", DISTANCE_NEEDS_PLACE)
        return cleaned

    FILTERS = ("specialization", "language", "mode", "available", "rating", "city", "fee_min", "fee_max")

    @property
    def filter_fields(self) -> list[forms.BoundField]:
        """The fields behind "More filters", in the order they are shown."""
        return [self[name] for name in self.FILTERS]

    @property
    def filters_have_errors(self) -> bool:
        return self.is_bound and any(name in self.errors for name in self.FILTERS)

    @property
    def active_filter_count(self) -> int:
        """How many of the filters behind "More filters" are in use (for its label)."""
        if not self.is_bound:
            return 0
        return sum(1 for name in self.FILTERS if self.data.get(name))

    def params(self, *, page: int | str = 1) -> queries.DirectoryParams:
        """The search to run: the valid fields, with defaults for the rest."""
        if not self.is_bound:
            return queries.DirectoryParams(page=page)
        self.is_valid()
        data = self.cleaned_data
        return queries.DirectoryParams(
            q=(data.get("q") or "").strip(),
            specialization=data.get("specialization") or "",
            language=data.get("language") or "",
            mode=data.get("mode") or "",
            fee_min=data.get("fee_min"),
            fee_max=data.get("fee_max"),
            min_rating=data.get("rating"),
            city=(data.get("city") or "").strip(),
            available=data.get("available") or "",
            origin=self.origin,
            radius_km=data.get("radius") if self.origin else None,
            sort=data.get("sort") or queries.Sort.RELEVANCE,
            page=page,
        )


# --- availability ----------------------------------------------------------------


# Zones most of our doctors work in; any other IANA name can be typed.
COMMON_TIMEZONES = [
    ("Asia/Kolkata", "India (Asia/Kolkata)"),
    ("Asia/Kathmandu", "Nepal (Asia/Kathmandu)"),
    ("Asia/Dhaka", "Bangladesh (Asia/Dhaka)"),
    ("Asia/Colombo", "Sri Lanka (Asia/Colombo)"),
    ("Asia/Dubai", "UAE (Asia/Dubai)"),
    ("Asia/Singapore", "Singapore (Asia/Singapore)"),
    ("Europe/London", "United Kingdom (Europe/London)"),
    ("Europe/Berlin", "Central Europe (Europe/Berlin)"),
    ("America/New_York", "US Eastern (America/New_York)"),
    ("America/Chicago", "US Central (America/Chicago)"),
    ("America/Los_Angeles", "US Pacific (America/Los_Angeles)"),
    ("Australia/Sydney", "Australia Eastern (Australia/Sydney)"),
]
OTHER_TIMEZONE = "other"
WEEKDAY_LABELS = dict(
    zip(WEEKDAYS, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], strict=True)
)

BOTH_TIMES_NEEDED = "Give both a start and an end time, or leave both empty."
OVERRIDE_DATE_NEEDED = "Pick the date these hours are for."
OTHER_TIMEZONE_NEEDED = "Type the name of your time zone, such as Africa/Nairobi."
DAY_OFF_AND_HOURS = "This date is also given hours in another row. Remove one of them."

_SHAPE = AVAILABILITY["properties"]
_RANGES_MAX = _SHAPE["weekly"]["properties"]["mon"]["maxItems"]


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": "300"})


class AvailabilitySettingsForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=[*COMMON_TIMEZONES, (OTHER_TIMEZONE, "Another zone…")],
        help_text="The hours below are in this zone.",
    )
    timezone_other = forms.CharField(
        label="Other time zone", required=False, max_length=64, help_text="Its IANA name, such as Africa/Nairobi."
    )
    # Bounds from the documented shape, so the phone's number pad and the model agree.
    slot_minutes = forms.IntegerField(
        label="Consultation length (minutes)",
        min_value=_SHAPE["slot_minutes"]["minimum"],
        max_value=_SHAPE["slot_minutes"]["maximum"],
    )
    buffer_minutes = forms.IntegerField(
        label="Break after each (minutes)",
        min_value=_SHAPE["buffer_minutes"]["minimum"],
        max_value=_SHAPE["buffer_minutes"]["maximum"],
        help_text="Time kept free between consultations.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("slot_minutes", "buffer_minutes"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "step": "5"})
        self.fields["timezone_other"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    @classmethod
    def initial_from(cls, availability: dict[str, Any], fallback_zone: str) -> dict[str, Any]:
        zone = availability.get("timezone") or fallback_zone
        common = {name for name, _ in COMMON_TIMEZONES}
        return {
            "timezone": zone if zone in common else OTHER_TIMEZONE,
            "timezone_other": "" if zone in common else zone,
            "slot_minutes": availability.get("slot_minutes", 20),
            "buffer_minutes": availability.get("buffer_minutes", 0),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("timezone") == OTHER_TIMEZONE and not (cleaned.get("timezone_other") or "").strip():
            self.add_error("timezone_other", OTHER_TIMEZONE_NEEDED)
        return cleaned

    @property
    def zone_field(self) -> str:
        """The field a time-zone error belongs next to."""
        return "timezone_other" if self.data.get(self.add_prefix("timezone")) == OTHER_TIMEZONE else "timezone"

    def zone_name(self) -> str:
        if self.cleaned_data["timezone"] == OTHER_TIMEZONE:
            return self.cleaned_data["timezone_other"].strip()
        return self.cleaned_data["timezone"]


class RangeForm(forms.Form):
    """One working range on a weekday; both times empty means no range."""

    start = forms.TimeField(label="From", required=False, widget=_time_input())
    end = forms.TimeField(label="To", required=False, widget=_time_input())

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if (start is None) != (end is None) and not self.errors:
            self.add_error("end" if end is None else "start", BOTH_TIMES_NEEDED)
        return cleaned

    def as_range(self) -> dict[str, str] | None:
        data = getattr(self, "cleaned_data", {})
        if data.get("DELETE") or data.get("start") is None or data.get("end") is None:
            return None
        return {"start": data["start"].strftime("%H:%M"), "end": data["end"].strftime("%H:%M")}


class OverrideForm(forms.Form):
    """One row for a date that differs from the week: times for extra or
    different hours, no times for a day off."""

    date = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    start = forms.TimeField(label="From", required=False, widget=_time_input())
    end = forms.TimeField(label="To", required=False, widget=_time_input())
    note = forms.CharField(
        label="Note", required=False, max_length=_SHAPE["overrides"]["items"]["properties"]["note"]["maxLength"]
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("date") is None and (start or end or cleaned.get("note")):
            self.add_error("date", OVERRIDE_DATE_NEEDED)
        if (start is None) != (end is None):
            self.add_error("end" if end is None else "start", BOTH_TIMES_NEEDED)
        return cleaned

    @property
    def kept(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("date")) and not data.get("DELETE")


RangeFormSet = forms.formset_factory(
    RangeForm, extra=1, can_delete=True, max_num=_RANGES_MAX, absolute_max=_RANGES_MAX, validate_max=True
)
# Rows are ranges, not dates, so the 366-date cap is the model's to enforce.
OverrideFormSet = forms.formset_factory(OverrideForm, extra=2, can_delete=True)


@dataclass
class DayEditor:
    key: str
    label: str
    formset: forms.BaseFormSet
    errors: list[str] = field(default_factory=list)


class AvailabilityEditor:
    """The whole working-hours page as one form: settings, a formset of ranges
    per weekday and a formset of date overrides.

    It only shapes input into the documented availability JSON; whether that
    document is acceptable (ranges in order, no overlaps, a real zone) is the
    model field's call, made in the service. add_model_errors() puts what the
    model said next to the fields it is about.
    """

    def __init__(self, data=None, *, availability: dict[str, Any], fallback_zone: str, today: date) -> None:
        self.today = today
        self.settings = AvailabilitySettingsForm(
            data, initial=AvailabilitySettingsForm.initial_from(availability, fallback_zone)
        )
        weekly = availability.get("weekly", {})
        self.days = [
            DayEditor(day, WEEKDAY_LABELS[day], RangeFormSet(data, prefix=day, initial=list(weekly.get(day, []))))
            for day in WEEKDAYS
        ]
        self.overrides = OverrideFormSet(data, prefix="overrides", initial=self._override_rows(availability))
        self.non_field_errors: list[str] = []

    def _override_rows(self, availability: dict[str, Any]) -> list[dict[str, Any]]:
        """One row per range, one per day off; dates before today are not shown
        (they no longer change any slot) and are dropped on the next save."""
        rows: list[dict[str, Any]] = []
        for override in sorted(availability.get("overrides", []), key=lambda o: o["date"]):
            day = date.fromisoformat(override["date"])
            if day < self.today:
                continue
            note = override.get("note", "")
            for span in override["ranges"] or [None]:
                row = {"date": day, "note": note}
                if span:
                    row.update(start=span["start"], end=span["end"])
                rows.append(row)
        return rows

    @property
    def is_bound(self) -> bool:
        return self.settings.is_bound

    def is_valid(self) -> bool:
        valid = self.settings.is_valid()
        for day in self.days:
            valid = day.formset.is_valid() and valid
        valid = self.overrides.is_valid() and valid
        if valid:
            valid = self._check_days_off()
        return valid

    def _check_days_off(self) -> bool:
        """A date cannot be both a day off (a row without times) and given hours."""
        with_hours = {f.cleaned_data["date"] for f in self.overrides.forms if f.kept and f.cleaned_data.get("start")}
        ok = True
        for form in self.overrides.forms:
            if form.kept and not form.cleaned_data.get("start") and form.cleaned_data["date"] in with_hours:
                form.add_error("date", DAY_OFF_AND_HOURS)
                ok = False
        return ok

    def availability(self) -> dict[str, Any]:
        """The document the forms describe, in the shape of doctors/schemas.py."""
        weekly: dict[str, list[dict[str, str]]] = {}
        for day in self.days:
            ranges = [r for r in (form.as_range() for form in day.formset.forms) if r]
            if ranges:
                weekly[day.key] = sorted(ranges, key=lambda r: r["start"])
        by_date: dict[date, dict[str, Any]] = {}
        kept = sorted(
            (f for f in self.overrides.forms if f.kept),
            key=lambda f: (f.cleaned_data["date"], f.cleaned_data.get("start") or time.min),
        )
        for form in kept:
            data = form.cleaned_data
            entry = by_date.setdefault(data["date"], {"date": data["date"].isoformat(), "ranges": []})
            if data.get("note") and "note" not in entry:
                entry["note"] = data["note"]
            if data.get("start"):
                entry["ranges"].append({"start": data["start"].strftime("%H:%M"), "end": data["end"].strftime("%H:%M")})
        return {
            "timezone": self.settings.zone_name(),
            "slot_minutes": self.settings.cleaned_data["slot_minutes"],
            "buffer_minutes": self.settings.cleaned_data["buffer_minutes"],
            "weekly": weekly,
            "overrides": list(by_date.values()),
        }

    def add_model_errors(self, error: ValidationError) -> None:
        """Show the model's verdict beside the right field.

        Messages name what they are about first ("weekly.tue: …",
        "overrides.2026-12-27: …", "timezone: …"); see doctors/schemas.py.
        """
        messages = [m for ms in getattr(error, "message_dict", {"": error.messages}).values() for m in ms]
        for message in messages:
            where, sep, text = message.partition(": ")
            if not sep:
                self.non_field_errors.append(message)
                continue
            text = text[:1].upper() + text[1:]
            head = where.split("[")[0]
            if head.startswith("weekly."):
                self._day_error(head.removeprefix("weekly."), text)
            elif head.startswith("overrides."):
                self._override_error(head.removeprefix("overrides."), text)
            elif head == "timezone":
                self.settings.add_error(self.settings.zone_field, text)
            elif head in ("slot_minutes", "buffer_minutes"):
                self.settings.add_error(head, text)
            else:
                self.non_field_errors.append(message)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(where, what, id to link to) for every error on the page, in page order."""
        found: list[tuple[str, str, str]] = []

        def add(where: str, what: str, target: str) -> None:
            if (where, what) not in {(w, m) for w, m, _ in found}:
                found.append((where, what, target))

        for name, errors in self.settings.errors.items():
            if name != "__all__":
                for error in errors:
                    add(str(self.settings[name].label), error, self.settings[name].auto_id)
        for day in self.days:
            for error in [*day.errors, *day.formset.non_form_errors()]:
                add(day.label, error, f"{day.key}-errors")
            for form in day.formset.forms:
                if form.data.get(form.add_prefix("DELETE")):
                    continue
                for name, errors in form.errors.items():
                    for error in errors:
                        add(day.label, error, form[name if name != "__all__" else "start"].auto_id)
        for error in self.overrides.non_form_errors():
            add("Days off and different hours", error, "avl-dates-title")
        for number, form in enumerate(self.overrides.forms, start=1):
            if form.data.get(form.add_prefix("DELETE")):
                continue
            for name, errors in form.errors.items():
                for error in errors:
                    add(f"Date row {number}", error, form[name if name != "__all__" else "date"].auto_id)
        return found

    def _day_error(self, key: str, text: str) -> None:
        day = next((d for d in self.days if d.key == key), None)
        if day is None:
            self.non_field_errors.append(text)
            return
        day.errors.append(text)
        # An inverted range is one row's fault: mark that row's end time too.
        for form in day.formset.forms:
            span = form.as_range()
            if span and span["end"] <= span["start"]:
                form.add_error("end", text)

    def _override_error(self, iso_date: str, text: str) -> None:
        rows = [
            f for f in self.overrides.forms if f.kept and f.cleaned_data.get("date", date.min).isoformat() == iso_date
        ]
        if not rows:
            self.non_field_errors.append(f"{iso_date}: {text}")
            return
        rows[0].add_error("date", text)
        for form in rows:
            start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
            if start and end and end <= start:
                form.add_error("end", text)

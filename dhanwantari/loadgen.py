"""The load-test data set behind `manage.py generate_load_data` (issue 10).

Scale 1 is the size the benchmarks are read at:

    doctors 2,000 · patients 50,000 · consultations 200,000 · messages 1,000,000
    prescriptions 100,000 (+ ~2 items each) · notifications 200,000 · reviews 20,000

and any scale multiplies every count (0.01 for a test, 0.1 for a quick bench).

How it stays fast: rows are built in memory and written with `bulk_create`
in batches (one INSERT of `batch_size` rows each), every generated account
shares ONE password hash (Argon2 costs ~0.4 s by design: hashing per user
would take hours), and nothing goes through the services, which write audit
rows, notifications and broadcasts per row. What the services would keep
consistent is put right at the end in bulk: the doctors' rating aggregates
(the same sum / count, rounded half up, as doctors.services._rating_refresh)
and `next_available_at` (doctors.services.next_available_refresh_all).

What still holds for every row: ids come from the project's id factory
(dhanwantari.ids); JSON columns follow the documented schemas (SchemaJSONField
checks them again in pre_save, even on bulk_create); encrypted columns go
through the field (bulk_create calls get_prep_value), so they are encrypted
and kept short; payment columns follow the status as the services set them
(paid with paid_at, cancelled-and-paid refunded or refund pending, cancelled
unpaid not required, AI intakes not required); every CheckConstraint holds;
a review is written only for a completed consultation with a doctor, at most
one each.

Generated accounts have emails `<id>@load.dhanwantari.test` (a reserved TLD,
never a real inbox), no phone numbers, and the password LOAD_PASSWORD. Their
presence is how a second run recognises a database that already holds
generated data. Random choices come from one `random.Random(seed)`: the same
seed gives the same counts and the same distributions (ids and timestamps,
which are relative to now, differ).
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Notification, Role, User
from accounts.notifications import kinds_for
from consultations.intake.services import assistant_user
from consultations.models import (
    Consultation,
    ConsultationType,
    Message,
    MessageType,
    Mode,
    PaymentMethod,
    PaymentStatus,
    Status,
    TriageLevel,
)
from dhanwantari.ids import new_id
from doctors.models import DoctorProfile, DoctorReview, VerificationStatus
from doctors.schemas import SPECIALIZATIONS
from doctors.services import next_available_refresh_all
from patients.models import BloodGroup, Gender, PatientProfile
from prescriptions.models import (
    DosageForm,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    PrescriptionType,
    Remedy,
)

EMAIL_DOMAIN = "load.dhanwantari.test"
LOAD_PASSWORD = "dhanwantari-load"  # noqa: S105 - published, like the demo password: a load-test tool.
IST = ZoneInfo("Asia/Kolkata")

# Rows per table at scale 1.
BASE_COUNTS = {
    "doctors": 2_000,
    "patients": 50_000,
    "consultations": 200_000,
    "messages": 1_000_000,
    "prescriptions": 100_000,
    "notifications": 200_000,
    "reviews": 20_000,
}

REFUSED_NOT_DEBUG = (
    "DEBUG is off: generate_load_data fills the database with fake accounts sharing a published "
    "password. Run it with --force only against a load-test database."
)
REFUSED_ALREADY_GENERATED = (
    "This database already holds generated load data. Run with --append to add another set, "
    "or point DATABASE_URL at an empty database."
)


class GenerationRefused(Exception):
    """generate_load_data was pointed at a database it must not fill."""


def plan(scale: float) -> dict[str, int]:
    """Rows per table at `scale` (at least one of each, so a tiny scale still has every kind)."""
    if scale <= 0:
        raise ValueError("scale must be positive.")
    return {name: max(1, round(count * scale)) for name, count in BASE_COUNTS.items()}


def generated_users() -> models.QuerySet[User]:
    return User.all_objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")


# --- realistic values ------------------------------------------------------------------

FIRST_NAMES = (  # noqa: SIM905 - a list of words reads best as words
    "Aarav Aditi Akash Amit Ananya Anil Anjali Arjun Asha Deepa Divya Gaurav Geeta Harish Isha "
    "Kavita Kiran Lakshmi Madhav Manoj Meena Mohan Neha Nikhil Pooja Pradeep Priya Rahul Rajesh Ravi "
    "Rekha Rohan Sandeep Sanjay Sarita Shreya Sneha Suresh Swati Tanvi Uma Varun Vidya Vikram Vinay "
    "Yamini"
).split()
LAST_NAMES = (  # noqa: SIM905 - a list of words reads best as words
    "Agarwal Banerjee Bhat Chatterjee Das Deshpande Gupta Iyer Jain Joshi Kapoor Khan Kulkarni Kumar "
    "Menon Mehta Mishra Nair Patel Pillai Rao Reddy Sharma Shetty Singh Sinha Thomas Varghese Verma "
    "Yadav"
).split()
# (city, state, postal code, latitude, longitude, registration council)
CITIES = (
    ("Mumbai", "Maharashtra", "400050", 19.07, 72.87, "Maharashtra Council of Homoeopathy"),
    ("Pune", "Maharashtra", "411001", 18.52, 73.86, "Maharashtra Council of Homoeopathy"),
    ("New Delhi", "Delhi", "110024", 28.61, 77.21, "Board of Homoeopathic System of Medicine, Delhi"),
    ("Bengaluru", "Karnataka", "560038", 12.97, 77.59, "Karnataka Homoeopathy Board"),
    ("Kolkata", "West Bengal", "700019", 22.57, 88.36, "West Bengal Council of Homoeopathic Medicine"),
    ("Chennai", "Tamil Nadu", "600017", 13.08, 80.27, "Tamil Nadu Board of Indian Medicine (Homoeopathy)"),
    ("Hyderabad", "Telangana", "500034", 17.39, 78.49, "Telangana State Board of Homoeopathy"),
    ("Ahmedabad", "Gujarat", "380009", 23.02, 72.57, "Gujarat Board of Homoeopathic Medicine"),
    ("Jaipur", "Rajasthan", "302001", 26.91, 75.79, "Rajasthan Homoeopathic Medicine Board"),
    ("Lucknow", "Uttar Pradesh", "226001", 26.85, 80.95, "Board of Homoeopathic Medicine, U.P."),
    ("Kochi", "Kerala", "682020", 9.97, 76.30, "Travancore-Cochin Medical Council (Homoeopathy)"),
    ("Bhopal", "Madhya Pradesh", "462001", 23.26, 77.41, "M.P. Council of Homoeopathic Medicine"),
    ("Patna", "Bihar", "800001", 25.59, 85.14, "Bihar State Homoeopathic Medical Board"),
    ("Chandigarh", "Chandigarh", "160017", 30.73, 76.78, "Punjab Homoeopathic Medicine Board"),
    ("Nagpur", "Maharashtra", "440010", 21.15, 79.09, "Maharashtra Council of Homoeopathy"),
)
LANGUAGES = ("Hindi", "Marathi", "Tamil", "Telugu", "Kannada", "Bengali", "Malayalam", "Gujarati", "Punjabi")
QUALIFICATIONS = (["BHMS"], ["BHMS", "MD (Hom)"], ["BHMS", "MD (Hom)", "PhD (Hom)"], ["DHMS"])
MODE_SETS = (
    ["chat", "audio", "video", "in_person"],
    ["chat", "video", "in_person"],
    ["chat", "audio", "video"],
    ["video", "in_person"],
    ["chat", "video"],
)
FEES = (300, 400, 500, 600, 700, 800, 1000, 1200, 1500)
COMPLAINTS = (
    ("Recurring headache", "right temple", "throbbing", ["pressure", "dark room"], ["sun", "noise"]),
    ("Dry cough at night", "throat", "tickling", ["warm drinks"], ["lying down", "cold air"]),
    ("Eczema on both hands", "hands", "itching", ["cold water"], ["washing", "wool"]),
    ("Acidity after meals", "stomach", "burning", ["cold milk"], ["spicy food", "fasting"]),
    ("Knee pain", "left knee", "aching", ["rest", "warmth"], ["stairs", "damp weather"]),
    ("Sneezing every morning", "nose", "tickling", ["open air"], ["dust", "morning"]),
    ("Poor sleep and worry", "", "restless", ["company"], ["night", "being alone"]),
    ("Irregular periods", "", "cramping", ["pressure", "bending double"], ["before menses"]),
    ("Hair fall", "scalp", "", [], ["stress"]),
    ("Fever with chills", "", "chilly", ["covering"], ["evening"]),
)
DURATIONS = ("3 days", "1 week", "3 weeks", "2 months", "6 months", "2 years")
ALLERGENS = ("Pollen", "Dust mite", "Penicillin", "Sulfa drugs", "Peanuts", "Shellfish", "Latex")
MEDICINES = (("Levothyroxine", "50mcg"), ("Metformin", "500mg"), ("Amlodipine", "5mg"), ("Cetirizine", "10mg"))
CONDITIONS = ("Hypothyroidism", "Type 2 diabetes", "Hypertension", "Asthma", "PCOS", "Migraine")
POTENCIES = (  # (value, scale, dosage form, pill size)
    (30, "C", DosageForm.GLOBULES, 30),
    (200, "C", DosageForm.GLOBULES, 30),
    (1000, "C", DosageForm.GLOBULES, 40),
    (6, "X", DosageForm.TABLETS, None),
    (3, "X", DosageForm.BIOCHEMIC, None),
    (1, "LM", DosageForm.DILUTION, None),
    (None, "Q", DosageForm.MOTHER_TINCTURE, None),
)
CHAT_LINES = (
    "Good evening, doctor.",
    "The headache came back yesterday.",
    "How is the sleep since the last dose?",
    "Better, I wake up only once now.",
    "Any change in thirst or appetite?",
    "I crave sweets more than before.",
    "Please continue the same medicine for two more weeks.",
    "Should I avoid coffee?",
    "Yes, and keep the medicine away from strong smells.",
    "Thank you, doctor.",
)
AI_LINES = ("Hello, I will take your case before the doctor sees it.", "Where exactly do you feel it?", "Thank you.")
_UNLISTED = {17: VerificationStatus.PENDING, 18: VerificationStatus.DRAFT, 19: VerificationStatus.REJECTED}
REVIEW_COMMENTS = ("Listened carefully.", "Explained the remedy well.", "Helpful follow-up.", "", "Very patient.")


# --- the generator ---------------------------------------------------------------------


@dataclass
class Result:
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows written by this run
    seconds: float = 0.0


@dataclass(frozen=True)
class _Cons:
    """What later tables need to know of a consultation, without keeping the model."""

    id: str
    patient_id: str
    doctor_id: str | None
    status: str
    ai: bool
    start: datetime  # when its conversation began
    created_at: datetime


class Generator:
    def __init__(
        self,
        *,
        scale: float,
        seed: int = 1,
        batch_size: int = 5_000,
        now: datetime | None = None,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.counts = plan(scale)
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not secrets
        self.batch_size = batch_size
        self.now = (now or timezone.now()).replace(microsecond=0)
        self.log = log
        self.result = Result()
        self._emails: list[tuple[str, str]] = []

    # --- plumbing ---

    def _insert(self, label: str, model: type[models.Model], rows: Iterable[models.Model], total: int) -> None:
        """bulk_create `rows` in batches, logging progress per table."""
        written = 0
        batch: list[models.Model] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.batch_size:
                model._base_manager.bulk_create(batch)
                written += len(batch)
                batch = []
                if written < total:
                    self.log(f"  {label}: {written:,}/{total:,}")
        if batch:
            model._base_manager.bulk_create(batch)
            written += len(batch)
        self.log(f"  {label}: {written:,} done")
        self.result.counts[model._meta.db_table] = self.result.counts.get(model._meta.db_table, 0) + written

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def _past(self, days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(days * 86_400))

    # --- tables ---

    def run(self) -> Result:
        started = clock.monotonic()
        password = make_password(LOAD_PASSWORD)
        self.assistant = assistant_user()
        self.remedies = list(Remedy.objects.filter(active=True).values_list("id", "name")[:300]) or [(None, "Sulphur")]
        self.doctors = self._doctors(password)
        self.patients = self._patients(password)
        self._email_addresses()
        consultations = self._consultations()
        self._messages(consultations)
        completed = [c for c in consultations if c.status == Status.COMPLETED and not c.ai]
        self.rng.shuffle(completed)
        self._prescriptions(completed)
        self._reviews(completed)
        self._notifications(consultations)
        self.log("  doctors' ratings and next free slots")
        self._ratings()
        next_available_refresh_all(now=timezone.now())
        self._analyze()
        self.result.seconds = clock.monotonic() - started
        return self.result

    def _analyze(self) -> None:
        """Fresh optimizer statistics for the tables just filled (MySQL/MariaDB).

        InnoDB recounts them in the background some time after a bulk load; until
        then plans are made on stale numbers (seen here: the patient dashboard's
        unread count read `messages` through the sender index, ~250 rows per
        consultation, instead of (consultation_id, created_at)). Skipped inside a
        transaction (a test's), since ANALYZE TABLE commits implicitly.
        """
        if connection.vendor != "mysql" or connection.in_atomic_block:
            return
        self.log("  ANALYZE TABLE")
        tables = ", ".join(connection.ops.quote_name(table) for table in self.result.counts)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE TABLE {tables}")
            cursor.fetchall()

    def _user(self, role: str, password: str, joined: datetime) -> User:
        pk = new_id(role)
        self._emails.append((pk, f"{pk.lower()}@{EMAIL_DOMAIN}"))
        return User(
            id=pk,
            email=f"{pk.lower()}@{EMAIL_DOMAIN}",
            role=role,
            password=password,
            email_verified=True,
            email_verified_at=joined + timedelta(minutes=5),
            timezone="Asia/Kolkata",
            created_at=joined,
            updated_at=joined,
        )

    def _availability(self) -> dict[str, Any]:
        rng = self.rng
        days = ["mon", "tue", "wed", "thu", "fri", "sat"] + (["sun"] if rng.random() < 0.15 else [])
        morning = rng.choice((("09:00", "13:00"), ("10:00", "13:00"), ("10:30", "14:00")))
        evening = rng.choice((None, ("17:00", "20:00"), ("18:00", "21:00")))
        weekly = {}
        for day in days:
            ranges = [{"start": morning[0], "end": morning[1]}]
            if evening and day not in ("sat", "sun"):
                ranges.append({"start": evening[0], "end": evening[1]})
            weekly[day] = ranges
        leave = (self.now.astimezone(IST).date() + timedelta(days=rng.randrange(3, 40))).isoformat()
        return {
            "timezone": "Asia/Kolkata",
            "slot_minutes": rng.choice((15, 20, 20, 30)),
            "buffer_minutes": rng.choice((0, 5, 5, 10)),
            "weekly": weekly,
            "overrides": [{"date": leave, "ranges": [], "note": "On leave"}],
        }

    def _doctors(self, password: str) -> list[tuple[str, Decimal, list[str]]]:
        """Users and profiles; returns (user id, fee, modes) of the verified doctors, the bookable ones."""
        rng, total = self.rng, self.counts["doctors"]
        users, profiles, bookable = [], [], []
        for n in range(total):
            joined = self._past(900) - timedelta(days=30)
            user = self._user(Role.DOCTOR, password, joined)
            users.append(user)
            # 85% verified; the rest awaiting, incomplete or rejected (n == 0 is always verified).
            status = _UNLISTED.get(n % 20, VerificationStatus.VERIFIED)
            city, state, postal, lat, lng, council = rng.choice(CITIES)
            fee = Decimal(rng.choice(FEES))
            modes = list(rng.choice(MODE_SETS))
            verified = status == VerificationStatus.VERIFIED
            name = self._name()
            profiles.append(
                DoctorProfile(
                    user_id=user.id,
                    full_name=f"Dr. {name}",
                    gender=rng.choice((Gender.FEMALE, Gender.MALE)),
                    registration_number=f"{state[:2].upper()}-HOM-{rng.randrange(10_000, 99_999)}",
                    registration_council=council,
                    qualifications=list(rng.choice(QUALIFICATIONS)),
                    specializations=rng.sample(list(SPECIALIZATIONS), rng.randint(1, 4)),
                    languages=["English", *rng.sample(LANGUAGES, rng.randint(1, 3))],
                    experience_years=rng.randint(1, 35),
                    bio=f"Homoeopath in {city} for chronic and acute complaints.",
                    consultation_fee=fee,
                    follow_up_fee=(fee * Decimal("0.6")).quantize(Decimal("1")),
                    follow_up_window_days=rng.choice((0, 15, 30)),
                    follow_up_visits=rng.choice((1, 2)),
                    consultation_modes=modes,
                    clinic_name=f"{name.split()[1]} Homoeopathy Clinic",
                    clinic_address=f"{rng.randint(1, 200)}, Main Road",
                    city=city,
                    state=state,
                    postal_code=postal,
                    latitude=Decimal(f"{lat + rng.uniform(-0.15, 0.15):.6f}"),
                    longitude=Decimal(f"{lng + rng.uniform(-0.15, 0.15):.6f}"),
                    availability=self._availability(),
                    verification_status=status,
                    submitted_at=None if status == VerificationStatus.DRAFT else joined + timedelta(hours=3),
                    verified_at=joined + timedelta(days=2) if verified else None,
                    rejection_reason="Registration certificate unreadable." if status == "rejected" else "",
                    created_at=joined + timedelta(minutes=10),
                    updated_at=joined + timedelta(minutes=10),
                )
            )
            if verified:
                bookable.append((user.id, fee, modes))
        self._insert("doctor users", User, users, total)
        self._insert("doctor_profiles", DoctorProfile, profiles, total)
        return bookable

    def _patients(self, password: str) -> list[str]:
        rng, total = self.rng, self.counts["patients"]
        ids: list[str] = []
        self._joined: dict[str, datetime] = {}

        def users() -> Iterator[User]:
            for _ in range(total):
                user = self._user(Role.PATIENT, password, self._past(720))
                ids.append(user.id)
                self._joined[user.id] = user.created_at
                yield user

        self._insert("patient users", User, users(), total)

        def profiles() -> Iterator[PatientProfile]:
            for user_id in ids:
                city, state, postal, *_ = rng.choice(CITIES)
                joined = self._joined[user_id] + timedelta(minutes=8)
                has_body = rng.random() < 0.8
                yield PatientProfile(
                    user_id=user_id,
                    full_name=self._name(),
                    date_of_birth=date(1945, 1, 1) + timedelta(days=rng.randrange(28_000)),
                    gender=rng.choice((Gender.FEMALE, Gender.MALE, Gender.FEMALE, Gender.OTHER)),
                    blood_group=rng.choice(BloodGroup.values + [""]),
                    height_cm=Decimal(f"{rng.uniform(145, 190):.1f}") if has_body else None,
                    weight_kg=Decimal(f"{rng.uniform(40, 100):.1f}") if has_body else None,
                    allergies=[
                        {"name": a, "severity": rng.choice(("mild", "moderate", "severe")), "reaction": "rash"}
                        for a in rng.sample(ALLERGENS, rng.choice((0, 0, 0, 1, 2)))
                    ],
                    medications=[
                        {"name": m, "dosage": d, "frequency": "daily", "since": str(rng.randint(2010, 2025))}
                        for m, d in rng.sample(MEDICINES, rng.choice((0, 0, 0, 1)))
                    ],
                    chronic_conditions=[
                        {"name": c, "since": str(rng.randint(2000, 2025))}
                        for c in rng.sample(CONDITIONS, rng.choice((0, 0, 1)))
                    ],
                    # Encrypted columns: short, and empty for most (as in life).
                    medical_history="Typhoid in childhood." if rng.random() < 0.2 else "",
                    family_history="Father: diabetes." if rng.random() < 0.2 else "",
                    preferred_language=rng.choice(("en", "en", "hi", "mr", "ta")),
                    city=city,
                    state=state,
                    postal_code=postal,
                    created_at=joined,
                    updated_at=joined,
                )

        self._insert("patient_profiles", PatientProfile, profiles(), total)
        return ids

    def _email_addresses(self) -> None:
        # allauth's record of each address, verified: without it mandatory
        # email verification would stop the bench's users at sign-in.
        rows = (EmailAddress(user_id=pk, email=email, verified=True, primary=True) for pk, email in self._emails)
        self._insert("account_emailaddress", EmailAddress, rows, len(self._emails))

    def _symptoms(self, source: str) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        description, location, sensation, better, worse = rng.choice(COMPLAINTS)
        complaint: dict[str, Any] = {"description": description, "duration": rng.choice(DURATIONS)}
        if location:
            complaint["location"] = location
        if sensation:
            complaint["sensation"] = sensation
        complaint["severity"] = rng.choice(("mild", "moderate", "severe"))
        complaint["modalities"] = {"better": list(better), "worse": list(worse)}
        symptoms: dict[str, Any] = {"chief_complaint": description, "complaints": [complaint], "source": source}
        if rng.random() < 0.3:
            symptoms["generals"] = {"thirst": rng.choice(("thirsty", "thirstless")), "thermal": "chilly"}
        return description, symptoms

    def _consultations(self) -> list[_Cons]:
        rng, total = self.rng, self.counts["consultations"]
        kept: list[_Cons] = []
        # A few doctors are much busier than the rest, as in any directory.
        weights = [rng.paretovariate(1.5) for _ in self.doctors]

        def rows() -> Iterator[Consultation]:
            doctor_picks = rng.choices(self.doctors, weights=weights, k=total)
            for n in range(total):
                patient_id = rng.choice(self.patients)
                if rng.random() < 0.08:
                    yield self._ai_consultation(patient_id, kept)
                else:
                    yield self._doctor_consultation(patient_id, doctor_picks[n], kept)

        self._insert("consultations", Consultation, rows(), total)
        return kept

    def _ai_consultation(self, patient_id: str, kept: list[_Cons]) -> Consultation:
        rng = self.rng
        created = self._past(365)
        live = rng.random() < 0.05
        level = rng.choices(TriageLevel.values, weights=(2, 18, 80))[0]
        complaint, symptoms = self._symptoms("ai_intake")
        symptoms["triage"] = {"level": level, "rules": []}
        symptoms["intake"] = {"state": "taking" if live else "done", "step": "modalities", "complaint": 0}
        ended = None if live else created + timedelta(minutes=rng.randint(5, 20))
        row = Consultation(
            patient_id=patient_id,
            doctor_id=None,
            consultation_type=ConsultationType.AI,
            mode=Mode.CHAT,
            status=Status.IN_PROGRESS if live else Status.COMPLETED,
            started_at=created,
            ended_at=ended,
            duration_minutes=20,
            chief_complaint=complaint,
            symptoms=symptoms,
            triage_level=level,
            ai_summary="" if live else f"{complaint}; triage {level}.",
            fee_amount=Decimal("0"),
            payment_status=PaymentStatus.NOT_REQUIRED,
            created_at=created,
            updated_at=ended or created,
        )
        kept.append(_Cons(row.id, patient_id, None, row.status, True, created, created))
        return row

    def _slot(self, day_offset: int) -> datetime:
        """A slot start in clinic hours (IST) `day_offset` days from today."""
        day = self.now.astimezone(IST).date() + timedelta(days=day_offset)
        start = datetime.combine(day, time(10, 0), tzinfo=IST)
        return start + timedelta(minutes=25 * self.rng.randrange(7) + (7 * 60 if self.rng.random() < 0.4 else 0))

    def _doctor_consultation(self, patient_id: str, doctor: tuple[str, Decimal, list[str]], kept: list) -> Consultation:
        rng = self.rng
        doctor_id, fee, modes = doctor
        # 12% ahead in the next three weeks, a few running now, the rest in the last year.
        when = rng.random()
        fields: dict[str, Any] = {}
        if when < 0.12:
            scheduled = self._slot(rng.randint(0, 21))
            if scheduled <= self.now:
                scheduled += timedelta(days=1)
            status = Status.REQUESTED if rng.random() < 0.25 else Status.SCHEDULED
        elif when < 0.122:
            scheduled = self.now - timedelta(minutes=rng.randint(1, 15))
            status = Status.IN_PROGRESS
            fields["started_at"] = scheduled
        else:
            scheduled = self._slot(-rng.randint(1, 365))
            status = rng.choices(
                (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW, Status.SCHEDULED), weights=(82, 12, 5, 1)
            )[0]
        created = min(scheduled, self.now) - timedelta(hours=rng.randint(2, 240))
        duration = rng.choice((15, 20, 30))
        if status == Status.COMPLETED:
            started = scheduled + timedelta(minutes=rng.randint(0, 10))
            fields.update(started_at=started, ended_at=started + timedelta(minutes=duration + rng.randint(-5, 10)))
            fields["doctor_notes"] = "Case taken; follow up in four weeks."
        elif status == Status.NO_SHOW:
            fields["ended_at"] = scheduled + timedelta(minutes=20)
        elif status == Status.CANCELLED:
            fields.update(
                cancelled_at=created + timedelta(hours=1),
                cancelled_by_id=patient_id,
                cancellation_reason="Could not make it at this time.",
            )

        # Payment as the services leave it for this status.
        paid = {
            Status.REQUESTED: 0.0,
            Status.SCHEDULED: 0.6,
            Status.IN_PROGRESS: 0.9,
            Status.COMPLETED: 0.95,
            Status.NO_SHOW: 0.7,
            Status.CANCELLED: 0.5,
        }[status]
        method = rng.choice((PaymentMethod.RAZORPAY, PaymentMethod.RAZORPAY, PaymentMethod.OFFLINE))
        pay: dict[str, Any]
        if rng.random() < paid:
            order = f"order_{rng.getrandbits(56):014x}"
            pay = {
                "payment_status": PaymentStatus.PAID,
                "payment_method": method,
                "payment_order_id": order if method == PaymentMethod.RAZORPAY else "",
                "payment_reference": order.replace("order_", "pay_"),
                "paid_at": created + timedelta(minutes=3),
            }
            if status == Status.CANCELLED:
                pay["refund_amount"] = fee
                if rng.random() < 0.85:
                    pay.update(
                        payment_status=PaymentStatus.REFUNDED,
                        refunded_at=fields["cancelled_at"] + timedelta(days=2),
                        refund_reference=order.replace("order_", "rfnd_"),
                    )
                else:
                    pay["payment_status"] = PaymentStatus.REFUND_PENDING
        elif status == Status.CANCELLED:
            pay = {"payment_status": PaymentStatus.NOT_REQUIRED}
        else:
            failed = status == Status.REQUESTED and rng.random() < 0.1
            pay = {
                "payment_status": PaymentStatus.FAILED if failed else PaymentStatus.PENDING,
                "payment_method": PaymentMethod.PAY_AT_CLINIC if rng.random() < 0.3 else "",
            }
        complaint, symptoms = self._symptoms("patient")
        row = Consultation(
            patient_id=patient_id,
            doctor_id=doctor_id,
            consultation_type=ConsultationType.DOCTOR,
            mode=rng.choice(modes),
            status=status,
            scheduled_at=scheduled,
            duration_minutes=duration,
            chief_complaint=complaint,
            symptoms=symptoms,
            fee_amount=fee,
            created_at=created,
            updated_at=created,
            **fields,
            **pay,
        )
        start = fields.get("started_at") or created
        kept.append(_Cons(row.id, patient_id, doctor_id, status, False, start, created))
        return row

    def _messages(self, consultations: list[_Cons]) -> None:
        rng, total = self.rng, self.counts["messages"]
        # Conversations happen in consultations that took place or are about to.
        talking = [c for c in consultations if c.status in (Status.COMPLETED, Status.IN_PROGRESS, Status.SCHEDULED)]
        if not talking:
            return
        weights = [rng.uniform(0.2, 1.8) for _ in talking]
        scale = total / sum(weights)
        per = [int(w * scale) for w in weights]
        for i in rng.sample(range(len(talking)), min(len(talking), total - sum(per))):
            per[i] += 1
        while sum(per) < total:  # fewer consultations than the remainder (tiny scales)
            per[rng.randrange(len(per))] += 1

        def rows() -> Iterator[Message]:
            for cons, count in zip(talking, per, strict=True):
                other = self.assistant.id if cons.ai else cons.doctor_id
                live = cons.status != Status.COMPLETED
                lines = AI_LINES if cons.ai else CHAT_LINES
                for n in range(count):
                    sent = cons.start + timedelta(seconds=40 * n + rng.randrange(30))
                    if sent > self.now:
                        sent = self.now - timedelta(seconds=count - n)
                    system = n == 0 and not cons.ai
                    unread = live and n >= count - 2
                    yield Message(
                        consultation_id=cons.id,
                        sender_id=None if system else (cons.patient_id if n % 2 else other),
                        message_type=MessageType.SYSTEM if system else MessageType.TEXT,
                        body="The consultation has started." if system else lines[n % len(lines)],
                        delivered_at=sent,
                        read_at=None if unread else sent + timedelta(minutes=1),
                        created_at=sent,
                        updated_at=sent,
                    )

        self._insert("messages", Message, rows(), total)

    def _prescriptions(self, completed: list[_Cons]) -> None:
        rng = self.rng
        chosen = completed[: self.counts["prescriptions"]]
        # (prescription id, created_at, number of remedies): items are built after their
        # prescriptions are written, so at most one batch of model objects is in memory.
        heads: list[tuple[str, datetime, int]] = []

        def rows() -> Iterator[Prescription]:
            for cons in chosen:
                status = rng.choices(PrescriptionStatus.values, weights=(2, 97, 1))[0]
                issued = cons.start + timedelta(minutes=30)
                rx = Prescription(
                    consultation_id=cons.id,
                    patient_id=cons.patient_id,
                    doctor_id=cons.doctor_id,
                    prescription_type=rng.choice(PrescriptionType.values),
                    status=status,
                    diagnosis="Constitutional case." if rng.random() < 0.5 else "",
                    general_advice="Avoid coffee and strong smells.",
                    follow_up_date=(issued + timedelta(days=28)).date(),
                    issued_at=None if status == PrescriptionStatus.DRAFT else issued,
                    cancelled_at=issued + timedelta(days=1) if status == PrescriptionStatus.CANCELLED else None,
                    cancellation_reason="Withdrawn by the doctor." if status == PrescriptionStatus.CANCELLED else "",
                    created_at=issued - timedelta(minutes=10),
                    updated_at=issued,
                )
                heads.append((rx.id, rx.created_at, rng.choice((1, 2, 2, 3))))
                yield rx

        self._insert("prescriptions", Prescription, rows(), len(chosen))
        items = (self._item(pk, at, position) for pk, at, count in heads for position in range(count))
        # PrescriptionItem's bulk_create is its one raw path (see prescriptions.models).
        self._insert("prescription_items", PrescriptionItem, items, sum(head[2] for head in heads))

    def _item(self, prescription_id: str, created_at: datetime, position: int) -> PrescriptionItem:
        rng = self.rng
        remedy_id, remedy_name = rng.choice(self.remedies)
        value, scale, form, pill = rng.choices(POTENCIES, weights=(35, 25, 10, 8, 8, 6, 8))[0]
        lm_plan = None
        if scale == "LM":
            lm_plan = {"succussions": 10, "bottle_ml": 30, "dilution_cups": 1, "steps": [{"level": 1, "days": 15}]}
        return PrescriptionItem(
            prescription_id=prescription_id,
            position=position,
            remedy_id=remedy_id,
            remedy_name=remedy_name,
            potency_value=value,
            potency_scale=scale,
            dosage_form=form,
            pill_size=pill,
            dose="4 globules" if form == DosageForm.GLOBULES else "10 drops in water",
            repetition=rng.choice(("tds", "bd", "od", "weekly", "sos")),
            duration=rng.choice(("7 days", "2 weeks", "1 month")),
            quantity="2 dram",
            lm_plan=lm_plan,
            instruction_codes=["clean_mouth", "avoid_coffee"] if form == DosageForm.GLOBULES else [],
            created_at=created_at,
            updated_at=created_at,
        )

    def _reviews(self, completed: list[_Cons]) -> None:
        rng = self.rng
        # Only this run's consultations: each gets at most one review (the OneToOne).
        chosen = completed[-self.counts["reviews"] :] if completed else []

        def rows() -> Iterator[DoctorReview]:
            for cons in chosen:
                at = cons.start + timedelta(days=rng.randint(1, 10))
                visible = rng.random() < 0.97
                yield DoctorReview(
                    doctor_id=cons.doctor_id,
                    patient_id=cons.patient_id,
                    consultation_id=cons.id,
                    rating=rng.choices((5, 4, 3, 2, 1), weights=(55, 28, 10, 4, 3))[0],
                    comment=rng.choice(REVIEW_COMMENTS),
                    is_visible=visible,
                    hidden_reason="" if visible else "Personal details in the comment.",
                    created_at=at,
                    updated_at=at,
                )

        self._insert("doctor_reviews", DoctorReview, rows(), len(chosen))

    def _notifications(self, consultations: list[_Cons]) -> None:
        rng, total = self.rng, self.counts["notifications"]
        doctor_care = [k for k in kinds_for(Role.DOCTOR) if k.startswith("consultation") or k == "message_received"]
        patient_care = [k for k in kinds_for(Role.PATIENT) if k.startswith(("consultation", "payment", "prescription"))]
        with_doctor = [c for c in consultations if not c.ai]

        def rows() -> Iterator[Notification]:
            for _ in range(total):
                cons = rng.choice(with_doctor)
                to_doctor = rng.random() < 0.3
                kind = rng.choice(doctor_care if to_doctor else patient_care)
                at = min(cons.created_at + timedelta(minutes=rng.randint(1, 600)), self.now)
                yield Notification(
                    user_id=cons.doctor_id if to_doctor else cons.patient_id,
                    kind=kind,
                    title=kind.replace("_", " ").capitalize(),
                    body="Open the consultation for details.",
                    deeplink=f"/consultations/{cons.id}/",
                    data={"consultation_id": cons.id},
                    read_at=at + timedelta(hours=1) if rng.random() < 0.75 else None,
                    emailed_at=at,
                    created_at=at,
                    updated_at=at,
                )

        if with_doctor:
            self._insert("notifications", Notification, rows(), total)

    def _ratings(self) -> None:
        """rating_avg and rating_count as doctors.services._rating_refresh computes them."""
        doctor_ids = [d[0] for d in self.doctors]
        totals = {
            row["doctor_id"]: row
            for row in DoctorReview.all_objects.filter(doctor_id__in=doctor_ids, is_visible=True)
            .values("doctor_id")
            .annotate(total=Sum("rating"), count=Count("id"))
        }
        profiles = list(DoctorProfile.all_objects.filter(user_id__in=doctor_ids).only("id", "user_id"))
        for profile in profiles:
            row = totals.get(profile.user_id)
            count = row["count"] if row else 0
            profile.rating_count = count
            profile.rating_avg = (
                (Decimal(row["total"]) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                if count
                else Decimal("0")
            )
        DoctorProfile.all_objects.bulk_update(profiles, ["rating_avg", "rating_count"], batch_size=self.batch_size)


def generate(
    *,
    scale: float,
    seed: int = 1,
    batch_size: int = 5_000,
    append: bool = False,
    force: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> Result:
    """Fill the database with generated load data; refuses a production or already-filled one."""
    if not settings.DEBUG and not force:
        raise GenerationRefused(REFUSED_NOT_DEBUG)
    if not append and generated_users().exists():
        raise GenerationRefused(REFUSED_ALREADY_GENERATED)
    return Generator(scale=scale, seed=seed, batch_size=batch_size, log=log).run()


def table_counts() -> dict[str, int]:
    """Rows now in each table the generator writes (all rows, not only generated ones)."""
    models_ = (
        User,
        DoctorProfile,
        PatientProfile,
        Consultation,
        Message,
        Prescription,
        PrescriptionItem,
        DoctorReview,
        Notification,
    )
    return {model._meta.db_table: model._base_manager.count() for model in models_}

"""The demo data set behind `manage.py seed_demo`.

What it holds (every id is fixed and readable, so the schema document's sample
queries, which name `patient_001` and `doctor_001`, run verbatim against it):

- admin_001: staff superuser.
- doctor_001 … doctor_008: full profiles in Mumbai, Pune, Delhi, Bengaluru,
  Kolkata, Chennai, Jaipur and Kochi. Six are verified; doctor_007 is awaiting
  verification and doctor_008 was rejected, so `active_doctors` lists six.
- patient_001 … patient_010: profiles with date of birth, height and weight (so
  BMI is computed), blood group, allergies, medications and chronic conditions.
- cons_demo_001 … cons_demo_021: every status (requested, scheduled,
  in_progress, completed, cancelled, no_show) and both types (doctor, ai with a
  triage level). doctor_001 has three scheduled appointments in the future,
  two of them with patient_001. Payment fields follow the status: completed
  ones are paid with `paid_at`, one cancelled one is refunded, another has its
  refund pending, a request whose payment failed, AI intakes need no payment.
- messages (text and system) in six consultations; prescriptions with items in
  every potency scale (30 C, 200 C, 1M = 1000 C, 6 X, LM 1, Q) for completed
  consultations, one still a draft; notifications for patient_001, some unread;
  doctor reviews, one hidden by staff; audit rows for the staff decisions.
- No file_uploads: a medical file needs real bytes in private storage, and a
  demo that writes files outside the database transaction could not be rolled
  back with it.

Idempotent: every row is written with `update_or_create` on its fixed id (soft
deleted rows included, and restored), except prescriptions, which are
immutable once issued and so are deleted and written again under the same ids
and verification codes; a second run changes no row counts
and puts edited demo rows back. Times are relative to today in India, so the
future appointments stay in the future; on the same day a re-run writes the
same values (apart from `updated_at` and the two consultations happening right
now). admin_logs is append-only, so its rows are only ever created.

Every row is checked with `full_clean()` after it is written, inside the one
transaction, so demo data that breaks a model rule rolls the whole seed back.
Demo accounts have no phone numbers: a notifier must never text a stranger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from accounts.models import AdminLog, AuditAction, Notification, Role, User
from consultations.intake.services import assistant_user
from consultations.models import Consultation, Message, MessageType
from doctors.models import DoctorProfile, DoctorReview, VerificationStatus
from doctors.services import next_available_refresh_all
from patients.models import PatientProfile
from prescriptions.models import Prescription, PrescriptionItem
from prescriptions.potency import parse_potency
from prescriptions.queries import remedy_lookup

# Published in the README and printed by seed_demo; outside DEBUG the command refuses
# a database with real accounts (see `seed`).
DEFAULT_PASSWORD = "dhanwantari-demo"  # noqa: S105
EMAIL_DOMAIN = "demo.dhanwantari.in"
IST = ZoneInfo("Asia/Kolkata")
STAFF_IP = "203.0.113.10"  # TEST-NET-3: a documentation address, never a real client.

ADMIN_ID = "admin_001"
DOCTOR_IDS = [f"doctor_{n:03d}" for n in range(1, 9)]
PATIENT_IDS = [f"patient_{n:03d}" for n in range(1, 11)]
DEMO_USER_IDS = [ADMIN_ID, *DOCTOR_IDS, *PATIENT_IDS]

REFUSED_REAL_DATA = (
    "This database holds accounts that are not demo accounts and DEBUG is off: "
    "seed_demo would add a superuser with a published password. Run it with --force "
    "only if this really is a demo database."
)


class SeedRefused(Exception):
    """seed_demo was pointed at a database that looks like a real one."""


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    id: str
    note: str


# --- the clock ---------------------------------------------------------------


class _Clock:
    """Demo times relative to today in India (where the demo clinics are).

    Anchored on the date rather than the second, so two runs on one day write
    the same times; only the consultations happening right now use `now`.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now.replace(second=0, microsecond=0)
        self.today = now.astimezone(IST).date()

    def at(self, days: int, hhmm: str) -> datetime:
        return datetime.combine(self.today + timedelta(days=days), time.fromisoformat(hhmm), tzinfo=IST)

    def day(self, days: int) -> date:
        return self.today + timedelta(days=days)

    def workday(self, n: int) -> date:
        """The n-th (0-based) day after today on which the clinics open (Mon–Sat)."""
        day = self.today
        while True:
            day += timedelta(days=1)
            if day.weekday() != 6:
                if n == 0:
                    return day
                n -= 1

    def at_open(self, days: int, hhmm: str) -> datetime:
        """A past time on a day the clinics open: a Sunday moves to the Saturday before."""
        day = self.today + timedelta(days=days)
        if day.weekday() == 6:
            day -= timedelta(days=1)
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=IST)

    def at_workday(self, n: int, hhmm: str) -> datetime:
        return datetime.combine(self.workday(n), time.fromisoformat(hhmm), tzinfo=IST)

    def next_sunday_after(self, days: int) -> date:
        day = self.today + timedelta(days=days)
        return day + timedelta(days=(6 - day.weekday()) % 7 or 7)

    def ago(self, minutes: int) -> datetime:
        return self.now - timedelta(minutes=minutes)


# --- writing rows -------------------------------------------------------------


def _upsert(model: type[models.Model], pk: str, **fields: Any) -> Any:
    """Create or update the row with this fixed id, then validate it.

    Goes through `all_objects` where the model soft-deletes, so a demo row that
    someone deleted is found and restored rather than duplicated. Validation
    runs after the write, inside the seed's transaction: field validators and
    `clean()` here; unique and check constraints were already enforced by the
    database on the write itself, so asking Django to re-check them would only
    cost a query each.
    """
    manager = getattr(model, "all_objects", model._default_manager)
    if any(f.name == "deleted_at" for f in model._meta.fields):
        fields["deleted_at"] = None
    obj, _ = manager.update_or_create(id=pk, defaults=fields)
    obj.full_clean(validate_unique=False, validate_constraints=False)
    return obj


def _password_hash(password: str) -> str:
    """One hash of the demo password, shared by every demo account.

    Argon2 takes ~0.4 s per hash or check by design; nineteen of each on every
    run made `make run` wait ~10 s. So the hash already stored for admin_001 is
    reused when it still matches, otherwise the password is hashed once. All
    demo accounts share one published password anyway.
    """
    stored = User.all_objects.filter(id=ADMIN_ID).values_list("password", flat=True).first()
    if stored and check_password(password, stored):
        return stored
    return make_password(password)


def _user(pk: str, *, email: str, role: str, password_hash: str, joined: datetime, staff: bool = False) -> User:
    user = _upsert(
        User,
        pk,
        email=email,
        phone=None,
        role=role,
        password=password_hash,
        is_active=True,
        is_staff=staff,
        is_superuser=staff,
        email_verified=True,
        email_verified_at=joined + timedelta(minutes=7),
        failed_login_attempts=0,
        last_failed_login_at=None,
        locked_until=None,
        timezone="Asia/Kolkata",
        created_at=joined,
    )
    # allauth keeps its own record of addresses; without it a demo user would
    # look unverified on the account's email page.
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


# --- people -------------------------------------------------------------------

_WEEK_MORNINGS = {day: [{"start": "10:00", "end": "13:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
_WEEKDAY_EVENINGS = {day: [{"start": "17:00", "end": "20:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


def _weekly(*, evenings: bool = True) -> dict[str, list[dict[str, str]]]:
    """Mon–Sat mornings and, for most doctors, Mon–Fri evenings (slots of 20 + 5 minutes)."""
    week = {day: list(ranges) for day, ranges in _WEEK_MORNINGS.items()}
    if evenings:
        for day, ranges in _WEEKDAY_EVENINGS.items():
            week[day] = week[day] + ranges
    return week


DOCTORS: list[dict[str, Any]] = [
    {
        "id": "doctor_001",
        "login": "meera.deshpande",
        "full_name": "Dr. Meera Deshpande",
        "gender": "female",
        "registration_number": "MCH/38214",
        "registration_council": "Maharashtra Council of Homoeopathy",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["classical", "respiratory_allergy", "dermatology"],
        "languages": ["English", "Hindi", "Marathi"],
        "experience_years": 14,
        "bio": (
            "Classical homoeopath treating allergies, sinusitis and chronic skin complaints. "
            "Takes a full case on the first visit and follows up every four weeks."
        ),
        "consultation_fee": "800.00",
        "follow_up_fee": "500.00",
        "consultation_modes": ["chat", "audio", "video", "in_person"],
        "clinic_name": "Sanjeevani Homoeopathy Clinic",
        "clinic_address": "2nd floor, Pali Hill Plaza, Pali Mala Road, Bandra West",
        "city": "Mumbai",
        "state": "Maharashtra",
        "postal_code": "400050",
        "latitude": "19.066950",
        "longitude": "72.826690",
        "status": VerificationStatus.VERIFIED,
        "joined": -400,
    },
    {
        "id": "doctor_002",
        "login": "vikram.kulkarni",
        "full_name": "Dr. Vikram Kulkarni",
        "gender": "male",
        "registration_number": "MCH/21907",
        "registration_council": "Maharashtra Council of Homoeopathy",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["musculoskeletal", "chronic", "geriatrics"],
        "languages": ["English", "Marathi", "Hindi"],
        "experience_years": 22,
        "bio": "Joint pain, back pain and the chronic complaints of older patients; clinic visits preferred.",
        "consultation_fee": "600.00",
        "follow_up_fee": "400.00",
        "consultation_modes": ["chat", "video", "in_person"],
        "clinic_name": "Kulkarni Homoeopathy Centre",
        "clinic_address": "Lane 6, North Main Road, Koregaon Park",
        "city": "Pune",
        "state": "Maharashtra",
        "postal_code": "411001",
        "latitude": "18.536208",
        "longitude": "73.893975",
        "status": VerificationStatus.VERIFIED,
        "joined": -380,
    },
    {
        "id": "doctor_003",
        "login": "rohit.malhotra",
        "full_name": "Dr. Rohit Malhotra",
        "gender": "male",
        "registration_number": "DL-H-14562",
        "registration_council": "Board of Homoeopathic System of Medicine, Delhi",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["mental_emotional", "lifestyle", "endocrine"],
        "languages": ["English", "Hindi", "Punjabi"],
        "experience_years": 9,
        "bio": "Stress, sleep and thyroid care for working professionals; evening video consultations.",
        "consultation_fee": "700.00",
        "follow_up_fee": "450.00",
        "consultation_modes": ["chat", "audio", "video"],
        "clinic_name": "Malhotra Homoeo Clinic",
        "clinic_address": "E-41, Lajpat Nagar II",
        "city": "New Delhi",
        "state": "Delhi",
        "postal_code": "110024",
        "latitude": "28.567471",
        "longitude": "77.243711",
        "status": VerificationStatus.VERIFIED,
        "joined": -300,
    },
    {
        "id": "doctor_004",
        "login": "kavya.hegde",
        "full_name": "Dr. Kavya Hegde",
        "gender": "female",
        "registration_number": "KHB-9087",
        "registration_council": "Karnataka Homoeopathy Board",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["paediatrics", "respiratory_allergy", "ent"],
        "languages": ["English", "Kannada", "Hindi", "Tulu"],
        "experience_years": 11,
        "bio": "Children's coughs, colds, tonsillitis and allergies; gentle, unhurried consultations.",
        "consultation_fee": "750.00",
        "follow_up_fee": "500.00",
        "consultation_modes": ["chat", "video", "in_person"],
        "clinic_name": "Little Sprouts Homoeopathy",
        "clinic_address": "100 Feet Road, HAL 2nd Stage, Indiranagar",
        "city": "Bengaluru",
        "state": "Karnataka",
        "postal_code": "560038",
        "latitude": "12.971891",
        "longitude": "77.641151",
        "status": VerificationStatus.VERIFIED,
        "joined": -280,
    },
    {
        "id": "doctor_005",
        "login": "subhankar.banerjee",
        "full_name": "Dr. Subhankar Banerjee",
        "gender": "male",
        "registration_number": "WB-HOM-7731",
        "registration_council": "West Bengal Council of Homoeopathic Medicine",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["classical", "chronic", "digestive", "womens_health"],
        "languages": ["English", "Bengali", "Hindi"],
        "experience_years": 30,
        "bio": "Three decades of classical practice in Ballygunge; chronic and digestive complaints.",
        "consultation_fee": "500.00",
        "follow_up_fee": "300.00",
        "consultation_modes": ["chat", "audio", "video", "in_person"],
        "clinic_name": "Banerjee Homoeo Hall",
        "clinic_address": "14 Gariahat Road (South), Ballygunge",
        "city": "Kolkata",
        "state": "West Bengal",
        "postal_code": "700019",
        "latitude": "22.518800",
        "longitude": "88.365400",
        "status": VerificationStatus.VERIFIED,
        "joined": -360,
    },
    {
        "id": "doctor_006",
        "login": "lakshmi.narayanan",
        "full_name": "Dr. Lakshmi Narayanan",
        "gender": "female",
        "registration_number": "TN-HOM-5520",
        "registration_council": "Tamil Nadu Board of Indian Medicine (Homoeopathy)",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["womens_health", "infertility", "dermatology"],
        "languages": ["English", "Tamil"],
        "experience_years": 16,
        "bio": "Women's health, PCOS and stubborn skin complaints such as eczema and psoriasis.",
        "consultation_fee": "650.00",
        "follow_up_fee": "400.00",
        "consultation_modes": ["chat", "video", "in_person"],
        "clinic_name": "Amrutha Homoeopathy Clinic",
        "clinic_address": "23 Usman Road, T. Nagar",
        "city": "Chennai",
        "state": "Tamil Nadu",
        "postal_code": "600017",
        "latitude": "13.041800",
        "longitude": "80.233700",
        "status": VerificationStatus.VERIFIED,
        "joined": -250,
    },
    {
        "id": "doctor_007",
        "login": "priya.sharma",
        "full_name": "Dr. Priya Sharma",
        "gender": "female",
        "registration_number": "RJ-HOM-11873",
        "registration_council": "Rajasthan Homoeopathic Medicine Board",
        "qualifications": ["BHMS"],
        "specializations": ["acute", "womens_health"],
        "languages": ["English", "Hindi", "Rajasthani"],
        "experience_years": 4,
        "bio": "Acute and seasonal illness, and women's health.",
        "consultation_fee": "400.00",
        "follow_up_fee": "250.00",
        "consultation_modes": ["chat", "video"],
        "clinic_name": "Sharma Homoeopathy",
        "clinic_address": "Prithviraj Road, C-Scheme",
        "city": "Jaipur",
        "state": "Rajasthan",
        "postal_code": "302001",
        "latitude": "26.906200",
        "longitude": "75.796400",
        "status": VerificationStatus.PENDING,
        "joined": -3,
    },
    {
        "id": "doctor_008",
        "login": "thomas.varghese",
        "full_name": "Dr. Thomas Varghese",
        "gender": "male",
        "registration_number": "TCMC-H-40021",
        "registration_council": "Travancore-Cochin Medical Council (Homoeopathy)",
        "qualifications": ["BHMS", "MD (Hom)"],
        "specializations": ["classical", "musculoskeletal"],
        "languages": ["English", "Malayalam"],
        "experience_years": 7,
        "bio": "Classical prescribing for joint and muscle complaints.",
        "consultation_fee": "550.00",
        "follow_up_fee": "350.00",
        "consultation_modes": ["video", "in_person"],
        "clinic_name": "Varghese Homoeo Clinic",
        "clinic_address": "Kadavanthra Junction, Kadavanthra",
        "city": "Kochi",
        "state": "Kerala",
        "postal_code": "682020",
        "latitude": "9.966600",
        "longitude": "76.298000",
        "status": VerificationStatus.REJECTED,
        "rejection_reason": (
            "The registration number does not match the council's register. "
            "Please upload your registration certificate and resubmit."
        ),
        "joined": -40,
    },
]

PATIENTS: list[dict[str, Any]] = [
    {
        "id": "patient_001",
        "login": "asha.rao",
        "full_name": "Asha Rao",
        "date_of_birth": date(1991, 3, 14),
        "gender": "female",
        "blood_group": "B+",
        "height_cm": "160.0",
        "weight_kg": "57.5",
        "allergies": [
            {"name": "Pollen", "severity": "moderate", "reaction": "sneezing, watery eyes"},
            {"name": "Penicillin", "severity": "severe", "reaction": "hives"},
        ],
        "medications": [{"name": "Cetirizine", "dosage": "10mg", "frequency": "as needed"}],
        "chronic_conditions": [{"name": "Allergic rhinitis", "since": "2015"}],
        "medical_history": "Recurrent sinusitis since college. Tonsillectomy in 2003.",
        "family_history": "Mother: asthma. Father: hypertension.",
        "emergency": ("Rahul Rao", "Husband"),
        "preferred_language": "en",
        "address": ("Flat 702, Sea Breeze CHS", "Carter Road, Bandra West", "Mumbai", "Maharashtra", "400050"),
        "joined": -120,
    },
    {
        "id": "patient_002",
        "login": "rohan.mehta",
        "full_name": "Rohan Mehta",
        "date_of_birth": date(1985, 8, 22),
        "gender": "male",
        "blood_group": "O+",
        "height_cm": "175.0",
        "weight_kg": "82.0",
        "allergies": [],
        "medications": [{"name": "Amlodipine", "dosage": "5mg", "frequency": "daily", "since": "2019"}],
        "chronic_conditions": [{"name": "Hypertension", "since": "2019"}],
        "medical_history": "Appendicectomy in 2009.",
        "family_history": "Father: type 2 diabetes.",
        "emergency": ("Kavita Mehta", "Wife"),
        "preferred_language": "hi",
        "address": ("B-12, Sunshine Residency", "Baner Road", "Pune", "Maharashtra", "411045"),
        "joined": -90,
    },
    {
        "id": "patient_003",
        "login": "priya.nair",
        "full_name": "Priya Nair",
        "date_of_birth": date(1996, 11, 5),
        "gender": "female",
        "blood_group": "A+",
        "height_cm": "158.0",
        "weight_kg": "52.0",
        "allergies": [{"name": "Dust mites", "severity": "mild"}],
        "medications": [],
        "chronic_conditions": [{"name": "Migraine", "since": "2018", "notes": "worse before periods"}],
        "medical_history": "",
        "family_history": "Mother: migraine.",
        "emergency": ("Suresh Nair", "Father"),
        "preferred_language": "en",
        "address": ("45, 4th Cross", "HSR Layout Sector 2", "Bengaluru", "Karnataka", "560102"),
        "joined": -110,
    },
    {
        "id": "patient_004",
        "login": "arjun.singh",
        "full_name": "Arjun Singh",
        "date_of_birth": date(1978, 1, 30),
        "gender": "male",
        "blood_group": "AB+",
        "height_cm": "180.0",
        "weight_kg": "90.5",
        "allergies": [],
        "medications": [{"name": "Metformin", "dosage": "500mg", "frequency": "twice daily"}],
        "chronic_conditions": [{"name": "Type 2 diabetes", "since": "2020"}],
        "medical_history": "",
        "family_history": "Both parents: type 2 diabetes.",
        "emergency": ("Simran Singh", "Wife"),
        "preferred_language": "hi",
        "address": ("C-217", "Defence Colony", "New Delhi", "Delhi", "110024"),
        "joined": -60,
    },
    {
        "id": "patient_005",
        "login": "sneha.banerjee",
        "full_name": "Sneha Banerjee",
        "date_of_birth": date(1988, 6, 18),
        "gender": "female",
        "blood_group": "B-",
        "height_cm": "155.0",
        "weight_kg": "61.0",
        "allergies": [],
        "medications": [],
        "chronic_conditions": [{"name": "PCOS", "since": "2016"}],
        "medical_history": "",
        "family_history": "",
        "emergency": ("Anirban Banerjee", "Brother"),
        "preferred_language": "bn",
        "address": ("12/3 Hindustan Park", "Gariahat", "Kolkata", "West Bengal", "700029"),
        "joined": -50,
    },
    {
        "id": "patient_006",
        "login": "karthik.subramanian",
        "full_name": "Karthik Subramanian",
        "date_of_birth": date(1993, 9, 9),
        "gender": "male",
        "blood_group": "O-",
        "height_cm": "170.0",
        "weight_kg": "68.0",
        "allergies": [{"name": "Peanuts", "severity": "severe", "reaction": "swelling of the lips"}],
        "medications": [],
        "chronic_conditions": [{"name": "Atopic eczema", "since": "childhood"}],
        "medical_history": "Childhood asthma, outgrown by 12.",
        "family_history": "",
        "emergency": ("Meenakshi Subramanian", "Mother"),
        "preferred_language": "ta",
        "address": ("Old No. 8, New No. 15", "Venkatnarayana Road, T. Nagar", "Chennai", "Tamil Nadu", "600017"),
        "joined": -45,
    },
    {
        "id": "patient_007",
        "login": "fatima.sheikh",
        "full_name": "Fatima Sheikh",
        "date_of_birth": date(1982, 12, 1),
        "gender": "female",
        "blood_group": "A-",
        "height_cm": "165.0",
        "weight_kg": "70.0",
        "allergies": [],
        "medications": [{"name": "Levothyroxine", "dosage": "50mcg", "frequency": "daily, empty stomach"}],
        "chronic_conditions": [{"name": "Hypothyroidism", "since": "2018"}],
        "medical_history": "",
        "family_history": "Sister: hypothyroidism.",
        "emergency": ("Imran Sheikh", "Husband"),
        "preferred_language": "hi",
        "address": ("Flat 3B, Noor Manzil", "Mahim", "Mumbai", "Maharashtra", "400016"),
        "joined": -20,
    },
    {
        "id": "patient_008",
        "login": "ishaan.verma",
        "full_name": "Ishaan Verma",
        "date_of_birth": date(2001, 7, 15),
        "gender": "male",
        "blood_group": "O+",
        "height_cm": "178.0",
        "weight_kg": "64.0",
        "allergies": [],
        "medications": [],
        "chronic_conditions": [],
        "medical_history": "",
        "family_history": "",
        "emergency": ("Sunita Verma", "Mother"),
        "preferred_language": "hi",
        "address": ("27, Shanti Nagar", "Vaishali Nagar", "Jaipur", "Rajasthan", "302021"),
        "joined": -10,
    },
    {
        "id": "patient_009",
        "login": "lakshmi.menon",
        "full_name": "Lakshmi Menon",
        "date_of_birth": date(1956, 10, 2),
        "gender": "female",
        "blood_group": "A+",
        "height_cm": "152.0",
        "weight_kg": "60.0",
        "allergies": [{"name": "Sulfa drugs", "severity": "moderate", "reaction": "rash"}],
        "medications": [
            {"name": "Calcium with vitamin D3", "dosage": "500mg/250IU", "frequency": "daily"},
            {"name": "Telmisartan", "dosage": "40mg", "frequency": "daily"},
        ],
        "chronic_conditions": [
            {"name": "Osteoarthritis of both knees", "since": "2015"},
            {"name": "Hypertension", "since": "2012"},
        ],
        "medical_history": "Cataract surgery, right eye, 2021.",
        "family_history": "",
        "emergency": ("Anil Menon", "Son"),
        "preferred_language": "ml",
        "address": ("Menon Villa, Door 14/220", "Panampilly Nagar", "Kochi", "Kerala", "682036"),
        "joined": -70,
    },
    {
        "id": "patient_010",
        "login": "devika.joshi",
        "full_name": "Devika Joshi",
        "date_of_birth": date(1999, 2, 11),
        "gender": "female",
        "blood_group": "B+",
        "height_cm": "163.0",
        "weight_kg": "55.0",
        "allergies": [],
        "medications": [],
        "chronic_conditions": [],
        "medical_history": "",
        "family_history": "",
        "emergency": ("Madhav Joshi", "Father"),
        "preferred_language": "mr",
        "address": ("Flat 5, Ganga Apartments", "Kothrud", "Pune", "Maharashtra", "411038"),
        "joined": -30,
    },
]


def _seed_people(clock: _Clock, password: str) -> dict[str, User]:
    password_hash = _password_hash(password)
    users: dict[str, User] = {}
    users[ADMIN_ID] = _user(
        ADMIN_ID,
        email=f"admin@{EMAIL_DOMAIN}",
        role=Role.ADMIN,
        password_hash=password_hash,
        joined=clock.at(-500, "09:00"),
        staff=True,
    )
    admin = users[ADMIN_ID]

    for n, spec in enumerate(PATIENTS, start=1):
        joined = clock.at(spec["joined"], "19:30")
        user = _user(
            spec["id"],
            email=f"{spec['login']}@{EMAIL_DOMAIN}",
            role=Role.PATIENT,
            password_hash=password_hash,
            joined=joined,
        )
        users[spec["id"]] = user
        contact_name, relation = spec["emergency"]
        line1, line2, city, state, postal_code = spec["address"]
        _upsert(
            PatientProfile,
            f"pp_demo_{n:03d}",
            user=user,
            full_name=spec["full_name"],
            date_of_birth=spec["date_of_birth"],
            gender=spec["gender"],
            blood_group=spec["blood_group"],
            height_cm=Decimal(spec["height_cm"]),
            weight_kg=Decimal(spec["weight_kg"]),
            allergies=spec["allergies"],
            medications=spec["medications"],
            chronic_conditions=spec["chronic_conditions"],
            medical_history=spec["medical_history"],
            family_history=spec["family_history"],
            emergency_contact_name=contact_name,
            # +91 90000 000NN: a made-up series; nothing sends to emergency contacts.
            emergency_contact_phone=f"+9190000000{n:02d}",
            emergency_contact_relation=relation,
            preferred_language=spec["preferred_language"],
            address_line1=line1,
            address_line2=line2,
            city=city,
            state=state,
            postal_code=postal_code,
            country="IN",
            created_at=joined + timedelta(minutes=10),
        )

    for n, spec in enumerate(DOCTORS, start=1):
        joined = clock.at(spec["joined"], "11:00")
        user = _user(
            spec["id"],
            email=f"{spec['login']}@{EMAIL_DOMAIN}",
            role=Role.DOCTOR,
            password_hash=password_hash,
            joined=joined,
        )
        users[spec["id"]] = user
        status = spec["status"]
        verified = status == VerificationStatus.VERIFIED
        _upsert(
            DoctorProfile,
            f"dp_demo_{n:03d}",
            user=user,
            full_name=spec["full_name"],
            gender=spec["gender"],
            registration_number=spec["registration_number"],
            registration_council=spec["registration_council"],
            qualifications=spec["qualifications"],
            specializations=spec["specializations"],
            languages=spec["languages"],
            experience_years=spec["experience_years"],
            bio=spec["bio"],
            consultation_fee=Decimal(spec["consultation_fee"]),
            follow_up_fee=Decimal(spec["follow_up_fee"]),
            # Follow-ups at the follow-up fee within 30 days, twice per consultation.
            follow_up_window_days=30,
            follow_up_visits=2,
            currency="INR",
            consultation_modes=spec["consultation_modes"],
            clinic_name=spec["clinic_name"],
            clinic_address=spec["clinic_address"],
            city=spec["city"],
            state=spec["state"],
            postal_code=spec["postal_code"],
            country="IN",
            latitude=Decimal(spec["latitude"]),
            longitude=Decimal(spec["longitude"]),
            availability=_availability(clock, spec["id"]),
            timezone="Asia/Kolkata",
            verification_status=status,
            submitted_at=joined + timedelta(hours=2),
            verified_at=joined + timedelta(days=2) if verified else None,
            verified_by=admin if verified else None,
            rejection_reason=spec.get("rejection_reason", ""),
            created_at=joined + timedelta(minutes=15),
        )
    return users


def _availability(clock: _Clock, doctor_id: str) -> dict[str, Any]:
    """Weekly hours plus overrides: a leave day for everyone, a Sunday camp for doctor_001."""
    if doctor_id == "doctor_001":
        # Leave on the sixth working day from today, never one of the demo
        # appointments (those are on working days 0–3).
        overrides = [
            {"date": clock.workday(5).isoformat(), "ranges": [], "note": "At the homoeopathy CME in Pune"},
            {
                "date": clock.next_sunday_after(7).isoformat(),
                "ranges": [{"start": "10:00", "end": "12:00"}],
                "note": "Free allergy camp",
            },
        ]
    else:
        overrides = [{"date": clock.day(20).isoformat(), "ranges": [], "note": "On leave"}]
    return {
        "timezone": "Asia/Kolkata",
        "slot_minutes": 20,
        "buffer_minutes": 5,
        "weekly": _weekly(evenings=doctor_id not in ("doctor_002", "doctor_005")),
        "overrides": sorted(overrides, key=lambda o: o["date"]),
    }


# --- consultations --------------------------------------------------------------


def _paid(*, method: str, order: str, paid_at: datetime, reference: str = "") -> dict[str, Any]:
    return {
        "payment_status": "paid",
        "payment_method": method,
        "payment_order_id": order if method == "razorpay" else "",
        "payment_reference": reference or order.replace("order_", "pay_"),
        "paid_at": paid_at,
    }


_NO_PAYMENT = {
    "fee_amount": Decimal("0"),
    "payment_status": "not_required",
    "payment_method": "",
    "payment_order_id": "",
    "payment_reference": "",
    "paid_at": None,
}


def _consultations(clock: _Clock) -> list[dict[str, Any]]:
    """Each entry: id, parties, status, times, case, payment. Times are IST."""

    def visit(days: int, hhmm: str, minutes: int) -> dict[str, Any]:
        start = clock.at_open(days, hhmm)
        return {"scheduled_at": start, "started_at": start, "ended_at": start + timedelta(minutes=minutes)}

    return [
        {
            "id": "cons_demo_001",
            "patient": "patient_001",
            "doctor": "doctor_001",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-62, "09:10"),
            **visit(-60, "10:25", 32),
            "duration_minutes": 30,
            "chief_complaint": "Sneezing and a runny nose every morning for two years",
            "symptoms": {
                "chief_complaint": "Sneezing and a runny nose every morning for two years",
                "complaints": [
                    {
                        "description": "Sneezing fits",
                        "location": "nose",
                        "sensation": "tickling",
                        "onset": "after moving to Mumbai",
                        "duration": "2 years",
                        "severity": "moderate",
                        "modalities": {"better": ["open air", "evening"], "worse": ["morning", "sun", "dust"]},
                        "concomitants": ["watery eyes", "cold sores under stress"],
                    }
                ],
                "generals": {
                    "appetite": "good",
                    "thirst": "thirsty for large quantities",
                    "cravings": ["salt", "sour"],
                    "aversions": ["slimy food"],
                    "sleep": "refreshing",
                    "thermal": "hot",
                    "perspiration": "face",
                    "energy": "low in the morning",
                },
                "mentals": "reserved, dislikes consolation, dwells on past grief",
                "past_history": "recurrent sinusitis",
                "family_history": "mother: asthma",
                "source": "doctor",
            },
            "doctor_notes": "Natrum muriaticum picture. Start 200C weekly; review in four weeks.",
            "fee_amount": Decimal("800.00"),
            **_paid(method="razorpay", order="order_DEMO0001Q8mZkT", paid_at=clock.at(-62, "09:14")),
        },
        {
            "id": "cons_demo_002",
            "patient": "patient_001",
            "doctor": "doctor_001",
            "follow_up_of": "cons_demo_001",
            "mode": "chat",
            "status": "completed",
            "created_at": clock.at(-32, "18:00"),
            **visit(-30, "11:15", 25),
            "chief_complaint": "Follow-up: sneezing much better, dry cough at night",
            "symptoms": {
                "chief_complaint": "Follow-up: sneezing much better, dry cough at night",
                "complaints": [
                    {"description": "Sneezing", "severity": "mild", "duration": "improving for 3 weeks"},
                    {
                        "description": "Dry cough",
                        "sensation": "tickling in the throat",
                        "severity": "moderate",
                        "modalities": {"worse": ["lying down", "cold air"], "better": ["warm drinks"]},
                    },
                ],
                "source": "patient",
            },
            "doctor_notes": "Sneezing 70% better. Single dose of 1M; Justicia Q for the cough.",
            "fee_amount": Decimal("500.00"),
            **_paid(method="razorpay", order="order_DEMO0002Lx3Vn9", paid_at=clock.at(-32, "18:03")),
        },
        {
            "id": "cons_demo_003",
            "patient": "patient_001",
            "doctor": "doctor_001",
            "follow_up_of": "cons_demo_002",
            "mode": "video",
            "status": "scheduled",
            "created_at": clock.at(-3, "20:15"),
            "scheduled_at": clock.at_workday(0, "10:25"),
            "chief_complaint": "Follow-up: sinus congestion returned with the change in weather",
            "symptoms": {
                "chief_complaint": "Sinus congestion returned with the change in weather",
                "complaints": [
                    {
                        "description": "Blocked nose",
                        "location": "both nostrils, forehead",
                        "sensation": "heaviness",
                        "duration": "5 days",
                        "severity": "moderate",
                        "modalities": {"worse": ["bending forward", "damp weather"]},
                    }
                ],
                "source": "patient",
            },
            "fee_amount": Decimal("500.00"),
            **_paid(method="razorpay", order="order_DEMO0003Hc7Wq2", paid_at=clock.at(-3, "20:19")),
        },
        {
            "id": "cons_demo_004",
            "patient": "patient_001",
            "doctor": "doctor_001",
            "mode": "in_person",
            "status": "scheduled",
            "created_at": clock.at(-1, "09:30"),
            "scheduled_at": clock.at_workday(3, "10:00"),
            "chief_complaint": "Itchy patches on both forearms for ten days",
            "symptoms": {
                "chief_complaint": "Itchy patches on both forearms for ten days",
                "complaints": [
                    {
                        "description": "Itchy red patches",
                        "location": "both forearms",
                        "sensation": "burning itch",
                        "duration": "10 days",
                        "severity": "mild",
                        "modalities": {"worse": ["warmth of bed", "washing"], "better": ["cold water"]},
                    }
                ],
                "source": "patient",
            },
            "fee_amount": Decimal("800.00"),
            "payment_status": "pending",
            "payment_method": "pay_at_clinic",
        },
        {
            "id": "cons_demo_005",
            "patient": "patient_001",
            "doctor": "doctor_001",
            "mode": "video",
            "status": "cancelled",
            "created_at": clock.at(-15, "08:00"),
            "scheduled_at": clock.at_open(-10, "12:05"),
            "cancelled_at": clock.at(-12, "19:05"),
            "cancelled_by": "patient_001",
            "cancellation_reason": "Travelling for work that week; will rebook.",
            "chief_complaint": "Headache behind the eyes in the afternoons",
            "symptoms": {
                "chief_complaint": "Headache behind the eyes in the afternoons",
                "complaints": [{"description": "Headache", "location": "behind the eyes", "severity": "mild"}],
                "source": "patient",
            },
            "fee_amount": Decimal("800.00"),
            **_paid(method="razorpay", order="order_DEMO0005Pt4Ys1", paid_at=clock.at(-15, "08:04")),
            # Cancelled more than 24 hours ahead: refunded in full.
            "payment_status": "refunded",
            "refund_amount": Decimal("800.00"),
            "refunded_at": clock.at(-11, "11:00"),
        },
        {
            "id": "cons_demo_006",
            "patient": "patient_001",
            "consultation_type": "ai",
            "mode": "chat",
            "status": "completed",
            "created_at": clock.at(-63, "21:40"),
            "started_at": clock.at(-63, "21:40"),
            "ended_at": clock.at(-63, "21:52"),
            "chief_complaint": "Sneezing fits every morning",
            "symptoms": {
                "chief_complaint": "Sneezing fits every morning",
                "complaints": [
                    {
                        "description": "Sneezing",
                        "onset": "two years ago",
                        "severity": "moderate",
                        "modalities": {"worse": ["morning", "dust"]},
                        "concomitants": ["watery eyes"],
                    }
                ],
                "generals": {"thirst": "very thirsty", "cravings": ["salt"], "thermal": "hot"},
                "source": "ai_intake",
                "triage": {"level": "routine", "rules": []},
                "suggested_specializations": ["respiratory_allergy", "chronic"],
                "intake": {"state": "done", "step": "done", "complaint": 0},
            },
            "triage_level": "routine",
            "ai_summary": (
                "Woman in her thirties with morning sneezing fits and watery eyes for two years, worse from dust "
                "and in the morning; craves salt, feels the heat. No red flags. Suggest a classical homoeopath "
                "for allergic rhinitis."
            ),
            **_NO_PAYMENT,
        },
        {
            "id": "cons_demo_007",
            "patient": "patient_007",
            "doctor": "doctor_001",
            "mode": "chat",
            "status": "scheduled",
            "created_at": clock.at(-2, "16:00"),
            "scheduled_at": clock.at_workday(1, "11:15"),
            "chief_complaint": "Hair fall and tiredness despite thyroid medication",
            "symptoms": {
                "chief_complaint": "Hair fall and tiredness despite thyroid medication",
                "complaints": [
                    {"description": "Hair fall", "duration": "4 months", "severity": "moderate"},
                    {"description": "Tiredness", "modalities": {"worse": ["afternoon"]}},
                ],
                "generals": {"thermal": "chilly", "sleep": "unrefreshing"},
                "source": "patient",
            },
            "fee_amount": Decimal("800.00"),
            **_paid(method="razorpay", order="order_DEMO0007Jd2Rk8", paid_at=clock.at(-2, "16:02")),
        },
        {
            "id": "cons_demo_008",
            "patient": "patient_003",
            "doctor": "doctor_001",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-47, "13:20"),
            **visit(-45, "12:05", 24),
            "chief_complaint": "Migraine with nausea, worse before periods",
            "symptoms": {
                "chief_complaint": "Migraine with nausea, worse before periods",
                "complaints": [
                    {
                        "description": "Migraine",
                        "location": "right side of the head",
                        "sensation": "throbbing",
                        "severity": "severe",
                        "modalities": {"better": ["dark room", "pressure"], "worse": ["light", "noise", "sun"]},
                        "concomitants": ["nausea"],
                    }
                ],
                "source": "patient",
            },
            "fee_amount": Decimal("800.00"),
            **_paid(method="razorpay", order="order_DEMO0008Bn6Tz3", paid_at=clock.at(-47, "13:25")),
        },
        {
            "id": "cons_demo_009",
            "patient": "patient_010",
            "doctor": "doctor_001",
            "mode": "video",
            "status": "no_show",
            "created_at": clock.at(-7, "10:40"),
            "scheduled_at": clock.at_open(-5, "12:30"),
            "chief_complaint": "Acne on the chin and jawline",
            "symptoms": {
                "chief_complaint": "Acne on the chin and jawline",
                "complaints": [{"description": "Acne", "location": "chin, jawline", "severity": "mild"}],
                "source": "patient",
            },
            "doctor_notes": "Waited 15 minutes; the patient did not join and did not answer two calls.",
            "fee_amount": Decimal("800.00"),
            # A missed appointment is not refunded.
            **_paid(method="razorpay", order="order_DEMO0009Fv1Gc5", paid_at=clock.at(-7, "10:43")),
        },
        {
            "id": "cons_demo_010",
            "patient": "patient_002",
            "doctor": "doctor_001",
            "mode": "video",
            "status": "requested",
            "created_at": clock.at(-1, "22:10"),
            "chief_complaint": "Acidity and bloating after meals",
            "symptoms": {
                "chief_complaint": "Acidity and bloating after meals",
                "complaints": [
                    {
                        "description": "Burning in the stomach",
                        "severity": "moderate",
                        "modalities": {"worse": ["spicy food", "late dinner"], "better": ["cold milk"]},
                    }
                ],
                "source": "patient",
            },
            "fee_amount": Decimal("800.00"),
            "payment_status": "pending",
            "payment_method": "razorpay",
            "payment_order_id": "order_DEMO0010Ws8Hm4",
        },
        {
            "id": "cons_demo_011",
            "patient": "patient_002",
            "doctor": "doctor_002",
            "mode": "in_person",
            "status": "completed",
            "created_at": clock.at(-28, "17:45"),
            **visit(-25, "10:50", 22),
            "chief_complaint": "Lower back pain, stiff in the morning",
            "symptoms": {
                "chief_complaint": "Lower back pain, stiff in the morning",
                "complaints": [
                    {
                        "description": "Low back pain",
                        "location": "lumbar region",
                        "sensation": "stiffness",
                        "onset": "after lifting a suitcase",
                        "duration": "6 weeks",
                        "severity": "moderate",
                        "modalities": {"better": ["continued motion", "warmth"], "worse": ["first movement", "damp"]},
                    }
                ],
                "generals": {"thermal": "chilly"},
                "source": "doctor",
            },
            "fee_amount": Decimal("600.00"),
            **_paid(method="pay_at_clinic", order="", paid_at=clock.at(-25, "11:15"), reference="RCPT-KP-0457"),
        },
        {
            "id": "cons_demo_012",
            "patient": "patient_004",
            "doctor": "doctor_003",
            "mode": "video",
            "status": "in_progress",
            "created_at": clock.at(-2, "19:00"),
            "scheduled_at": clock.ago(15),
            "started_at": clock.ago(12),
            "chief_complaint": "Poor sleep and anxious thoughts before work",
            "symptoms": {
                "chief_complaint": "Poor sleep and anxious thoughts before work",
                "complaints": [
                    {
                        "description": "Sleeplessness",
                        "sensation": "racing thoughts",
                        "duration": "3 months",
                        "severity": "moderate",
                        "modalities": {"worse": ["Sunday night", "after 1 am"]},
                    }
                ],
                "mentals": "anticipatory anxiety about work reviews",
                "source": "patient",
            },
            "fee_amount": Decimal("700.00"),
            **_paid(method="razorpay", order="order_DEMO0012Kq9Xe7", paid_at=clock.at(-2, "19:03")),
        },
        {
            "id": "cons_demo_013",
            "patient": "patient_005",
            "doctor": "doctor_005",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-17, "09:00"),
            **visit(-15, "10:25", 28),
            "chief_complaint": "Irregular periods and acne with PCOS",
            "symptoms": {
                "chief_complaint": "Irregular periods and acne with PCOS",
                "complaints": [
                    {"description": "Irregular periods", "duration": "since 2016", "severity": "moderate"},
                    {"description": "Acne", "location": "chin", "severity": "mild"},
                ],
                "generals": {"thermal": "chilly", "cravings": ["sweets"]},
                "mentals": "weepy, better for company",
                "source": "doctor",
            },
            "fee_amount": Decimal("500.00"),
            **_paid(method="razorpay", order="order_DEMO0013Ur5Np2", paid_at=clock.at(-17, "09:02")),
        },
        {
            "id": "cons_demo_014",
            "patient": "patient_009",
            "doctor": "doctor_005",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-42, "08:30"),
            **visit(-40, "10:25", 30),
            "chief_complaint": "Knee pain, worse on first movement, better with continued motion",
            "symptoms": {
                "chief_complaint": "Knee pain, worse on first movement, better with continued motion",
                "complaints": [
                    {
                        "description": "Knee pain",
                        "location": "both knees",
                        "sensation": "aching, stiffness",
                        "duration": "10 years",
                        "severity": "moderate",
                        "modalities": {"better": ["continued motion", "warm fomentation"], "worse": ["first movement"]},
                    }
                ],
                "source": "doctor",
            },
            "fee_amount": Decimal("500.00"),
            **_paid(method="razorpay", order="order_DEMO0014Ah3Dk6", paid_at=clock.at(-42, "08:33")),
        },
        {
            "id": "cons_demo_015",
            "patient": "patient_006",
            "doctor": "doctor_006",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-14, "20:00"),
            **visit(-12, "11:15", 26),
            "chief_complaint": "Dry, itchy eczema on the hands, worse in winter and after washing",
            "symptoms": {
                "chief_complaint": "Dry, itchy eczema on the hands, worse in winter and after washing",
                "complaints": [
                    {
                        "description": "Eczema",
                        "location": "backs of both hands",
                        "sensation": "itching, burning after scratching",
                        "severity": "moderate",
                        "modalities": {"worse": ["washing", "winter", "warmth of bed"]},
                    }
                ],
                "generals": {"thermal": "hot", "cravings": ["sweets"], "sleep": "disturbed by itching"},
                "source": "doctor",
            },
            "fee_amount": Decimal("650.00"),
            **_paid(method="razorpay", order="order_DEMO0015Tg2Lw9", paid_at=clock.at(-14, "20:04")),
        },
        {
            "id": "cons_demo_016",
            "patient": "patient_003",
            "doctor": "doctor_004",
            "mode": "video",
            "status": "scheduled",
            "created_at": clock.at(-1, "12:00"),
            "scheduled_at": clock.at_workday(2, "10:25"),
            "chief_complaint": "Recurring sore throat and blocked nose",
            "symptoms": {
                "chief_complaint": "Recurring sore throat and blocked nose",
                "complaints": [{"description": "Sore throat", "severity": "mild", "duration": "on and off, 2 months"}],
                "source": "patient",
            },
            "fee_amount": Decimal("750.00"),
            **_paid(method="razorpay", order="order_DEMO0016Zm7Qb1", paid_at=clock.at(-1, "12:03")),
        },
        {
            "id": "cons_demo_017",
            "patient": "patient_009",
            "consultation_type": "ai",
            "mode": "chat",
            "status": "completed",
            "created_at": clock.at(-6, "06:40"),
            "started_at": clock.at(-6, "06:40"),
            "ended_at": clock.at(-6, "06:43"),
            "chief_complaint": "Chest pain spreading to the left arm, with sweating",
            "symptoms": {
                "chief_complaint": "Chest pain spreading to the left arm, with sweating",
                "complaints": [
                    {
                        "description": "Chest pain",
                        "location": "centre of the chest, to the left arm",
                        "onset": "30 minutes ago",
                        "severity": "severe",
                        "concomitants": ["sweating", "breathlessness"],
                    }
                ],
                "source": "ai_intake",
                "triage": {"level": "emergency", "rules": ["chest_pain"]},
                "intake": {"state": "emergency", "step": "chief_complaint", "complaint": 0},
            },
            "triage_level": "emergency",
            "ai_summary": (
                "Red flags: chest pain radiating to the left arm with sweating in a woman in her seventies with "
                f"hypertension. Sent to emergency care ({settings.EMERGENCY_NUMBER}); intake stopped."
            ),
            **_NO_PAYMENT,
        },
        {
            "id": "cons_demo_018",
            "patient": "patient_008",
            "consultation_type": "ai",
            "mode": "chat",
            "status": "in_progress",
            "created_at": clock.ago(6),
            "started_at": clock.ago(6),
            "chief_complaint": "High fever for three days with body ache",
            "symptoms": {
                "chief_complaint": "High fever for three days with body ache",
                "complaints": [
                    {
                        "description": "Fever",
                        "onset": "3 days ago",
                        "duration": "3 days",
                        "severity": "severe",
                        "concomitants": ["body ache", "headache behind the eyes"],
                    }
                ],
                "source": "ai_intake",
                "triage": {"level": "urgent", "rules": ["high_fever"]},
                "intake": {"state": "taking", "step": "location", "complaint": 0},
            },
            "triage_level": "urgent",
            **_NO_PAYMENT,
        },
        {
            "id": "cons_demo_019",
            "patient": "patient_006",
            "doctor": "doctor_004",
            "mode": "video",
            "status": "cancelled",
            "created_at": clock.at(-9, "15:30"),
            "scheduled_at": clock.at_open(-6, "10:50"),
            "cancelled_at": clock.at(-7, "08:00"),
            "cancelled_by": "doctor_004",
            "cancellation_reason": "The doctor is unwell; please rebook with another doctor.",
            "chief_complaint": "Sneezing and itchy eyes in the mornings",
            "symptoms": {"chief_complaint": "Sneezing and itchy eyes in the mornings", "source": "patient"},
            "fee_amount": Decimal("750.00"),
            **_paid(method="razorpay", order="order_DEMO0019Rc4Vs8", paid_at=clock.at(-9, "15:33")),
            # Cancelled by the doctor: a full refund, started but not yet confirmed by the provider.
            "payment_status": "refund_pending",
            "refund_amount": Decimal("750.00"),
        },
        {
            "id": "cons_demo_020",
            "patient": "patient_010",
            "doctor": "doctor_002",
            "mode": "chat",
            "status": "requested",
            "created_at": clock.at(-1, "14:05"),
            "chief_complaint": "Heel pain on the first steps in the morning",
            "symptoms": {
                "chief_complaint": "Heel pain on the first steps in the morning",
                "complaints": [
                    {
                        "description": "Heel pain",
                        "location": "left heel",
                        "modalities": {"worse": ["first steps in the morning"], "better": ["walking a while"]},
                    }
                ],
                "source": "patient",
            },
            "fee_amount": Decimal("600.00"),
            "payment_status": "failed",
            "payment_method": "razorpay",
            "payment_order_id": "order_DEMO0020Yp1Ej3",
        },
        {
            "id": "cons_demo_021",
            "patient": "patient_003",
            "doctor": "doctor_004",
            "mode": "video",
            "status": "completed",
            "created_at": clock.at(-92, "18:30"),
            **visit(-90, "11:40", 21),
            "chief_complaint": "Recurrent sinusitis with thick yellow discharge",
            "symptoms": {
                "chief_complaint": "Recurrent sinusitis with thick yellow discharge",
                "complaints": [
                    {
                        "description": "Sinusitis",
                        "location": "root of the nose",
                        "sensation": "pressure",
                        "severity": "moderate",
                        "concomitants": ["ropy, stringy discharge"],
                    }
                ],
                "source": "doctor",
            },
            "fee_amount": Decimal("750.00"),
            **_paid(method="razorpay", order="order_DEMO0021Nd8Ku5", paid_at=clock.at(-92, "18:34")),
        },
    ]


_CONSULTATION_DEFAULTS: dict[str, Any] = {
    "doctor": None,
    "consultation_type": "doctor",
    "follow_up_of": None,
    "scheduled_at": None,
    "duration_minutes": 20,
    "started_at": None,
    "ended_at": None,
    "cancelled_at": None,
    "cancelled_by": None,
    "cancellation_reason": "",
    "triage_level": "",
    "ai_summary": "",
    "doctor_notes": "",
    "currency": "INR",
    "payment_method": "",
    "payment_order_id": "",
    "payment_reference": "",
    "paid_at": None,
    "refund_amount": Decimal("0"),
    "refunded_at": None,
}


def _seed_consultations(clock: _Clock, users: dict[str, User]) -> dict[str, Consultation]:
    seeded: dict[str, Consultation] = {}
    for spec in _consultations(clock):
        fields = {**_CONSULTATION_DEFAULTS, **spec}
        pk = fields.pop("id")
        for key in ("patient", "doctor", "cancelled_by"):
            if fields[key] is not None:
                fields[key] = users[fields[key]]
        if fields["follow_up_of"] is not None:
            fields["follow_up_of"] = seeded[fields["follow_up_of"]]
        seeded[pk] = _upsert(Consultation, pk, **fields)
    return seeded


# --- messages -------------------------------------------------------------------

# consultation id -> (minutes after the consultation started, or after it was
# booked when it has not started; who: "patient", "doctor" or None for system;
# body, where {emergency_number} is the configured EMERGENCY_NUMBER)
# Who: "patient", "doctor", "assistant" (the AI intake's account) or None (a system message).
_MESSAGES: dict[str, list[tuple[int, str | None, str]]] = {
    "cons_demo_001": [
        (-2, None, "Dr. Meera Deshpande has joined. The video call will start shortly."),
        (-1, "patient", "Namaste doctor. I sneeze 15–20 times every morning and my nose runs like a tap."),
        (0, "doctor", "Namaste Asha. Is it better or worse in the sun? And is there any food you crave?"),
        (1, "patient", "Worse in the sun, and I love salty snacks. I also get cold sores when I'm stressed."),
        (33, "doctor", "Your prescription is ready. Take the 200C once a week and message me if anything changes."),
        (34, None, "Prescription issued."),
    ],
    "cons_demo_002": [
        (0, None, "Follow-up consultation started."),
        (1, "patient", "The sneezing is about 70% better. Only a dry cough at night now."),
        (3, "doctor", "Good progress. Is the cough worse lying down?"),
        (5, "patient", "Yes, worse lying down and in cold air."),
        (20, "doctor", "One dose of 1M, and Justicia drops for the cough. We'll review in a month."),
        (22, None, "Prescription issued."),
    ],
    "cons_demo_003": [
        (0, None, "Video consultation booked. Payment received."),
        (3, "patient", "Doctor, should I keep taking the Justicia drops until the call?"),
    ],
    "cons_demo_012": [
        (0, None, "Consultation started."),
        (2, "doctor", "Hello Arjun. Tell me about your sleep: when do you fall asleep, and when do you wake?"),
        (5, "patient", "I fall asleep around 1 am and wake at 4 with my mind racing about work."),
    ],
    "cons_demo_006": [
        (0, "assistant", "Namaste! I am the intake assistant. In your own words, what is troubling you most?"),
        (1, "patient", "I keep sneezing every morning and my eyes water."),
        (
            12,
            "assistant",
            "Thank you. Your case is ready for a doctor. I do not diagnose or prescribe; "
            "you can now book a doctor with this case attached.",
        ),
    ],
    "cons_demo_017": [
        (0, "assistant", "Namaste! I am the intake assistant. In your own words, what is troubling you most?"),
        (1, "patient", "I have chest pain going into my left arm and I am sweating."),
        (
            1,
            "assistant",
            "This could be a medical emergency. Please call {emergency_number} now, or go to the nearest hospital "
            "emergency department. Do not wait for an online consultation. I have stopped taking your case.",
        ),
    ],
    "cons_demo_018": [
        (0, "assistant", "Namaste! I am the intake assistant. In your own words, what is troubling you most?"),
        (1, "patient", "High fever for three days with body ache."),
        (
            2,
            "assistant",
            "Some of what you describe should be seen by a doctor today. If it gets worse, call {emergency_number}. "
            "I will keep taking your case so the doctor has it.\n\nWhere exactly do you feel the body ache?",
        ),
    ],
}


def _seed_messages(consultations: dict[str, Consultation]) -> None:
    for cons_id, thread in _MESSAGES.items():
        consultation = consultations[cons_id]
        start = consultation.started_at or consultation.created_at
        live = consultation.status in ("scheduled", "in_progress")
        for n, (minutes, who, body) in enumerate(thread, start=1):
            sent = start + timedelta(minutes=minutes)
            sender = {
                "patient": consultation.patient,
                "doctor": consultation.doctor,
                "assistant": assistant_user() if who == "assistant" else None,
                None: None,
            }[who]
            # The last message of a live consultation is still unread.
            unread = live and n == len(thread)
            _upsert(
                Message,
                f"msg_demo_{cons_id[-3:]}_{n:02d}",
                consultation=consultation,
                sender=sender,
                message_type=MessageType.SYSTEM if who is None else MessageType.TEXT,
                body=body.format(emergency_number=settings.EMERGENCY_NUMBER),
                attachment=None,
                metadata={},
                delivered_at=sent,
                read_at=None if unread else sent + timedelta(minutes=1),
                edited_at=None,
                created_at=sent,
            )


# --- prescriptions ------------------------------------------------------------------


def _rx(remedy: str, potency: str, dose: str, frequency: str, duration: str, **extra: Any) -> dict[str, Any]:
    """One item. `frequency` is free text unless `repetition` (a Repetition choice) says it all."""
    parsed = parse_potency(potency, required=False)
    form = extra.get("form", "globules")
    return {
        "remedy_name": remedy,
        "potency_value": parsed.value if parsed else None,
        "potency_scale": parsed.scale if parsed else "",
        "dosage_form": form,
        "pill_size": extra.get("pill_size", 30 if form == "globules" else None),
        "dose": dose,
        "repetition": extra.get("repetition", ""),
        "frequency": frequency,
        "duration": duration,
        "quantity": extra.get("quantity", "2 dram"),
        "lm_plan": extra.get("lm_plan"),
        "instruction_codes": extra.get(
            "codes", ["clean_mouth", "avoid_coffee", "avoid_camphor"] if form == "globules" else []
        ),
        "instructions": extra.get("instructions", ""),
        "is_placebo": extra.get("placebo", False),
    }


_PRESCRIPTIONS: list[dict[str, Any]] = [
    {
        "id": "rx_demo_001",
        "consultation": "cons_demo_001",
        "prescription_type": "constitutional",
        "status": "issued",
        "diagnosis": "Allergic rhinitis. Constitution: Natrum muriaticum (reserved, worse sun, craves salt).",
        "general_advice": "Avoid dust and direct sun in the mornings. Steam inhalation at night. No coffee.",
        "follow_up_in_days": 30,
        "items": [
            _rx(
                "Natrum muriaticum",
                "200C",
                "4 globules",
                "once a week, empty stomach",
                "4 weeks",
                instructions="Dissolve under the tongue; nothing by mouth for 15 minutes.",
            ),
            _rx("Arsenicum album", "30C", "4 globules", "during a sneezing fit, up to 3 times a day", "at most 5 days"),
            _rx(
                "Saccharum lactis",
                "",
                "1 powder",
                "at bedtime",
                "4 weeks",
                form="powder",
                quantity="28 powders",
                placebo=True,
            ),
        ],
    },
    {
        "id": "rx_demo_002",
        "consultation": "cons_demo_002",
        "prescription_type": "follow_up",
        "status": "issued",
        "diagnosis": "Allergic rhinitis, improving. Dry night cough.",
        "general_advice": "Warm water through the day. Keep the bedroom dust-free.",
        "follow_up_in_days": 30,
        "items": [
            _rx(
                "Natrum muriaticum",
                "1M",
                "4 globules",
                "single dose",
                "once",
                quantity="1 dose",
                instructions="Take on waking, before brushing.",
            ),
            _rx(
                "Justicia adhatoda",
                "Q",
                "10 drops in half a cup of warm water",
                "twice a day",
                "10 days",
                form="mother_tincture",
                quantity="30 ml",
            ),
        ],
    },
    {
        "id": "rx_demo_003",
        "consultation": "cons_demo_008",
        "prescription_type": "acute",
        "status": "issued",
        "diagnosis": "Menstrual migraine, right-sided, throbbing.",
        "general_advice": "Regular meals; rest in a dark room during an attack.",
        "follow_up_in_days": 30,
        "items": [
            _rx("Belladonna", "30C", "4 globules", "every 2 hours during an attack", "at most 3 doses per attack"),
            _rx("Sepia officinalis", "200C", "4 globules", "once a week", "4 weeks", quantity="1 dram"),
        ],
    },
    {
        "id": "rx_demo_004",
        "consultation": "cons_demo_011",
        "prescription_type": "chronic",
        "status": "issued",
        "diagnosis": "Mechanical low back pain with morning stiffness.",
        "general_advice": "Hot fomentation in the morning; the back exercises shown in the clinic.",
        "follow_up_in_days": 21,
        "items": [
            _rx("Rhus toxicodendron", "200C", "4 globules", "", "7 days", repetition="bd"),
            _rx(
                "Calcarea fluorica",
                "6X",
                "4 tablets",
                "three times a day",
                "1 month",
                form="biochemic",
                quantity="25 g",
                instructions="Chew or let dissolve in the mouth.",
            ),
        ],
    },
    {
        "id": "rx_demo_005",
        "consultation": "cons_demo_015",
        "prescription_type": "chronic",
        "status": "draft",
        "diagnosis": "Chronic hand eczema, worse washing and in winter.",
        "general_advice": "Cotton gloves for housework; mild soap; moisturise after washing.",
        "follow_up_in_days": 15,
        "items": [
            _rx(
                "Sulphur",
                "LM1",
                "1 teaspoon from the cup",
                "",
                "30 days",
                form="dilution",
                repetition="od",
                quantity="30 ml",
                codes=["shake_bottle", "clean_mouth", "store_away"],
                lm_plan={
                    "succussions": 10,
                    "bottle_ml": 30,
                    "dilution_cups": 1,
                    "steps": [{"level": 1, "days": 15}, {"level": 2, "days": 15}],
                },
            ),
            _rx("Graphites", "30C", "4 globules", "twice a day", "15 days"),
            _rx(
                "Calendula officinalis",
                "Q",
                "a thin layer",
                "twice a day",
                "15 days",
                form="ointment",
                quantity="25 g",
                instructions="On the cracked skin only.",
            ),
        ],
    },
    {
        "id": "rx_demo_006",
        "consultation": "cons_demo_014",
        "prescription_type": "chronic",
        "status": "issued",
        "diagnosis": "Osteoarthritis of both knees.",
        "general_advice": "Warm fomentation; quadriceps exercises; avoid squatting.",
        "follow_up_in_days": 30,
        "items": [
            _rx("Calcarea carbonica", "200C", "4 globules", "once a week", "4 weeks", quantity="1 dram"),
            _rx("Rhus toxicodendron", "30C", "4 globules", "three times a day", "2 weeks"),
        ],
    },
    {
        "id": "rx_demo_007",
        "consultation": "cons_demo_013",
        "prescription_type": "constitutional",
        "status": "issued",
        "diagnosis": "PCOS with irregular cycles and acne; Pulsatilla constitution.",
        "general_advice": "Thirty minutes' walk daily; less refined sugar.",
        "follow_up_in_days": 30,
        "items": [_rx("Pulsatilla nigricans", "200C", "4 globules", "once a week", "6 weeks", quantity="1 dram")],
    },
    {
        "id": "rx_demo_008",
        "consultation": "cons_demo_021",
        "prescription_type": "acute",
        "status": "issued",
        "diagnosis": "Acute sinusitis with thick, ropy discharge.",
        "general_advice": "Steam inhalation twice a day; avoid cold drinks.",
        "follow_up_in_days": 14,
        "items": [
            _rx("Kali bichromicum", "30C", "4 globules", "", "7 days", repetition="tds"),
            _rx("Hepar sulphuris calcareum", "200C", "4 globules", "once a day", "3 days", quantity="1 dram"),
        ],
    },
]


def _seed_prescriptions(consultations: dict[str, Consultation]) -> None:
    """Rewrite the demo prescriptions from scratch, keeping their verification codes.

    An issued prescription cannot be updated (prescriptions.models), and the
    demo's dates move with the clock; so each run deletes the demo's own rows
    (their items go with them) and writes them as a prescriber would: a
    draft, its remedies, then issued.
    """
    ids = [spec["id"] for spec in _PRESCRIPTIONS]
    codes = dict(Prescription.all_objects.filter(pk__in=ids).values_list("pk", "verification_code"))
    Prescription.all_objects.filter(pk__in=ids).delete()
    catalogue = remedy_lookup(item["remedy_name"] for spec in _PRESCRIPTIONS for item in spec["items"])
    for spec in _PRESCRIPTIONS:
        consultation = consultations[spec["consultation"]]
        written = consultation.ended_at + timedelta(minutes=5)
        issued = spec["status"] == "issued"
        written_on = written.astimezone(IST).date()
        prescription = Prescription(
            id=spec["id"],
            consultation=consultation,
            patient=consultation.patient,
            doctor=consultation.doctor,
            prescription_type=spec["prescription_type"],
            status="draft",
            diagnosis=spec["diagnosis"],
            general_advice=spec["general_advice"],
            follow_up_date=written_on + timedelta(days=spec["follow_up_in_days"]),
            valid_until=written_on + timedelta(days=90) if issued else None,
            created_at=written,
        )
        if spec["id"] in codes:
            prescription.verification_code = codes[spec["id"]]
        prescription.full_clean(validate_unique=False, validate_constraints=False)
        prescription.save(force_insert=True)
        for position, item in enumerate(spec["items"], start=1):
            row = PrescriptionItem(
                id=f"rxi_demo_{spec['id'][-3:]}_{position}",
                prescription=prescription,
                position=position,
                remedy=catalogue.get(item["remedy_name"]),
                created_at=written,
                **item,
            )
            row.full_clean(validate_unique=False, validate_constraints=False)
            row.save(force_insert=True)
        if issued:
            prescription.status = "issued"
            prescription.issued_at = written
            prescription.save(update_fields=["status", "issued_at", "updated_at"])


# --- reviews and ratings ---------------------------------------------------------------

# review id -> (consultation id, rating, comment, why staff hid it or "" when visible)
_REVIEWS: dict[str, tuple[str, int, str, str]] = {
    "rev_demo_001": (
        "cons_demo_001",
        5,
        "Dr. Deshpande listened patiently and asked questions nobody had asked before.",
        "",
    ),
    "rev_demo_002": ("cons_demo_002", 4, "Sneezing is much better. The chat follow-up was quick and easy.", ""),
    "rev_demo_003": ("cons_demo_008", 4, "Migraines are less frequent. Would have liked a slightly longer call.", ""),
    "rev_demo_004": ("cons_demo_011", 5, "Explained the exercises clearly; my back is much better in two weeks.", ""),
    "rev_demo_005": (
        "cons_demo_013",
        1,
        "Doctor was late by 10 minutes. Call me on my personal number to discuss.",
        "Contains a request to share personal contact details.",
    ),
    "rev_demo_006": ("cons_demo_014", 5, "Very experienced and kind. My knees are less stiff in the mornings.", ""),
    "rev_demo_007": ("cons_demo_021", 4, "Sinusitis settled within a week. Easy to talk to.", ""),
}


def _seed_reviews(consultations: dict[str, Consultation], admin: User) -> None:
    for pk, (cons_id, rating, comment, hidden_reason) in _REVIEWS.items():
        consultation = consultations[cons_id]
        written = consultation.ended_at + timedelta(hours=3)
        hidden = bool(hidden_reason)
        _upsert(
            DoctorReview,
            pk,
            doctor=consultation.doctor,
            patient=consultation.patient,
            consultation=consultation,
            rating=rating,
            comment=comment,
            is_visible=not hidden,
            is_verified=True,
            hidden_reason=hidden_reason,
            moderated_by=admin if hidden else None,
            moderated_at=written + timedelta(days=1) if hidden else None,
            edited_at=None,
            created_at=written,
        )


def _update_ratings() -> None:
    """Set every doctor's rating to the spec's "Calculate doctor rating" query:
    AVG and COUNT over `doctor_reviews WHERE is_visible = TRUE`, per doctor.

    The spec's query does not look at `deleted_at`, so neither does this
    (`all_objects`); hiding a review is what takes it out of the rating.
    """
    rows = (
        DoctorReview.all_objects.filter(is_visible=True)
        .values("doctor_id")
        .annotate(avg=Avg("rating"), total=Count("id"))
        .order_by()
    )
    ratings = {row["doctor_id"]: row for row in rows}
    for profile in DoctorProfile.all_objects.filter(user_id__in=DOCTOR_IDS):
        row = ratings.get(profile.user_id)
        profile.rating_avg = rating_decimal(row["avg"]) if row else Decimal("0")
        profile.rating_count = row["total"] if row else 0
        profile.save(update_fields=["rating_avg", "rating_count", "updated_at"])


def rating_decimal(average: Any) -> Decimal:
    """An average rating as stored in `rating_avg` (two places, half up)."""
    return Decimal(str(average)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- notifications and audit -----------------------------------------------------------


def _seed_notifications(clock: _Clock, consultations: dict[str, Consultation]) -> None:
    users = {u.id: u for u in User.all_objects.filter(id__in=DEMO_USER_IDS)}
    when = "%a %d %b, %I:%M %p IST"
    next_visit = consultations["cons_demo_003"].scheduled_at.astimezone(IST).strftime(when)
    clinic_visit = consultations["cons_demo_004"].scheduled_at.astimezone(IST).strftime(when)

    def notify(
        pk: str, user_id: str, kind: str, title: str, body: str, *, about: str, at: datetime, read: bool
    ) -> None:
        # `about` is a consultation or prescription id; the deeplink opens its page.
        key = "prescription" if about.startswith("rx_") else "consultation"
        _upsert(
            Notification,
            pk,
            user=users[user_id],
            kind=kind,
            title=title,
            body=body,
            deeplink=f"/{key}s/{about}/",
            data={f"{key}_id": about},
            read_at=at + timedelta(hours=2) if read else None,
            emailed_at=at,
            sms_sent_at=None,
            created_at=at,
        )

    # patient_001: three unread, three read.
    notify(
        "ntf_demo_001",
        "patient_001",
        "consultation_reminder",
        "Upcoming video consultation with Dr. Meera Deshpande",
        f"Your follow-up is on {next_visit}. Join from the consultation page.",
        about="cons_demo_003",
        at=clock.at(-1, "18:00"),
        read=False,
    )
    notify(
        "ntf_demo_002",
        "patient_001",
        "consultation_booked",
        "Clinic visit booked",
        f"Sanjeevani Homoeopathy Clinic, Bandra West, {clinic_visit}. Pay at the clinic.",
        about="cons_demo_004",
        at=clock.at(-1, "09:31"),
        read=False,
    )
    notify(
        "ntf_demo_003",
        "patient_001",
        "follow_up_due",
        "Time for your follow-up",
        "Dr. Meera Deshpande asked to see you about a month after your last prescription.",
        about="rx_demo_002",
        at=clock.at(-4, "08:00"),
        read=False,
    )
    notify(
        "ntf_demo_004",
        "patient_001",
        "payment_received",
        "Payment received: ₹500",
        "Thank you. Your follow-up consultation is confirmed.",
        about="cons_demo_003",
        at=clock.at(-3, "20:19"),
        read=True,
    )
    notify(
        "ntf_demo_005",
        "patient_001",
        "refund_processed",
        "Refund processed: ₹800",
        "Your cancelled consultation has been refunded to your original payment method.",
        about="cons_demo_005",
        at=clock.at(-11, "11:00"),
        read=True,
    )
    notify(
        "ntf_demo_006",
        "patient_001",
        "prescription_issued",
        "Dr. Meera Deshpande issued your prescription",
        "Natrum muriaticum 1M and Justicia adhatoda Q. Open it to see how to take them.",
        about="rx_demo_002",
        at=clock.at(-30, "11:45"),
        read=True,
    )
    # Other people's, so the spec's query has rows to leave out.
    notify(
        "ntf_demo_007",
        "doctor_001",
        "consultation_requested",
        "New consultation request from Rohan Mehta",
        "Acidity and bloating after meals. Accept to offer a time.",
        about="cons_demo_010",
        at=clock.at(-1, "22:10"),
        read=False,
    )
    notify(
        "ntf_demo_008",
        "patient_002",
        "payment_pending",
        "Complete your payment",
        "Dr. Meera Deshpande will confirm a time once your payment of ₹800 is complete.",
        about="cons_demo_010",
        at=clock.at(-1, "22:11"),
        read=False,
    )
    notify(
        "ntf_demo_009",
        "patient_010",
        "payment_failed",
        "Payment failed",
        "Your payment to Dr. Vikram Kulkarni did not go through. You have not been charged.",
        about="cons_demo_020",
        at=clock.at(-1, "14:06"),
        read=True,
    )
    notify(
        "ntf_demo_010",
        "patient_003",
        "prescription_issued",
        "Dr. Meera Deshpande issued your prescription",
        "Belladonna 30C and Sepia 200C. Open it to see how to take them.",
        about="rx_demo_003",
        at=clock.at(-45, "12:40"),
        read=True,
    )


def _seed_audit(admin: User) -> None:
    """The staff decisions behind the doctors' verification states and the hidden review.

    admin_logs is append-only: rows are created once and never rewritten.
    """

    def log(pk: str, table: str, record_id: str, old: dict, new: dict, description: str) -> None:
        AdminLog.objects.get_or_create(
            id=pk,
            defaults={
                "user": admin,
                "action": AuditAction.UPDATE,
                "table_name": table,
                "record_id": record_id,
                "old_values": old,
                "new_values": new,
                "description": description,
                "ip_address": STAFF_IP,
                "user_agent": "Mozilla/5.0 (Dhanwantari demo data)",
            },
        )

    for n, spec in enumerate(DOCTORS, start=1):
        status = spec["status"]
        if status == VerificationStatus.PENDING:
            continue
        if status == VerificationStatus.VERIFIED:
            why = f"Verified registration {spec['registration_number']} with the {spec['registration_council']}."
        else:
            why = f"Rejected: {spec['rejection_reason']}"
        log(
            f"log_demo_{n:03d}",
            "doctor_profiles",
            f"dp_demo_{n:03d}",
            {"verification_status": "pending"},
            {"verification_status": status.value},
            why,
        )
    for pk, (_, _, _, hidden_reason) in _REVIEWS.items():
        if hidden_reason:
            log(
                f"log_{pk}",
                "doctor_reviews",
                pk,
                {"is_visible": True},
                {"is_visible": False},
                f"Hid the review: {hidden_reason}",
            )


# --- entry point -------------------------------------------------------------------------


def seed(*, password: str = DEFAULT_PASSWORD, force: bool = False) -> list[DemoLogin]:
    """Write the demo data set in one transaction and return the demo logins.

    Refuses (SeedRefused) when DEBUG is off and the database already holds
    accounts that are not the demo's, unless `force`: the demo adds a
    superuser whose password is published.
    """
    # The AI assistant's account (made on first use, cannot sign in) is nobody's real account.
    others = User.all_objects.exclude(id__in=DEMO_USER_IDS).exclude(email=settings.AI_ASSISTANT_EMAIL)
    if not settings.DEBUG and not force and others.exists():
        raise SeedRefused(REFUSED_REAL_DATA)

    clock = _Clock(timezone.now())
    with transaction.atomic():
        users = _seed_people(clock, password)
        consultations = _seed_consultations(clock, users)
        _seed_messages(consultations)
        _seed_prescriptions(consultations)
        _seed_reviews(consultations, users[ADMIN_ID])
        _update_ratings()
        _seed_notifications(clock, consultations)
        _seed_audit(users[ADMIN_ID])
        # The directory sorts by each doctor's next free slot, a stored column.
        next_available_refresh_all()
    return demo_logins()


def demo_logins() -> list[DemoLogin]:
    notes = {spec["id"]: f"{spec['full_name']} ({spec['status']})" for spec in DOCTORS}
    notes.update({spec["id"]: spec["full_name"] for spec in PATIENTS})
    notes[ADMIN_ID] = "staff, superuser: /admin/"
    users = User.all_objects.filter(id__in=DEMO_USER_IDS).only("id", "email", "role")
    by_id = {u.id: u for u in users}
    return [DemoLogin(by_id[pk].email, by_id[pk].role, pk, notes[pk]) for pk in DEMO_USER_IDS if pk in by_id]

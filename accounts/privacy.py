"""Data protection: "Download my data" exports, and the helpers of erasure.

Exports need no table of their own. Each lives in the default (private)
storage as two files under the owner's folder:

    exports/<user_id>/<export_id>.json   the sidecar: status, times, size
    exports/<user_id>/<export_id>.zip    the archive, once built

`export_id` is 32 random bytes from `secrets`, so a link cannot be guessed,
and the folder is the owner's, so a link of one user names nothing in
another's. Nothing under exports/ has a public URL (MEDIA_ROOT is never
served; the S3 bucket must be private, see settings). The download view
checks owner and expiry; `purge_expired` deletes archives whose link expired.

What an archive holds (data.json; files/ with the bytes of the person's
uploads): everything we hold about the person, never another person's
private data, staff-only notes, password hashes or tokens. Per kind of
account:

- patient: account, profile, consultations (without the doctor's private
  clinical notes) with the messages they can see, issued and cancelled
  prescriptions with their items (placebo flags are not shown to patients,
  so not here either), notifications, reviews written, payments and payment
  events of their consultations (without the provider's raw payload and who
  on staff recorded them), their files' metadata and bytes, and the audit
  rows about them (who, by role, did what and when; no before/after values).
- doctor: account, profile (without who on staff verified it), their
  verification documents, notifications, and their consultations as
  appointments and fees only: the patients' data is the patients', not theirs
  to take away.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Model, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import AdminLog, AuditAction, Role, User

logger = logging.getLogger(__name__)

EXPORT_ROOT = "exports"
_EXPORT_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
FORMAT_VERSION = 1

PENDING, READY, FAILED = "pending", "ready", "failed"

EXPORT_EXPIRED = "This download link has expired. Ask for a new export."


# --- the export's sidecar ---------------------------------------------------------------


@dataclass
class DataExport:
    """One export, as its JSON sidecar describes it."""

    id: str
    user_id: str
    status: str
    requested_at: datetime
    expires_at: datetime
    requested_by: str = ""
    ready_at: datetime | None = None
    size_bytes: int = 0

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_ready(self) -> bool:
        return self.status == READY and not self.is_expired

    @property
    def filename(self) -> str:
        return f"dhanwantari-data-{self.requested_at:%Y%m%d-%H%M}.zip"

    @property
    def archive_name(self) -> str:
        return export_path(self.user_id, self.id, "zip")

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "status": self.status,
            "requested_at": self.requested_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "requested_by": self.requested_by,
            "ready_at": self.ready_at.isoformat() if self.ready_at else None,
            "size_bytes": self.size_bytes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataExport:
        return cls(
            id=data["id"],
            user_id=data["user_id"],
            status=data["status"],
            requested_at=parse_datetime(data["requested_at"]),
            expires_at=parse_datetime(data["expires_at"]),
            requested_by=data.get("requested_by", ""),
            ready_at=parse_datetime(data["ready_at"]) if data.get("ready_at") else None,
            size_bytes=data.get("size_bytes", 0),
        )


def export_path(user_id: str, export_id: str, extension: str) -> str:
    return f"{EXPORT_ROOT}/{user_id}/{export_id}.{extension}"


def _write_sidecar(export: DataExport) -> None:
    name = export_path(export.user_id, export.id, "json")
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(export.as_json()).encode()))


def _read_sidecar(name: str) -> DataExport | None:
    try:
        with default_storage.open(name, "rb") as handle:
            return DataExport.from_json(json.loads(handle.read()))
    except (FileNotFoundError, OSError, ValueError, KeyError, TypeError):
        logger.warning("Unreadable export sidecar %s", name)
        return None


def export_get(*, user_id: str, export_id: str) -> DataExport | None:
    """The user's export of that id, or None (also for a malformed id: never a path outside the folder)."""
    if not _EXPORT_ID.match(export_id or ""):
        return None
    export = _read_sidecar(export_path(user_id, export_id, "json"))
    if export is None or export.user_id != user_id or export.id != export_id:
        return None
    return export


def _sidecar_names(user_id: str | None = None) -> Iterable[str]:
    """Every sidecar, of one user or of all, read from storage (local disk or S3 alike)."""
    roots = [f"{EXPORT_ROOT}/{user_id}"] if user_id else []
    if not user_id:
        try:
            folders, _ = default_storage.listdir(EXPORT_ROOT)
        except (FileNotFoundError, OSError):
            return []
        roots = [f"{EXPORT_ROOT}/{folder}" for folder in folders]
    names = []
    for root in roots:
        try:
            _, files = default_storage.listdir(root)
        except (FileNotFoundError, OSError):
            continue
        names += [f"{root}/{name}" for name in files if name.endswith(".json")]
    return names


def exports_for(*, user: User) -> list[DataExport]:
    """The user's exports, newest first (expired ones too, until purge_expired removes them)."""
    exports = [e for e in (_read_sidecar(n) for n in _sidecar_names(user.pk)) if e is not None]
    return sorted(exports, key=lambda e: e.requested_at, reverse=True)


def export_delete(export: DataExport) -> None:
    for extension in ("zip", "json"):
        name = export_path(export.user_id, export.id, extension)
        if default_storage.exists(name):
            default_storage.delete(name)


def exports_expired() -> list[DataExport]:
    return [e for e in (_read_sidecar(n) for n in _sidecar_names()) if e is not None and e.is_expired]


# --- asking for one --------------------------------------------------------------------


def export_request(*, user: User, by: User | None = None, request: HttpRequest | None = None) -> DataExport:
    """Ask for an archive of everything we hold about `user`; it is built by a background task.

    `by` is who asked: the user themself, or a member of staff acting on a
    request that reached us another way (the admin action); either way it
    is written to the audit trail.
    """
    from accounts.services import audit_record
    from accounts.tasks import data_export_build

    by = by or user
    now = timezone.now()
    export = DataExport(
        id=secrets.token_urlsafe(32),
        user_id=user.pk,
        status=PENDING,
        requested_at=now,
        expires_at=now + timedelta(hours=settings.EXPORT_LINK_HOURS),
        requested_by=by.pk,
    )
    _write_sidecar(export)
    audit_record(
        actor=by,
        action=AuditAction.ACTION,
        table="users",
        record_id=user.pk,
        new={"export": export.id[:8] + "…"},
        description=(
            "Asked for a copy of their data."
            if by.pk == user.pk
            else f"Staff asked for a copy of the data of {user.pk}."
        ),
        request=request,
    )
    # No transaction to wait for: the sidecar lives in storage, not the database.
    data_export_build.enqueue(user.pk, export.id)
    return export


def export_build(*, user_id: str, export_id: str) -> DataExport | None:
    """Build the archive of a pending export (run by accounts.tasks.data_export_build).

    Built in a temporary file (spilling to disk past a few MB), then saved to
    storage beside its sidecar; the link's time starts when it is ready.
    A second run finds the export no longer pending and does nothing.
    """
    export = export_get(user_id=user_id, export_id=export_id)
    if export is None or export.status != PENDING:
        return None
    user = User.all_objects.filter(pk=user_id, deleted_at__isnull=True).first()
    if user is None:  # closed meanwhile: nothing of theirs to hand out
        export_delete(export)
        return None
    try:
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            _write_archive(spool, user)
            spool.seek(0, io.SEEK_END)
            size = spool.tell()
            spool.seek(0)
            default_storage.save(export.archive_name, File(spool, name=f"{export.id}.zip"))
    except Exception:
        logger.exception("Building data export %s of %s failed", export_id, user_id)
        export.status = FAILED
        _write_sidecar(export)
        raise
    now = timezone.now()
    export.status = READY
    export.ready_at = now
    export.size_bytes = size
    export.expires_at = now + timedelta(hours=settings.EXPORT_LINK_HOURS)
    _write_sidecar(export)
    return export


def export_downloaded(*, export: DataExport, by: User, request: HttpRequest | None = None) -> None:
    """Audit a download by anyone but the owner (staff handing the archive over)."""
    if by.pk == export.user_id:
        return
    from accounts.services import audit_record

    audit_record(
        actor=by,
        action=AuditAction.VIEW,
        table="users",
        record_id=export.user_id,
        new={"export": export.id[:8] + "…"},
        description=f"Downloaded the data export of {export.user_id}.",
        request=request,
    )


# --- what goes in the archive ------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def _row(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


USER_FIELDS = (
    "id",
    "email",
    "phone",
    "role",
    "email_verified",
    "email_verified_at",
    "phone_verified",
    "phone_verified_at",
    "timezone",
    "created_at",
    "last_login",
    "last_login_ip",
    "login_count",
)
PATIENT_PROFILE_FIELDS = (
    "full_name",
    "date_of_birth",
    "gender",
    "blood_group",
    "height_cm",
    "weight_kg",
    "bmi",
    "allergies",
    "medications",
    "chronic_conditions",
    "medical_history",
    "family_history",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relation",
    "preferred_language",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "created_at",
    "updated_at",
)
DOCTOR_PROFILE_FIELDS = (
    "full_name",
    "gender",
    "registration_number",
    "registration_council",
    "qualifications",
    "specializations",
    "languages",
    "experience_years",
    "bio",
    "photo",
    "signature",
    "consultation_fee",
    "follow_up_fee",
    "currency",
    "follow_up_window_days",
    "follow_up_visits",
    "consultation_modes",
    "clinic_name",
    "clinic_address",
    "city",
    "state",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "availability",
    "timezone",
    "verification_status",
    "submitted_at",
    "verified_at",
    "rejection_reason",
    "rating_avg",
    "rating_count",
    "created_at",
    "updated_at",
)
# Not `doctor_notes` (the treating doctor's private clinical notes), not the
# reminder bookkeeping, not `cancelled_by` (a person's id; `cancelled_by_role` says who).
CONSULTATION_FIELDS = (
    "id",
    "consultation_type",
    "mode",
    "status",
    "follow_up_of_id",
    "intake_id",
    "scheduled_at",
    "duration_minutes",
    "started_at",
    "ended_at",
    "cancelled_at",
    "cancellation_reason",
    "chief_complaint",
    "symptoms",
    "triage_level",
    "ai_summary",
    "created_at",
)
PAYMENT_FIELDS = (
    "fee_amount",
    "currency",
    "payment_status",
    "payment_method",
    "payment_order_id",
    "payment_reference",
    "paid_at",
    "refund_amount",
    "refunded_at",
    "refund_reference",
)
PAYMENT_EVENT_FIELDS = (
    "id",
    "provider",
    "event_id",
    "event_type",
    "order_id",
    "payment_id",
    "refund_id",
    "amount",
    "currency",
    "occurred_at",
    "outcome",
    "created_at",
)
MESSAGE_FIELDS = ("id", "message_type", "body", "attachment_id", "metadata", "created_at", "read_at", "edited_at")
PRESCRIPTION_FIELDS = (
    "id",
    "consultation_id",
    "prescription_type",
    "status",
    "diagnosis",
    "general_advice",
    "follow_up_date",
    "valid_until",
    "issued_at",
    "cancelled_at",
    "cancellation_reason",
    "version",
    "supersedes_id",
    "verification_code",
)
ITEM_FIELDS = (
    "position",
    "remedy_name",
    "potency_value",
    "potency_scale",
    "dosage_form",
    "pill_size",
    "dose",
    "repetition",
    "frequency",
    "duration",
    "quantity",
    "instructions",
)
FILE_FIELDS = (
    "id",
    "category",
    "consultation_id",
    "original_filename",
    "content_type",
    "size_bytes",
    "sha256",
    "notes",
    "ocr_status",
    "ocr_text",
    "created_at",
)
NOTIFICATION_FIELDS = ("id", "kind", "title", "body", "deeplink", "created_at", "read_at", "emailed_at", "sms_sent_at")


def _role_of(user: User | None, me: User) -> str:
    if user is None:
        return "system"
    if user.pk == me.pk:
        return "you"
    if user.is_staff:
        return "staff"
    return user.role


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .") or "file"
    return cleaned[:120]


def export_data(user: User) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Everything we hold about `user` as JSON-ready data, and the stored files to add (path in zip, FieldFile)."""
    from consultations.models import Consultation, Message
    from doctors.models import DoctorDocument, DoctorReview
    from prescriptions.models import Prescription, PrescriptionStatus
    from records.models import FileUpload

    files: list[tuple[str, Any]] = []
    data: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "user": _row(user, USER_FIELDS),
        "notifications": [_row(n, NOTIFICATION_FIELDS) for n in user.notifications.all()],
        "notification_preferences": [
            {"kind": p.kind, "email": p.email, "sms": p.sms} for p in user.notification_preferences.all()
        ],
    }

    if user.role == Role.PATIENT:
        profile = getattr(user, "patient_profile", None)
        data["patient_profile"] = _row(profile, PATIENT_PROFILE_FIELDS) if profile else None

        consultations = list(
            Consultation.objects.filter(patient=user)
            .select_related("doctor__doctor_profile", "cancelled_by")
            .prefetch_related("payment_events")
            .order_by("created_at")
        )
        messages = Message.objects.filter(consultation__in=consultations).select_related("sender")
        by_consultation: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            row = _row(message, MESSAGE_FIELDS)
            row["from"] = _role_of(message.sender, user)
            by_consultation.setdefault(message.consultation_id, []).append(row)
        data["consultations"] = []
        for c in consultations:
            row = _row(c, CONSULTATION_FIELDS)
            doctor = c.doctor
            row["doctor"] = (
                {"id": doctor.pk, "name": doctor.doctor_profile.full_name if hasattr(doctor, "doctor_profile") else ""}
                if doctor
                else None
            )
            row["cancelled_by_role"] = _role_of(c.cancelled_by, user) if c.cancelled_by_id else None
            row["payment"] = _row(c, PAYMENT_FIELDS)
            row["payment_events"] = [_row(e, PAYMENT_EVENT_FIELDS) for e in c.payment_events.all()]
            row["messages"] = by_consultation.get(c.pk, [])
            data["consultations"].append(row)

        # Drafts are the doctor's work in progress, not yet the patient's.
        prescriptions = (
            Prescription.objects.filter(patient=user)
            .exclude(status=PrescriptionStatus.DRAFT)
            .select_related("doctor__doctor_profile")
            .prefetch_related("items")
            .order_by("created_at")
        )
        data["prescriptions"] = [
            {
                **_row(p, PRESCRIPTION_FIELDS),
                "doctor": {
                    "id": p.doctor_id,
                    "name": getattr(getattr(p.doctor, "doctor_profile", None), "full_name", ""),
                },
                "items": [_row(i, ITEM_FIELDS) for i in p.items.all()],
            }
            for p in prescriptions
        ]
        data["reviews_written"] = [
            {
                **_row(r, ("id", "doctor_id", "consultation_id", "rating", "comment", "is_visible", "created_at")),
                "edited_at": _plain(r.edited_at),
            }
            for r in DoctorReview.objects.filter(patient=user)
        ]
        data["files"] = []
        for upload in FileUpload.objects.filter(patient=user).select_related("uploaded_by").order_by("created_at"):
            row = _row(upload, FILE_FIELDS)
            row["uploaded_by"] = _role_of(upload.uploaded_by, user)
            row["path_in_archive"] = f"files/{upload.pk}/{_safe_name(upload.original_filename)}" if upload.file else ""
            if upload.file:
                files.append((row["path_in_archive"], upload.file))
            data["files"].append(row)
        file_ids = [f["id"] for f in data["files"]]
    else:
        file_ids = []

    if user.role == Role.DOCTOR:
        profile = getattr(user, "doctor_profile", None)
        data["doctor_profile"] = _row(profile, DOCTOR_PROFILE_FIELDS) if profile else None
        if profile is not None:
            for attr in ("photo", "signature"):
                stored = getattr(profile, attr)
                if stored:
                    files.append((f"profile/{attr}-{_safe_name(stored.name.rsplit('/', 1)[-1])}", stored))
        data["verification_documents"] = []
        for doc in DoctorDocument.objects.filter(doctor=user).order_by("created_at"):
            row = _row(doc, ("id", "kind", "original_filename", "content_type", "size_bytes", "sha256", "created_at"))
            row["path_in_archive"] = f"documents/{doc.pk}/{_safe_name(doc.original_filename)}"
            files.append((row["path_in_archive"], doc.file))
            data["verification_documents"].append(row)
        # Appointments and fees only: the patients' data is theirs, not the doctor's to export.
        data["consultations"] = [
            {
                **_row(c, ("id", "consultation_type", "mode", "status", "scheduled_at", "started_at", "ended_at")),
                **_row(c, ("fee_amount", "currency", "payment_status", "paid_at", "refund_amount", "refunded_at")),
            }
            for c in Consultation.objects.filter(doctor=user).order_by("created_at")
        ]

    # The audit trail about them: what they did, what was done to their
    # account, and who (by role) read their records.
    audit = AdminLog.objects.filter(
        Q(user=user) | Q(table_name="users", record_id=user.pk) | Q(record_id=user.pk) | Q(record_id__in=file_ids)
    ).select_related("user")
    data["audit_log"] = [
        {
            "at": _plain(row.created_at),
            "by": _role_of(row.user, user),
            "action": row.action,
            "table": row.table_name,
            "record_id": row.record_id,
            "description": row.description if row.user_id == user.pk or row.user_id is None else "",
            "ip_address": row.ip_address if row.user_id == user.pk else None,
        }
        for row in audit.order_by("created_at")
    ]
    return data, files


README = """Your data from Dhanwantari
==========================

data.json   everything we hold about you, as JSON (UTF-8).
files/      the medical records you and your doctors uploaded, as stored.
documents/  (doctors) the verification documents you uploaded.
profile/    (doctors) your photo and signature.

A file listed in data.json but missing here could not be read from storage
when the archive was built; ask us and we will look into it.
"""


def _write_archive(target: Any, user: User) -> None:
    data, files = export_data(user)
    missing = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, stored in files:
            try:
                with stored.open("rb") as handle, archive.open(path, "w") as out:
                    while chunk := handle.read(1024 * 1024):
                        out.write(chunk)
            except (FileNotFoundError, OSError):
                logger.warning("Export of %s: stored file %s is missing", user.pk, stored.name)
                missing.append(path)
        data["missing_files"] = missing
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("README.txt", README)


# --- erasure (called by accounts.services.account_delete) ----------------------------------

DELETED_NAME = "Deleted user"
DELETED_TEXT = "[deleted]"
# Keys of a payment provider's payload that carry the payer's contact details.
_PAYER_KEYS = frozenset({"email", "contact", "phone", "name", "vpa", "card", "customer_details", "notes", "address"})


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("" if k in _PAYER_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _delete_stored(*stored: Any) -> None:
    """Delete files from storage; a file already gone is what we wanted."""
    for field_file in stored:
        if field_file and field_file.name:
            try:
                field_file.storage.delete(field_file.name)
            except (FileNotFoundError, OSError):
                logger.warning("Could not delete stored file %s", field_file.name, exc_info=True)


def personal_data_erase(*, user: User) -> dict[str, int]:
    """Anonymise what identifies `user` beyond their account row; keep what law requires, pseudonymised.

    Runs inside account_delete's transaction, after the user row itself is
    anonymised. Returns counts for the audit row. Stored bytes are deleted
    after commit, so a rollback never leaves rows pointing at missing files.

    Erased: profile (name -> "Deleted user", birth date, contact, address,
    emergency contact, medical history and lists), files the patient put in
    their own records (bytes, name, notes, OCR text; rows soft-deleted),
    the bodies of messages the patient wrote, AI intakes no doctor was given,
    review comments, notifications, notification preferences, one-time
    tokens, MFA authenticators, exports, payer details in payment payloads.
    Kept, linked only to the anonymised id: consultations (the doctor's
    clinical record), prescriptions (legal retention), payments and payment
    events (tax and accounting), files a doctor added to the record,
    the audit trail (append-only accountability record).
    """
    from allauth.mfa.models import Authenticator
    from django.db import transaction

    from accounts.models import EmailVerificationToken, Notification, NotificationPreference, PasswordResetToken
    from consultations.models import Consultation, ConsultationType, Message
    from doctors.models import DoctorDocument, DoctorReview
    from payments.models import PaymentEvent
    from prescriptions.models import Prescription, PrescriptionStatus
    from records.models import FileUpload

    now = timezone.now()
    counts: dict[str, int] = {}
    to_delete: list[Any] = []

    Authenticator.objects.filter(user=user).delete()
    counts["tokens"] = (
        PasswordResetToken.objects.filter(user=user).delete()[0]
        + EmailVerificationToken.objects.filter(user=user).delete()[0]
    )
    counts["notifications"] = Notification.objects.filter(user=user).delete()[0]
    NotificationPreference.objects.filter(user=user).delete()

    profile = getattr(user, "patient_profile", None) if user.role == Role.PATIENT else None
    if profile is not None:
        profile.full_name = DELETED_NAME
        for name in ("date_of_birth", "height_cm", "weight_kg"):
            setattr(profile, name, None)
        for name in ("allergies", "medications", "chronic_conditions"):
            setattr(profile, name, [])
        for name in (
            "gender",
            "blood_group",
            "medical_history",
            "family_history",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relation",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
        ):
            setattr(profile, name, "")
        profile.deleted_at = profile.deleted_at or now
        profile.save()

    if user.role == Role.PATIENT:
        # What the patient put into their own records is theirs to erase;
        # what a doctor added is part of the clinical record and stays.
        own_files = list(FileUpload.all_objects.filter(patient=user, uploaded_by=user))
        for upload in own_files:
            to_delete += [upload.file, upload.thumbnail]
        FileUpload.all_objects.filter(pk__in=[f.pk for f in own_files]).update(
            file="",
            thumbnail="",
            original_filename=DELETED_TEXT,
            notes="",
            ocr_text="",
            metadata={"erased": True},
            deleted_at=now,
            updated_at=now,
        )
        counts["files"] = len(own_files)
        counts["messages"] = Message.all_objects.filter(sender=user).update(
            body=DELETED_TEXT, metadata={}, updated_at=now
        )
        # An AI intake is between the patient and the assistant; unless it was
        # handed to a doctor (then it is part of that doctor's record) nobody
        # else needs it, and the assistant's replies echo what the patient said.
        intakes = Consultation.all_objects.filter(
            patient=user, consultation_type=ConsultationType.AI, handoffs__isnull=True
        ).values_list("pk", flat=True)
        intake_ids = list(intakes)
        Message.all_objects.filter(consultation_id__in=intake_ids).update(
            body=DELETED_TEXT, metadata={}, updated_at=now
        )
        Consultation.all_objects.filter(pk__in=intake_ids).update(
            chief_complaint="", symptoms={}, ai_summary="", updated_at=now
        )
        counts["intakes"] = len(intake_ids)
        counts["reviews"] = DoctorReview.all_objects.filter(patient=user).update(comment="", updated_at=now)
        consultation_ids = Consultation.all_objects.filter(patient=user).values_list("pk", flat=True)
        events = list(PaymentEvent.objects.filter(consultation_id__in=consultation_ids).only("pk", "payload"))
        for event in events:
            PaymentEvent.objects.filter(pk=event.pk).update(payload=_scrub(event.payload), updated_at=now)
        counts["payment_events_pseudonymised"] = len(events)
        counts["prescriptions_kept"] = (
            Prescription.all_objects.filter(patient=user).exclude(status=PrescriptionStatus.DRAFT).count()
        )

    doctor = getattr(user, "doctor_profile", None) if user.role == Role.DOCTOR else None
    if doctor is not None:
        # A doctor's name, registration and signature are printed on the
        # prescriptions they issued, which must be kept; their professional
        # identity stays with those. Without issued prescriptions it goes too.
        issued = Prescription.all_objects.filter(doctor=user).exclude(status=PrescriptionStatus.DRAFT).exists()
        to_delete.append(doctor.photo)
        doctor.photo = ""
        doctor.bio = ""
        doctor.clinic_address = ""
        doctor.latitude = doctor.longitude = None
        if not issued:
            to_delete.append(doctor.signature)
            doctor.signature = ""
            doctor.full_name = DELETED_NAME
            doctor.registration_number = ""
        doctor.deleted_at = doctor.deleted_at or now
        doctor.save()
        documents = list(DoctorDocument.all_objects.filter(doctor=user))
        to_delete += [d.file for d in documents]
        DoctorDocument.all_objects.filter(pk__in=[d.pk for d in documents]).update(
            file="", original_filename=DELETED_TEXT, deleted_at=now, updated_at=now
        )
        counts["documents"] = len(documents)

    exports = exports_for(user=user)
    counts["exports"] = len(exports)

    def delete_bytes() -> None:
        _delete_stored(*to_delete)
        for export in exports:
            export_delete(export)

    transaction.on_commit(delete_bytes)
    return counts

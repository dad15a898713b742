"""Writing prescriptions: drafts, issuing, corrections; reading audits; the doctor's signature.

Every function is keyword-only, runs in one transaction, checks who may do
it (prescriptions.policies), writes an admin_logs row and notifies the
patient where the patient should know. Refusals are PrescriptionError
subclasses (ValidationErrors) with a message a doctor can act on and a code.

The life of a prescription:

    draft --issue--> issued --correct--> cancelled
      ^                                      |
      +------ new draft, version + 1 --------+  (supersedes the cancelled one)

A consultation has at most one draft at a time; its doctor keeps editing it.
A draft is saved whole: header and the complete item list in one call (rows
added, reordered and removed are just the new list). Issuing freezes it: the
model refuses any later change (prescriptions.models). A correction withdraws
the issued prescription at once, with the doctor's reason, so nobody keeps
taking or dispensing what was wrong, and opens version + 1 as a draft holding
the same remedies for the doctor to fix and issue.

Audit rows never hold the clinical free text (diagnosis, advice,
instructions): only which of those changed, plus the remedies and potencies.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps

from accounts.models import AuditAction, User
from accounts.services import audit_record, notification_send
from consultations.models import Consultation
from dhanwantari.uploads import IMAGE_TYPES, CheckedUpload
from doctors.models import DoctorProfile
from prescriptions import policies
from prescriptions.models import (
    DosageForm,
    Prescription,
    PrescriptionItem,
    PrescriptionLocked,
    PrescriptionStatus,
    PrescriptionType,
    Remedy,
)
from prescriptions.potency import display as potency_display

MAX_ITEMS = 20

# --- refusals (tests import the messages) ------------------------------------------------

NOT_PRESCRIBER = "Only the doctor of this consultation can write its prescription."
CONSULTATION_NOT_OPEN = (
    "A prescription can be written once the consultation has started, and after it is completed; "
    "this consultation is {status}."
)
DRAFT_EXISTS = "This consultation already has a prescription in draft. Continue that one."
TOO_MANY_ITEMS = f"A prescription can hold at most {MAX_ITEMS} remedies."
NO_ITEMS = "Add at least one remedy before issuing the prescription."
ITEM_WITHOUT_POTENCY = "Remedy {number} ({name}) has no potency. Add one, or mark it as a placebo."
VALIDITY_PASSED = "The validity date has passed. Set a date from today on before issuing."
ALREADY_ISSUED = "This prescription has already been issued."
NOT_ISSUED = "Only an issued prescription can be corrected; a draft can simply be edited."
ALREADY_WITHDRAWN = "This prescription has already been withdrawn."
REASON_REQUIRED = "Say briefly what was wrong, e.g. “wrong potency: 200C, not 30C”. The patient sees it."
REASON_MAX = 300


class PrescriptionError(ValidationError):
    """A prescribing action refused; the message says why, `code` names it."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)


class PrescribingRefused(PrescriptionError):
    """Not this doctor's, or not at this stage of the consultation."""


class DraftExists(PrescriptionError):
    def __init__(self, draft: Prescription) -> None:
        super().__init__(DRAFT_EXISTS, code="draft_exists")
        self.draft = draft


class CannotIssue(PrescriptionError):
    """The draft is not ready to issue (no remedies, a remedy without potency, validity passed)."""


class CannotCorrect(PrescriptionError):
    """Not issued, already withdrawn, or no reason given."""


# --- what a draft holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderData:
    prescription_type: str = PrescriptionType.ACUTE
    diagnosis: str = ""
    general_advice: str = ""
    follow_up_date: date | None = None
    valid_until: date | None = None

    @classmethod
    def of(cls, prescription: Prescription) -> HeaderData:
        return cls(**{name: getattr(prescription, name) for name in HEADER_FIELDS})


HEADER_FIELDS = ("prescription_type", "diagnosis", "general_advice", "follow_up_date", "valid_until")
CLINICAL_TEXT = frozenset({"diagnosis", "general_advice"})


@dataclass(frozen=True)
class ItemData:
    """One remedy row as the editor hands it over (potency already parsed)."""

    remedy_name: str
    potency_value: int | None = None
    potency_scale: str = ""
    remedy: Remedy | None = None
    dosage_form: str = DosageForm.GLOBULES
    pill_size: int | None = None
    dose: str = ""
    repetition: str = ""
    frequency: str = ""
    duration: str = ""
    quantity: str = ""
    lm_plan: dict[str, Any] | None = None
    instruction_codes: list[str] = field(default_factory=list)
    instructions: str = ""
    is_placebo: bool = False

    @classmethod
    def of(cls, item: PrescriptionItem) -> ItemData:
        return cls(**{name: getattr(item, name) for name in ITEM_FIELDS})


ITEM_FIELDS = tuple(ItemData.__dataclass_fields__)


def _summary(items: Sequence[PrescriptionItem | ItemData]) -> list[str]:
    """What the audit keeps of the remedies: name, potency, placebo."""
    out = []
    for item in items:
        text = f"{item.remedy_name} {_potency_of(item)}".strip()
        out.append(f"{text} (placebo)" if item.is_placebo else text)
    return out


def _details(item: PrescriptionItem | ItemData) -> dict[str, Any]:
    """An item as compared between saves: its columns, the catalogue entry by id (no query)."""
    values = {name: getattr(item, name) for name in ITEM_FIELDS if name != "remedy"}
    values["instruction_codes"] = list(values["instruction_codes"] or [])
    if isinstance(item, PrescriptionItem):
        values["remedy"] = item.remedy_id
    else:
        values["remedy"] = item.remedy.pk if item.remedy is not None else None
    return values


def _potency_of(item: PrescriptionItem | ItemData) -> str:
    return potency_display(item.potency_value, item.potency_scale)


def _header_audit(old: HeaderData | None, new: HeaderData) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in HEADER_FIELDS:
        was = getattr(old, name) if old is not None else None
        now = getattr(new, name)
        if old is not None and was == now:
            continue
        if name in CLINICAL_TEXT:
            # The words stay out of the audit trail; that they changed does not.
            if old is not None:
                before[name] = "(text)" if was else ""
            after[name] = "(text)" if now else ""
        else:
            if old is not None:
                before[name] = str(was) if was is not None else None
            after[name] = str(now) if now is not None else None
    return before, after


def _check_prescriber(doctor: User, consultation: Consultation) -> None:
    if not policies.is_consultation_doctor(doctor, consultation):
        raise PrescribingRefused(NOT_PRESCRIBER, code="not_prescriber")
    if not policies.can_write_for(consultation):
        raise PrescribingRefused(
            CONSULTATION_NOT_OPEN.format(status=consultation.get_status_display().lower()),
            code="consultation_not_open",
        )


def _lock(prescription: Prescription) -> Prescription:
    # Every write locks the prescription row first: a doctor saving in one tab
    # while issuing in another must not change what was just issued.
    return Prescription.all_objects.select_for_update().select_related("consultation").get(pk=prescription.pk)


def _build_items(prescription: Prescription, items: Sequence[ItemData]) -> list[PrescriptionItem]:
    built = []
    errors: dict[str, list[str]] = {}
    for position, data in enumerate(items, start=1):
        item = PrescriptionItem(prescription=prescription, position=position, **_item_values(data))
        try:
            # Foreign keys are objects we hold, uniqueness is the new primary
            # key's and the CHECKs are the database's: validating those here
            # would only cost queries per row.
            item.full_clean(exclude=["prescription", "remedy"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(f"item_{position}_{name}", []).extend(messages)
        built.append(item)
    if errors:
        raise ValidationError(errors)
    return built


def _item_values(data: ItemData) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in ITEM_FIELDS}
    values["instruction_codes"] = list(values["instruction_codes"] or [])
    return values


def _replace_items(prescription: Prescription, items: Sequence[ItemData]) -> list[PrescriptionItem]:
    built = _build_items(prescription, items)
    PrescriptionItem.objects.filter(prescription=prescription).delete()
    # The row lock held by the caller makes this the one raw write of a draft's items.
    return PrescriptionItem.objects.bulk_create(built)


# --- drafts ----------------------------------------------------------------------------------------


def prescription_save_draft(
    *,
    consultation: Consultation,
    doctor: User,
    header: HeaderData,
    items: Sequence[ItemData],
    prescription: Prescription | None = None,
    request: HttpRequest | None = None,
) -> Prescription:
    """Create the consultation's draft (prescription=None) or save an existing one, whole."""
    _check_prescriber(doctor, consultation)
    if len(items) > MAX_ITEMS:
        raise PrescriptionError(TOO_MANY_ITEMS, code="too_many_items")

    with transaction.atomic():
        if prescription is None:
            # Locking the consultation serialises two tabs starting a draft at once.
            Consultation.objects.select_for_update().filter(pk=consultation.pk).values_list("pk").first()
            existing = Prescription.objects.filter(consultation=consultation, status=PrescriptionStatus.DRAFT).first()
            if existing is not None:
                raise DraftExists(existing)
            locked = Prescription(
                consultation=consultation,
                patient_id=consultation.patient_id,
                doctor_id=consultation.doctor_id,
                status=PrescriptionStatus.DRAFT,
            )
            old_header, old_items, old_details = None, [], []
        else:
            locked = _lock(prescription)
            if locked.consultation_id != consultation.pk or locked.doctor_id != doctor.pk:
                raise PrescribingRefused(NOT_PRESCRIBER, code="not_prescriber")
            if locked.status != PrescriptionStatus.DRAFT:
                raise PrescriptionLocked()
            old_header = HeaderData.of(locked)
            old_rows = list(locked.items.all())
            old_items, old_details = _summary(old_rows), [_details(row) for row in old_rows]

        for name in HEADER_FIELDS:
            setattr(locked, name, getattr(header, name))
        locked.full_clean(exclude=["consultation", "patient", "doctor", "supersedes"], validate_unique=False)
        locked.save()
        saved_items = _replace_items(locked, items)

        before, after = _header_audit(old_header, header)
        new_items = _summary(saved_items)
        if old_items != new_items:
            before["items"], after["items"] = old_items, new_items
        elif old_details != [_details(data) for data in items]:
            # Same remedies and potencies; doses, repetition or instructions changed.
            after["items"] = "details changed"
        if prescription is None or before or after:
            audit_record(
                actor=doctor,
                action=AuditAction.CREATE if prescription is None else AuditAction.UPDATE,
                table="prescriptions",
                record_id=locked.pk,
                old=before if prescription is not None else None,
                new=after,
                description=(
                    f"Doctor started a prescription draft for consultation {consultation.pk}."
                    if prescription is None
                    else "Doctor saved the prescription draft."
                ),
                request=request,
            )
    if prescription is not None:
        prescription.__dict__.update({name: getattr(locked, name) for name in HEADER_FIELDS})
    return locked


# --- issuing -------------------------------------------------------------------------------------------


def prescription_issue(*, prescription: Prescription, doctor: User, request: HttpRequest | None = None) -> Prescription:
    """Issue a draft: from now on it cannot change. The patient is notified."""
    with transaction.atomic():
        locked = _lock(prescription)
        if locked.doctor_id != doctor.pk:
            raise PrescribingRefused(NOT_PRESCRIBER, code="not_prescriber")
        if locked.status == PrescriptionStatus.ISSUED:
            raise CannotIssue(ALREADY_ISSUED, code="already_issued")
        if locked.status != PrescriptionStatus.DRAFT:
            raise PrescriptionLocked()
        _check_prescriber(doctor, locked.consultation)
        items = list(locked.items.order_by("position"))
        if not items:
            raise CannotIssue(NO_ITEMS, code="no_items")
        for number, item in enumerate(items, start=1):
            if not item.potency_scale and not item.is_placebo:
                raise CannotIssue(
                    ITEM_WITHOUT_POTENCY.format(number=number, name=item.remedy_name), code="item_without_potency"
                )
        now = timezone.now()
        if locked.valid_until is not None and locked.valid_until < timezone.localdate(now):
            raise CannotIssue(VALIDITY_PASSED, code="validity_passed")

        locked.status = PrescriptionStatus.ISSUED
        locked.issued_at = now
        locked.save(update_fields=["status", "issued_at", "updated_at"])
        audit_record(
            actor=doctor,
            action=AuditAction.ACTION,
            table="prescriptions",
            record_id=locked.pk,
            old={"status": PrescriptionStatus.DRAFT},
            new={"status": PrescriptionStatus.ISSUED, "issued_at": now.isoformat(), "items": _summary(items)},
            description=(
                f"Doctor issued version {locked.version}, correcting {locked.supersedes_id}."
                if locked.supersedes_id
                else "Doctor issued the prescription."
            ),
            request=request,
        )
        doctor_name = _doctor_name(doctor)
        notification_send(
            user=locked.patient,
            kind="prescription_issued",
            title=(
                f"{doctor_name} sent your corrected prescription"
                if locked.supersedes_id
                else f"{doctor_name} sent your prescription"
            ),
            body=(
                f"{len(items)} remed{'y' if len(items) == 1 else 'ies'}. "
                "Open it to read how to take them or to download it for your pharmacy."
            ),
            deeplink=reverse("prescriptions:detail", args=[locked.pk]),
            data={"prescription_id": locked.pk, "version": locked.version},
        )
    _copy_state(prescription, locked)
    return locked


def _doctor_name(doctor: User) -> str:
    profile = getattr(doctor, "doctor_profile", None)
    return (profile.full_name if profile else "") or "Your doctor"


def _copy_state(target: Prescription, source: Prescription) -> None:
    for name in ("status", "issued_at", "cancelled_at", "cancellation_reason", "updated_at"):
        setattr(target, name, getattr(source, name))
    target._remember_stored()


# --- corrections -----------------------------------------------------------------------------------------


def prescription_correct(
    *, prescription: Prescription, doctor: User, reason: str, request: HttpRequest | None = None
) -> Prescription:
    """Withdraw an issued prescription with a reason and open version + 1 as a draft.

    The new draft copies the header and every remedy; the doctor fixes it and
    issues it like any draft (prescription_issue), which notifies the patient again.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise CannotCorrect(REASON_REQUIRED, code="reason_required")
    if len(reason) > REASON_MAX:
        raise CannotCorrect(f"Keep the reason under {REASON_MAX} characters.", code="reason_too_long")

    with transaction.atomic():
        locked = _lock(prescription)
        if locked.doctor_id != doctor.pk:
            raise PrescribingRefused(NOT_PRESCRIBER, code="not_prescriber")
        if locked.status == PrescriptionStatus.CANCELLED:
            raise CannotCorrect(ALREADY_WITHDRAWN, code="already_withdrawn")
        if locked.status != PrescriptionStatus.ISSUED:
            raise CannotCorrect(NOT_ISSUED, code="not_issued")
        consultation = locked.consultation
        _check_prescriber(doctor, consultation)
        Consultation.objects.select_for_update().filter(pk=consultation.pk).values_list("pk").first()
        existing = Prescription.objects.filter(consultation=consultation, status=PrescriptionStatus.DRAFT).first()
        if existing is not None:
            raise DraftExists(existing)

        now = timezone.now()
        locked.status = PrescriptionStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancellation_reason = reason
        locked.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])

        draft = Prescription(
            consultation=consultation,
            patient_id=locked.patient_id,
            doctor_id=locked.doctor_id,
            status=PrescriptionStatus.DRAFT,
            version=locked.version + 1,
            supersedes=locked,
            **{name: getattr(locked, name) for name in HEADER_FIELDS},
        )
        draft.save()
        items = [ItemData.of(item) for item in locked.items.order_by("position").select_related("remedy")]
        _replace_items(draft, items)

        audit_record(
            actor=doctor,
            action=AuditAction.UPDATE,
            table="prescriptions",
            record_id=locked.pk,
            old={"status": PrescriptionStatus.ISSUED},
            new={"status": PrescriptionStatus.CANCELLED, "cancelled_at": now.isoformat(), "superseded_by": draft.pk},
            description=f"Doctor withdrew the prescription to correct it: {reason}"[:500],
            request=request,
        )
        audit_record(
            actor=doctor,
            action=AuditAction.CREATE,
            table="prescriptions",
            record_id=draft.pk,
            new={"version": draft.version, "supersedes": locked.pk, "items": _summary(items)},
            description=f"Doctor started version {draft.version}, correcting {locked.pk}.",
            request=request,
        )
        notification_send(
            user=locked.patient,
            kind="prescription_issued",
            title=f"{_doctor_name(doctor)} withdrew a prescription to correct it",
            body=f"Reason: {reason} Please wait for the corrected prescription before taking these remedies.",
            deeplink=reverse("prescriptions:detail", args=[locked.pk]),
            data={"prescription_id": locked.pk, "superseded_by": draft.pk},
        )
    _copy_state(prescription, locked)
    return draft


# --- reading ---------------------------------------------------------------------------------------------


def prescription_read_record(
    *, prescription: Prescription, reader: User, what: str, request: HttpRequest | None = None
) -> None:
    """Audit a read of an issued or withdrawn prescription by anyone but its patient.

    `what` is "page" or "pdf". The patient's own reads are not recorded, nor
    a doctor's reads of their own drafts (work in progress, not a record).
    """
    if reader.pk == prescription.patient_id or prescription.status == PrescriptionStatus.DRAFT:
        return
    audit_record(
        actor=reader,
        action=AuditAction.VIEW,
        table="prescriptions",
        record_id=prescription.pk,
        new={"what": what, "patient_id": prescription.patient_id},
        description=f"Read the prescription ({what}) of patient {prescription.patient_id}.",
        request=request,
    )


# --- the doctor's signature --------------------------------------------------------------------------------

SIGNATURE_BOX = (600, 200)  # pixels: plenty for 60 x 20 mm at 250 dpi


def signature_png(upload: CheckedUpload) -> bytes:
    """A checked image as a SIGNATURE_BOX PNG: fitted inside, centred, padded.

    Always the same 3:1 shape, so pages can give it a fixed size without
    stretching it; transparency is kept, other padding is white (the paper).
    """
    if upload.content_type not in IMAGE_TYPES:
        raise ValueError("A signature must be a checked image.")
    with Image.open(io.BytesIO(upload.content)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        mode = "RGBA" if transparent else "RGB"
        fitted = ImageOps.contain(upright.convert(mode), SIGNATURE_BOX, method=Image.Resampling.LANCZOS)
    canvas = Image.new(mode, SIGNATURE_BOX, (255, 255, 255, 0) if transparent else (255, 255, 255))
    canvas.paste(fitted, ((SIGNATURE_BOX[0] - fitted.width) // 2, (SIGNATURE_BOX[1] - fitted.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def doctor_signature_update(
    *,
    profile: DoctorProfile,
    by: User,
    signature: CheckedUpload | None = None,
    remove: bool = False,
    request: HttpRequest | None = None,
) -> bool:
    """The doctor replaces or removes the signature printed on their prescriptions; True if it changed.

    Prescriptions already issued keep their look only as far as their PDF was
    downloaded: pages and PDFs are drawn on demand with the current signature.
    """
    if by.pk != profile.user_id:
        raise PermissionDenied("Only the doctor can change their signature.")
    if signature is None and not remove:
        return False
    content = signature_png(signature) if signature is not None else None

    # Stored under a random name before the row points at it; removed again if
    # the transaction does not commit, so no file is left that nothing uses.
    new_name = (
        default_storage.save(f"doctors/signatures/{secrets.token_urlsafe(16)}.png", ContentFile(content))
        if content is not None
        else ""
    )
    try:
        with transaction.atomic():
            locked = DoctorProfile.objects.select_for_update().get(pk=profile.pk)
            old_name = locked.signature.name or ""
            if not new_name and not old_name:
                return False
            locked.signature = new_name
            locked.save(update_fields=["signature", "updated_at"])
            audit_record(
                actor=by,
                action=AuditAction.UPDATE,
                table="doctor_profiles",
                record_id=locked.pk,
                old={"signature": old_name},
                new={"signature": new_name},
                description="Doctor replaced their signature." if new_name else "Doctor removed their signature.",
                request=request,
            )
            if old_name:
                transaction.on_commit(lambda: default_storage.delete(old_name))
    except BaseException:
        if new_name:
            default_storage.delete(new_name)
        raise
    profile.signature = locked.signature
    return True

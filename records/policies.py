"""Who may see or add which medical records. One function per question.

The rule (ARCHITECTURE.md, "Security model"; issue 6):

- a patient sees, adds and removes the files in their own records;
- a doctor sees a patient's files only through a consultation between them:
  any consultation of that patient with that doctor that is not cancelled
  (requested, scheduled, in progress, completed or no-show). Booking a doctor
  shares one's records with them; cancelling before it happened does not. The
  doctor then sees all of the patient's files, not only those linked to that
  consultation: a homeopathic case is taken from the whole history. A doctor
  adds a file to a patient's records only through such a consultation, and the
  file is linked to it;
- staff see every file, removed ones too (what was once in a record stays
  on record), and add none;
- nobody else sees anything: missing and forbidden both answer 404.

Every read by someone other than the patient is written to admin_logs by the
service the view calls (records.services.file_opened / records_listed).
"""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from accounts.policies import is_clinical_staff, is_doctor, is_patient
from consultations.models import Consultation, Status
from records.models import FileUpload

NO_SUCH_FILE = "No such file."
NO_SUCH_CONSULTATION = "No such consultation."

# A cancelled consultation never gave the doctor a reason to read the records.
ACCESS_STATUSES = (Status.REQUESTED, Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW)


def is_owner(user: User, upload: FileUpload) -> bool:
    return user.is_authenticated and upload.patient_id == user.pk


def gives_access(consultation: Consultation) -> bool:
    """Does this consultation open its patient's records to its doctor?"""
    return consultation.doctor_id is not None and consultation.status in ACCESS_STATUSES


def treats(user: User, patient_id: str) -> bool:
    """Is `user` a doctor with a consultation with this patient that opens their records? (1 query)"""
    return (
        is_doctor(user)
        and Consultation.objects.filter(doctor_id=user.pk, patient_id=patient_id, status__in=ACCESS_STATUSES).exists()
    )


def can_view_patient_files(user: User, patient_id: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.pk == patient_id or is_clinical_staff(user) or treats(user, patient_id)


def file_for_user(user: User, file_id: str) -> FileUpload:
    """The file if `user` may open it; Http404 otherwise (missing and forbidden alike)."""
    if not user.is_authenticated:
        raise Http404(NO_SUCH_FILE)
    manager = FileUpload.all_objects if is_clinical_staff(user) else FileUpload.objects
    upload = manager.filter(pk=file_id).first()
    if upload is None or not can_view_patient_files(user, upload.patient_id):
        raise Http404(NO_SUCH_FILE)
    return upload


def file_for_owner(user: User, file_id: str) -> FileUpload:
    """One of the patient's own files (not removed); Http404 for anything else."""
    upload = FileUpload.objects.filter(pk=file_id).first() if is_patient(user) else None
    if upload is None or not is_owner(user, upload):
        raise Http404(NO_SUCH_FILE)
    return upload


def can_delete(user: User, upload: FileUpload) -> bool:
    """The patient may remove any file from their own records, a doctor's upload too.

    Removing is a soft delete: staff still see the file and the audit row says who.
    """
    return is_patient(user) and is_owner(user, upload) and upload.deleted_at is None


def consultation_for_records(user: User, consultation_id: str) -> Consultation:
    """The consultation through which its doctor reads and adds to the patient's records.

    Http404 for anyone but the consultation's doctor, and for a cancelled one.
    The patient's profile comes with it (the page names the patient).
    """
    if not is_doctor(user):
        raise Http404(NO_SUCH_CONSULTATION)
    consultation = (
        Consultation.objects.select_related("patient__patient_profile")
        .filter(pk=consultation_id, doctor_id=user.pk)
        .first()
    )
    if consultation is None or not gives_access(consultation):
        raise Http404(NO_SUCH_CONSULTATION)
    return consultation


def upload_refusal(*, by: User, patient: User, consultation: Consultation | None) -> tuple[str, str] | None:
    """Why `by` may not add files to `patient`'s records (linked to `consultation`), or None if they may.

    Returns (code, message); records.services raises it as UploadRefused.
    """
    if not (patient.is_authenticated and is_patient(patient)) or patient.deleted_at is not None:
        return "not_a_patient", NOT_A_PATIENT
    if consultation is not None and (consultation.patient_id != patient.pk or consultation.deleted_at is not None):
        return "wrong_consultation", WRONG_CONSULTATION
    if by.pk == patient.pk:
        return None
    if is_doctor(by):
        if consultation is None:
            return "doctor_needs_consultation", DOCTOR_NEEDS_CONSULTATION
        if consultation.doctor_id != by.pk or not gives_access(consultation):
            return "wrong_consultation", WRONG_CONSULTATION
        return None
    return "not_allowed", NOT_ALLOWED


NOT_A_PATIENT = "Files can be added only to a patient's records."
WRONG_CONSULTATION = "That consultation is not one of this patient's. Choose one of their consultations, or none."
DOCTOR_NEEDS_CONSULTATION = "A doctor adds files to a patient's records only through a consultation with that patient."
NOT_ALLOWED = "You cannot add files to this patient's records."

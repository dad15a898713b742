"""Delete what has outlived its purpose; run daily (cron or a scheduler).

    python manage.py purge_expired [--dry-run]

| kind                          | goes when                                                    |
| ----------------------------- | ------------------------------------------------------------ |
| password_reset_tokens         | expired                                                      |
| email_verification_tokens     | expired                                                      |
| read notifications            | read more than RETENTION_READ_NOTIFICATIONS_DAYS ago         |
| data exports                  | their link expired (EXPORT_LINK_HOURS)                       |
| removed patient files         | soft-deleted > RETENTION_DELETED_FILES_DAYS ago, uploaded by |
|                               | the patient; bytes always, the row unless a message links it |
| removed doctor documents      | soft-deleted > RETENTION_DELETED_FILES_DAYS ago              |

Never purged: consultations, messages, prescriptions (with items), payment
events, users and profiles (soft-deleted or not), reviews and the audit
trail. They are the clinical, legal and financial record, and other rows
point at them; erasure pseudonymises them instead (accounts.privacy).
Files a doctor added to a patient's record are clinical record too.

--dry-run deletes nothing and prints the same counts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import privacy
from accounts.models import EmailVerificationToken, Notification, PasswordResetToken


class Command(BaseCommand):
    help = "Delete expired tokens, old read notifications, expired data exports and long-removed files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count only; delete nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        from doctors.models import DoctorDocument
        from records.models import FileUpload

        now = timezone.now()
        files_before = now - timedelta(days=settings.RETENTION_DELETED_FILES_DAYS)
        querysets = {
            "password_reset_tokens": PasswordResetToken.objects.filter(expires_at__lte=now),
            "email_verification_tokens": EmailVerificationToken.objects.filter(expires_at__lte=now),
            "read_notifications": Notification.objects.filter(
                read_at__lte=now - timedelta(days=settings.RETENTION_READ_NOTIFICATIONS_DAYS)
            ),
        }
        removed_files = FileUpload.all_objects.filter(
            deleted_at__lte=files_before, uploaded_by_id=F("patient_id")
        ).exclude(file="")
        removed_documents = DoctorDocument.all_objects.filter(deleted_at__lte=files_before)
        exports = privacy.exports_expired()

        counts = {name: qs.count() for name, qs in querysets.items()}
        counts["data_exports"] = len(exports)
        counts["deleted_files"] = removed_files.count()
        counts["deleted_doctor_documents"] = removed_documents.count()

        if not dry_run:
            for qs in querysets.values():
                qs.delete()
            for export in exports:
                privacy.export_delete(export)
            self._purge_files(removed_files)
            self._purge_documents(removed_documents)

        verb = "would delete" if dry_run else "deleted"
        for name, count in counts.items():
            self.stdout.write(f"{name}: {verb} {count}")

    def _purge_files(self, queryset) -> None:
        """Bytes always; the row too unless a chat message shows it as its attachment (a PROTECT key)."""
        from consultations.models import Message

        for upload in queryset.iterator():
            privacy._delete_stored(upload.file, upload.thumbnail)
            with transaction.atomic():
                if Message.all_objects.filter(attachment=upload).exists():
                    type(upload).all_objects.filter(pk=upload.pk).update(
                        file="", thumbnail="", ocr_text="", metadata={**upload.metadata, "purged": True}
                    )
                else:
                    type(upload).all_objects.filter(pk=upload.pk).delete()

    def _purge_documents(self, queryset) -> None:
        for document in queryset.iterator():
            privacy._delete_stored(document.file)
            type(document).all_objects.filter(pk=document.pk).delete()

"""Abstract building blocks shared by every app's models.

The project package holds no tables of its own; the apps do.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from dhanwantari.ids import ID_MAX_LENGTH, IdFactory


def id_field(prefix: str) -> models.CharField:
    return models.CharField(primary_key=True, max_length=ID_MAX_LENGTH, default=IdFactory(prefix), editable=False)


def ref(to: str, column: str, **kwargs) -> models.ForeignKey:
    """A foreign key with the spec's column name; PROTECT unless told otherwise.

    Medical and financial history must not vanish because a parent row did.
    """
    kwargs.setdefault("on_delete", models.PROTECT)
    return models.ForeignKey(to, db_column=column, **kwargs)


def patient_ref(column: str, **kwargs) -> models.ForeignKey:
    """A foreign key to a user who must be a patient."""
    return ref("accounts.User", column, limit_choices_to={"role": "patient"}, **kwargs)


def doctor_ref(column: str, **kwargs) -> models.ForeignKey:
    """A foreign key to a user who must be a doctor."""
    return ref("accounts.User", column, limit_choices_to={"role": "doctor"}, **kwargs)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=False)


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Default manager: soft-deleted rows do not exist for ordinary code."""

    def get_queryset(self) -> SoftDeleteQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


AllObjectsManager = models.Manager.from_queryset(SoftDeleteQuerySet)


class SoftDeleteModel(models.Model):
    """Rows are never hard-deleted by the product; `deleted_at` marks them gone.

    `objects` hides them, `all_objects` sees everything. Related-object access
    (`consultation.patient`) goes through Django's plain base manager, so history
    that points at a deleted row still resolves.
    """

    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    objects = SoftDeleteManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        if self.deleted_at is None:
            self.deleted_at = timezone.now()
            self.save(update_fields=["deleted_at", "updated_at"])

    def restore(self) -> None:
        if self.deleted_at is not None:
            self.deleted_at = None
            self.save(update_fields=["deleted_at", "updated_at"])

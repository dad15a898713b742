"""The audit trail of the staff console, and of reads of medical records.

- `AuditedAdminMixin` is on every ModelAdmin (accounts.apps wraps the ones
  other packages register): each add, change, delete and action done in the
  admin writes one admin_logs row with who, what, which row, the changed
  fields before and after, the IP and the user agent. A change page of a
  medical record (`audit_reads = True`) also writes one "view" row per GET.
- Clinical fields (`clinical_fields` on an admin) are shown only to staff
  with VIEW_CLINICAL; Support sees the rest of the record.
- What goes into old/new values is redacted: secrets (password hashes,
  tokens, TOTP secrets, API keys) and clinical or encrypted free text become
  "[redacted]". The trail records that a field changed, never its contents.
- `record_read` is the one-INSERT helper views call when someone other than
  the patient reads a medical record.

Services that audit their own writes (verification, moderation, unlocking,
cancellation) are called by actions marked `@service_audited`; the mixin
does not write a second row for those.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst

from accounts.models import AuditAction, User
from accounts.policies import VIEW_CLINICAL
from accounts.services import audit_record

REDACTED = "[redacted]"


# A field whose name contains one of these never has its value written to the trail.
SECRET_MARKERS = ("password", "token", "secret", "api_key", "apikey", "private_key", "signature_key")
# Keys inside JSON values that are secrets although their names do not say so
# (allauth's recovery-code seed, WebAuthn credentials).
NESTED_SECRETS = frozenset({"seed", "credential", "migrated_codes", "unused_codes", "used_mask"})

# Clinical free text across the apps, by name: redacted in the trail whatever
# the field class (the encryption work turns most into EncryptedTextField,
# which is redacted by class as well).
CLINICAL_FIELD_NAMES = frozenset(
    {
        "doctor_notes",
        "ai_summary",
        "symptoms",
        "chief_complaint",
        "body",
        "medical_history",
        "family_history",
        "allergies",
        "medications",
        "chronic_conditions",
        "diagnosis",
        "general_advice",
        "ocr_text",
        "notes",
        "comment",
    }
)


# --- redaction ----------------------------------------------------------------------


# Personal data by name: the trail is append-only and outlives an account's
# erasure, so it records that these changed, never their values.
PERSONAL_FIELD_NAMES = frozenset(
    {
        "email",
        "phone",
        "deleted_email",
        "deleted_phone",
        "first_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "address_line1",
        "address_line2",
        "postal_code",
        "emergency_contact_name",
        "emergency_contact_phone",
        "last_login_ip",
        "height_cm",
        "weight_kg",
        "blood_group",
    }
)


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def _model_field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def is_redacted(model: type[models.Model] | None, name: str, extra: Iterable[str] = ()) -> bool:
    if is_secret(name) or name in CLINICAL_FIELD_NAMES or name in PERSONAL_FIELD_NAMES or name in extra:
        return True
    field = _model_field(model, name)
    return field is not None and type(field).__name__ == "EncryptedTextField"


def jsonable(value: Any) -> Any:
    """A value as admin_logs' JSON columns can hold it (rows by primary key)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, models.QuerySet | list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or None
    return str(value)


def redacted_values(
    model: type[models.Model] | None, values: dict[str, Any], extra: Iterable[str] = ()
) -> dict[str, Any]:
    extra = frozenset(extra)
    return {
        name: REDACTED if is_redacted(model, name, extra) else _redact_nested(jsonable(v)) for name, v in values.items()
    }


def _redact_nested(value: Any) -> Any:
    """Secrets one level down too: an MFA authenticator's data {"secret": ..., "seed": ...}."""
    if isinstance(value, dict):
        return {
            k: REDACTED if is_secret(str(k)) or str(k).lower() in NESTED_SECRETS else _redact_nested(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_nested(v) for v in value]
    return value


def snapshot(obj: models.Model, extra: Iterable[str] = ()) -> dict[str, Any]:
    """Every concrete column of a row, redacted: what a delete takes away."""
    values = {f.name: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    return redacted_values(type(obj), values, extra)


# --- reads of medical records ---------------------------------------------------------


def record_read(
    *,
    reader: User,
    table: str,
    record_id: str,
    patient_id: str | None,
    what: str,
    request: HttpRequest | None = None,
) -> None:
    """One INSERT: someone other than the patient read one of the patient's records.

    `what` says which page ("consultation page", "room", "admin"). The
    patient's own reads are not recorded (they are not a disclosure).
    """
    if reader.is_authenticated and patient_id is not None and reader.pk == patient_id:
        return
    audit_record(
        actor=reader,
        action=AuditAction.VIEW,
        table=table,
        record_id=str(record_id),
        new={"what": what, "patient_id": patient_id},
        description=f"Read ({what}) a medical record of patient {patient_id}."[:500],
        request=request,
    )


# --- the admin mixin ------------------------------------------------------------------------


def service_audited(func: Callable) -> Callable:
    """Mark an admin action whose services write their own audit rows."""
    func.service_audited = True
    return func


class AuditedAdminMixin:
    """Put first in the bases of a ModelAdmin: audits writes, actions and (optionally) reads."""

    # Fields only staff with VIEW_CLINICAL see; always redacted in the trail.
    clinical_fields: tuple[str, ...] = ()
    # A GET of the change page writes a "view" row (medical records).
    audit_reads: bool = False
    # The attribute naming the patient a record belongs to (for read rows).
    audit_patient_attr: str = "patient_id"

    # --- who sees clinical fields

    def can_view_clinical(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_CLINICAL)

    def hidden_fields(self, request: HttpRequest) -> frozenset[str]:
        return frozenset() if self.can_view_clinical(request) else frozenset(self.clinical_fields)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = self.hidden_fields(request)
        if not hidden:
            return fieldsets
        kept = []
        for name, options in fieldsets:
            fields = []
            for entry in options.get("fields", ()):
                if isinstance(entry, list | tuple):
                    line = tuple(f for f in entry if f not in hidden)
                    if line:
                        fields.append(line)
                elif entry not in hidden:
                    fields.append(entry)
            if fields:
                kept.append((name, {**options, "fields": tuple(fields)}))
        return kept

    def get_list_display(self, request):
        hidden = self.hidden_fields(request)
        return [name for name in super().get_list_display(request) if name not in hidden]

    def get_list_filter(self, request):
        hidden = self.hidden_fields(request)
        return [f for f in super().get_list_filter(request) if not (isinstance(f, str) and f in hidden)]

    def get_search_fields(self, request):
        hidden = self.hidden_fields(request)
        return [name for name in super().get_search_fields(request) if name.lstrip("=^@") not in hidden]

    def lookup_allowed(self, lookup, value, request=None):
        # Django lets a changelist URL filter on any of the model's own fields
        # (?body__icontains=...): for a hidden field that would answer "which
        # patients match this diagnosis" one guess at a time.
        if request is not None and lookup.split("__", 1)[0] in self.hidden_fields(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    # --- writes

    def _audit(self, request: HttpRequest, obj, action: str, *, old=None, new=None, description: str = "") -> None:
        audit_record(
            actor=request.user,
            action=action,
            table=self.model._meta.db_table,
            record_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            old=old,
            new=new,
            description=description,
            request=request,
        )

    def save_model(self, request, obj, form, change):
        changed = list(form.changed_data)
        old = {name: form.initial.get(name) for name in changed} if change else None
        new = {name: form.cleaned_data.get(name) for name in changed}
        super().save_model(request, obj, form, change)
        extra = self.clinical_fields
        verbose = self.model._meta.verbose_name
        if change:
            what = ", ".join(changed) if changed else "no fields"
            description = f"Staff changed {verbose} {obj.pk}: {what}."
        else:
            description = f"Staff added {verbose} {obj.pk}."
        self._audit(
            request,
            obj,
            AuditAction.UPDATE if change else AuditAction.CREATE,
            old=redacted_values(self.model, old, extra) if old is not None else None,
            new=redacted_values(self.model, new, extra),
            description=description,
        )

    def delete_model(self, request, obj):
        before, pk = snapshot(obj, self.clinical_fields), obj.pk
        super().delete_model(request, obj)
        obj.pk = obj.pk or pk  # Django clears it after a delete
        self._audit(
            request,
            obj,
            AuditAction.DELETE,
            old=before,
            description=f"Staff deleted {self.model._meta.verbose_name} {pk}.",
        )

    def delete_queryset(self, request, queryset):
        rows = [(obj.pk, snapshot(obj, self.clinical_fields)) for obj in queryset]
        super().delete_queryset(request, queryset)
        for pk, before in rows:
            audit_record(
                actor=request.user,
                action=AuditAction.DELETE,
                table=self.model._meta.db_table,
                record_id=str(pk),
                old=before,
                description=f"Staff deleted {self.model._meta.verbose_name} {pk}.",
                request=request,
            )

    def response_action(self, request, queryset):
        response = super().response_action(request, queryset)
        name = request.POST.get("action", "")
        # A redirect means the action ran (an intermediate page answers 200).
        if response is None or response.status_code != 302 or not name or name == "delete_selected":
            return response
        action = self.get_actions(request).get(name)
        if action is None or getattr(action[0], "service_audited", False):
            return response
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across") == "1"
        audit_record(
            actor=request.user,
            action=AuditAction.ACTION,
            table=self.model._meta.db_table,
            record_id=selected[0] if len(selected) == 1 and not across else "",
            new={"action": name, "ids": [] if across else selected, "select_across": across},
            description=f"Staff ran “{capfirst(action[2])}” on {'all matching' if across else len(selected)} "
            f"{self.model._meta.verbose_name_plural}."[:500],
            request=request,
        )
        return response

    # --- reads

    def audit_patient_id(self, obj) -> str | None:
        return getattr(obj, self.audit_patient_attr, None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.audit_reads and request.method == "GET" and response.status_code == 200:
            # The object is already in the page's context: no extra read.
            original = getattr(response, "context_data", {}).get("original")
            if original is not None:
                record_read(
                    reader=request.user,
                    table=self.model._meta.db_table,
                    record_id=original.pk,
                    patient_id=self.audit_patient_id(original),
                    what="staff console",
                    request=request,
                )
        return response


def audit_every_admin(site: admin.AdminSite) -> None:
    """Give AuditedAdminMixin to admins registered without it (Django's, allauth's, tasks').

    Ours list it in their bases; this covers packages we do not edit, so that
    every write through the console is in the trail.
    """
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, AuditedAdminMixin):
            continue
        cls = type(model_admin)
        audited = type(cls.__name__, (AuditedAdminMixin, cls), {"__module__": cls.__module__})
        site._registry[model] = audited(model, site)


class RestoreActionMixin:
    """The "restore" action for soft-deleted rows, through the model's own restore().

    Opt out (`restorable = False`) where undoing a delete is a service's job
    (an account's deletion scrubs it; a review's removal changes a rating).
    """

    restorable = True

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.restorable and self.has_change_permission(request) and "_popup" not in request.GET:
            func, name, description = self.get_action("restore_rows")
            actions[name] = (func, name, description)
        return actions

    @admin.action(description="Restore selected deleted rows")
    @service_audited
    def restore_rows(self, request, queryset):
        count = 0
        for obj in queryset.filter(deleted_at__isnull=False):
            deleted_at = obj.deleted_at
            obj.restore()
            audit_record(
                actor=request.user,
                action=AuditAction.RESTORE,
                table=self.model._meta.db_table,
                record_id=str(obj.pk),
                old={"deleted_at": jsonable(deleted_at)},
                new={"deleted_at": None},
                description=f"Staff restored {self.model._meta.verbose_name} {obj.pk}.",
                request=request,
            )
            count += 1
        self.message_user(request, f"Restored {count} row{'' if count == 1 else 's'}.")

"""The database matches the schema document: table, view, column and index names."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from dhanwantari.jsonfield import SchemaJSONField

pytestmark = pytest.mark.django_db

SPEC_TABLES = {
    "users",
    "patient_profiles",
    "doctor_profiles",
    "consultations",
    "messages",
    "prescriptions",
    "prescription_items",
    "file_uploads",
    "notifications",
    "admin_logs",
    "password_reset_tokens",
    "email_verification_tokens",
    "doctor_reviews",
}
SPEC_VIEWS = {"active_doctors", "patient_consultation_history"}

# table -> {foreign key column: table it points at}, with the spec's column names.
SPEC_FOREIGN_KEYS = {
    "patient_profiles": {"user_id": "users"},
    "doctor_profiles": {"user_id": "users"},
    "consultations": {"patient_id": "users", "doctor_id": "users"},
    "messages": {"consultation_id": "consultations"},
    "prescriptions": {"consultation_id": "consultations", "patient_id": "users", "doctor_id": "users"},
    "prescription_items": {"prescription_id": "prescriptions"},
    "file_uploads": {"patient_id": "users", "consultation_id": "consultations", "user_id": "users"},
    "notifications": {"user_id": "users"},
    "admin_logs": {"user_id": "users"},
    "password_reset_tokens": {"user_id": "users"},
    "email_verification_tokens": {"user_id": "users"},
    "doctor_reviews": {"doctor_id": "users", "patient_id": "users", "consultation_id": "consultations"},
}

OUR_APPS = ("accounts", "patients", "doctors", "consultations", "prescriptions", "records", "payments")


def tables_by_type() -> dict[str, str]:
    with connection.cursor() as cursor:
        return {info.name: info.type for info in connection.introspection.get_table_list(cursor)}


def columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [column.name for column in connection.introspection.get_table_description(cursor, table)]


def relations(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_relations(cursor, table)
    return {column: target_table for column, (_target_column, target_table) in found.items()}


def indexes(table: str) -> list[dict]:
    """Every index on `table` (plain, unique or primary), as introspection reports it."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [c for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"]]


def has_index(table: str, leading: list[str]) -> bool:
    return any(index["columns"][: len(leading)] == leading for index in indexes(table))


def has_unique(table: str, column_list: list[str]) -> bool:
    return any(index["unique"] and index["columns"] == column_list for index in indexes(table))


def model_foreign_key_columns() -> list[tuple[str, str]]:
    """(table, column) of every foreign key our managed models declare."""
    found = []
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            if not model._meta.managed:
                continue
            for field in model._meta.concrete_fields:
                if field.many_to_one or field.one_to_one:
                    found.append((model._meta.db_table, field.column))
    return found


# --- tables and views -----------------------------------------------------------


def test_the_specs_thirteen_tables_exist_as_tables():
    found = tables_by_type()

    assert {name: found.get(name) for name in SPEC_TABLES} == dict.fromkeys(SPEC_TABLES, "t")


def test_the_specs_two_views_exist_as_views():
    found = tables_by_type()

    assert {name: found.get(name) for name in SPEC_VIEWS} == dict.fromkeys(SPEC_VIEWS, "v")


# Tables the product needs beyond the spec's 13, each named here on purpose.
EXTENSION_TABLES = {
    "notification_preferences",  # per-kind email/SMS choices (accounts)
    "doctor_documents",  # registration papers a doctor uploads for verification (doctors)
    "payment_events",  # every payment provider event, stored once (payments)
    "remedies",  # the remedy catalogue the prescription editor suggests from (prescriptions)
}


def test_every_model_of_ours_has_a_spec_table_or_view_or_a_named_extension():
    tables = {model._meta.db_table for app in OUR_APPS for model in apps.get_app_config(app).get_models()}

    assert tables == SPEC_TABLES | SPEC_VIEWS | EXTENSION_TABLES


# --- columns ----------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(SPEC_FOREIGN_KEYS))
def test_foreign_key_columns_have_the_specs_names(table):
    expected = SPEC_FOREIGN_KEYS[table]

    assert set(expected) <= set(columns(table))
    assert {column: relations(table).get(column) for column in expected} == expected


def test_the_history_view_has_the_columns_the_pages_read():
    assert {"id", "patient_id", "patient_name", "patient_age", "doctor_id", "doctor_name", "status"} <= set(
        columns("patient_consultation_history")
    )


def test_the_active_doctors_view_has_the_columns_the_pages_read():
    assert {"id", "user_id", "full_name", "specializations", "rating_avg", "rating_count"} <= set(
        columns("active_doctors")
    )


# --- indexes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "leading"),
    [
        # "Get doctor's upcoming appointments".
        ("consultations", ["doctor_id", "status", "scheduled_at"]),
        # "Get unread notifications".
        ("notifications", ["user_id", "read_at", "created_at"]),
        # A room's history.
        ("messages", ["consultation_id", "created_at"]),
        # "Calculate doctor rating".
        ("doctor_reviews", ["doctor_id", "is_visible"]),
    ],
)
def test_the_composite_indexes_for_the_specs_queries_exist(table, leading):
    assert has_index(table, leading)


@pytest.mark.parametrize("column", ["email", "phone"])
def test_users_email_and_phone_are_unique_indexes(column):
    assert has_unique("users", [column])


@pytest.mark.parametrize(("table", "column"), [("consultations", "status"), ("users", "role")])
def test_status_columns_are_indexed(table, column):
    assert has_index(table, [column])


def test_every_foreign_key_column_leads_some_index():
    # MySQL drops a single-column index on a foreign key when a composite index
    # starts with that column, so "some index starts with it" is the right test.
    fk_columns = model_foreign_key_columns()
    assert ("consultations", "doctor_id") in fk_columns

    missing = [(table, column) for table, column in fk_columns if not has_index(table, [column])]

    assert missing == []


# --- migrations ----------------------------------------------------------------------


def test_json_fields_leave_their_schema_out_of_migrations():
    from patients.models import PatientProfile

    field = PatientProfile._meta.get_field("allergies")
    assert isinstance(field, SchemaJSONField)

    _name, path, _args, kwargs = field.deconstruct()

    assert path == "django.db.models.JSONField"
    assert "schema" not in kwargs
    assert "check" not in kwargs


def test_the_models_and_the_migrations_agree():
    # Exits with status 1 (SystemExit) if a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

"""The spec's `patient_consultation_history` view: consultations with names.

The patient's age is computed here, at read time: MySQL does not allow
CURDATE() in a generated column, so it cannot be stored.
"""

from django.db import migrations

from dhanwantari.sql_views import sql_view

_COLUMNS = """
    c.id, c.patient_id, pp.full_name AS patient_name, {age} AS patient_age,
    c.doctor_id, dp.full_name AS doctor_name, c.consultation_type, c.mode, c.status,
    c.scheduled_at, c.started_at, c.ended_at, c.chief_complaint, c.triage_level,
    c.fee_amount, c.currency, c.payment_status, c.created_at
FROM consultations c
LEFT JOIN patient_profiles pp ON pp.user_id = c.patient_id
LEFT JOIN doctor_profiles dp ON dp.user_id = c.doctor_id
WHERE c.deleted_at IS NULL
"""

MYSQL_AGE = "TIMESTAMPDIFF(YEAR, pp.date_of_birth, CURDATE())"
SQLITE_AGE = (
    "(CAST(strftime('%Y', 'now') AS INTEGER) - CAST(strftime('%Y', pp.date_of_birth) AS INTEGER)"
    " - (strftime('%m-%d', 'now') < strftime('%m-%d', pp.date_of_birth)))"
)


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0002_initial"),
        ("patients", "0001_initial"),
        ("doctors", "0001_initial"),
    ]

    operations = [
        sql_view(
            "patient_consultation_history",
            {
                "mysql": "SELECT" + _COLUMNS.format(age=MYSQL_AGE),
                "sqlite": "SELECT" + _COLUMNS.format(age=SQLITE_AGE),
            },
        )
    ]

"""active_doctors gains postal_code and next_available_at (directory sorting)."""

from django.db import migrations

from dhanwantari.sql_views import sql_view

ACTIVE_DOCTORS = """
SELECT
    dp.id, dp.user_id, dp.full_name, dp.gender, dp.qualifications, dp.specializations,
    dp.languages, dp.experience_years, dp.photo, dp.consultation_fee, dp.follow_up_fee,
    dp.currency, dp.consultation_modes, dp.clinic_name, dp.city, dp.state, dp.postal_code,
    dp.latitude, dp.longitude, dp.timezone, dp.rating_avg, dp.rating_count, dp.verified_at,
    dp.next_available_at
FROM doctor_profiles dp
JOIN users u ON u.id = dp.user_id
WHERE dp.verification_status = 'verified'
  AND dp.deleted_at IS NULL
  AND u.is_active = 1
  AND u.deleted_at IS NULL
"""

PREVIOUS = """
SELECT
    dp.id, dp.user_id, dp.full_name, dp.gender, dp.qualifications, dp.specializations,
    dp.languages, dp.experience_years, dp.photo, dp.consultation_fee, dp.follow_up_fee,
    dp.currency, dp.consultation_modes, dp.clinic_name, dp.city, dp.state,
    dp.latitude, dp.longitude, dp.timezone, dp.rating_avg, dp.rating_count, dp.verified_at
FROM doctor_profiles dp
JOIN users u ON u.id = dp.user_id
WHERE dp.verification_status = 'verified'
  AND dp.deleted_at IS NULL
  AND u.is_active = 1
  AND u.deleted_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [("doctors", "0003_doctor_documents_and_next_available")]

    operations = [sql_view("active_doctors", {"default": ACTIVE_DOCTORS}, previous={"default": PREVIOUS})]

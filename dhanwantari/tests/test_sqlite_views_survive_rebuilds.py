"""On SQLite, altering a column rebuilds its table; our views must survive it."""

import pytest
from django.db import connection, models

from doctors.models import ActiveDoctor, DoctorProfile
from doctors.tests.factories import DoctorProfileFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="table rebuilds are SQLite's way to alter a column"),
]


def test_a_migration_that_rebuilds_a_table_read_by_a_view_keeps_the_view():
    DoctorProfileFactory(full_name="Dr. Still Listed")
    old = DoctorProfile._meta.get_field("city")
    new = models.CharField(max_length=120, blank=True, db_index=True)
    new.set_attributes_from_name("city")
    new.model = DoctorProfile

    with connection.schema_editor() as editor:
        editor.alter_field(DoctorProfile, old, new)
    try:
        assert list(ActiveDoctor.objects.values_list("full_name", flat=True)) == ["Dr. Still Listed"]
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(DoctorProfile, new, old)

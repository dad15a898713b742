"""MySQL/MariaDB connection settings: utf8mb4, strict mode, READ COMMITTED, UTC.

Skipped on every other database.
"""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction

from accounts.tests.factories import NotificationFactory
from consultations.models import Message
from consultations.tests.factories import MessageFactory
from dhanwantari.tests.test_schema import SPEC_TABLES


def mysql_only(reason: str = "runs only against MySQL/MariaDB") -> list[pytest.MarkDecorator]:
    return [pytest.mark.mysql, pytest.mark.skipif(connection.vendor != "mysql", reason=reason)]


pytestmark = [*mysql_only(), pytest.mark.django_db]


def session_value(variable: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@SESSION.{variable}")
        return cursor.fetchone()[0]


def test_every_spec_table_is_utf8mb4():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
        )
        collations = dict(cursor.fetchall())

    assert set(SPEC_TABLES) <= set(collations)
    assert {table: collations[table] for table in SPEC_TABLES if not collations[table].startswith("utf8mb4")} == {}


def test_every_text_column_of_the_spec_tables_is_utf8mb4():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL"
        )
        rows = cursor.fetchall()

    checked = [(table, column, charset) for table, column, charset in rows if table in SPEC_TABLES]
    assert checked
    assert [row for row in checked if row[2] != "utf8mb4"] == []


def test_hindi_and_emoji_round_trip_in_a_message():
    message = MessageFactory(body="सिरदर्द 🤕 धूप में बढ़ता है")

    assert Message.objects.get(pk=message.pk).body == "सिरदर्द 🤕 धूप में बढ़ता है"


def test_the_connection_speaks_utf8mb4():
    assert session_value("character_set_connection") == "utf8mb4"


def test_the_session_is_in_strict_mode():
    modes = session_value("sql_mode").split(",")

    assert "STRICT_ALL_TABLES" in modes
    assert "STRICT_TRANS_TABLES" in modes


def test_strict_mode_refuses_a_too_long_value_instead_of_truncating_it():
    with pytest.raises(DataError), transaction.atomic():
        NotificationFactory(title="x" * 201)


def test_the_transaction_isolation_is_read_committed():
    # MariaDB < 11.1 names the variable tx_isolation; MySQL 8 transaction_isolation.
    variable = (
        "tx_isolation"
        if connection.mysql_is_mariadb and connection.mysql_version < (11, 1)
        else ("transaction_isolation")
    )

    assert session_value(variable) == "READ-COMMITTED"


def test_the_session_time_zone_is_utc():
    assert session_value("time_zone") == "+00:00"

"""SQLite with the few MySQL functions the schema document's sample queries use,
and a schema editor that keeps our SQL views through table rebuilds (schema.py).

The spec's SQL is written for MySQL (`c.scheduled_at > NOW()`). Registering
NOW() here lets the same statements run verbatim on the embedded database that
`make run` uses. Datetimes are compared as text, so NOW() returns UTC in the
exact format Django writes to SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.backends.sqlite3 import base

from dhanwantari.db_backends.sqlite3.schema import DatabaseSchemaEditor


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        conn.create_function("NOW", 0, _now)
        return conn

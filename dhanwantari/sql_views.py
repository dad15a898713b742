"""Real SQL views, created and dropped by migrations.

Each view's SELECT is written once per database vendor where the dialects
differ (MySQL/MariaDB and SQLite) and frozen in the migration that creates it;
a later change to a view is a new migration with the new SELECT.
"""

from __future__ import annotations

from django.db import migrations


def _create(schema_editor, name: str, select: dict[str, str]) -> None:
    vendor = schema_editor.connection.vendor
    query = select.get(vendor, select.get("default"))
    if query is None:
        raise NotImplementedError(f"No SQL for view {name} on {vendor}.")
    quoted = schema_editor.quote_name(name)
    # On MySQL a view runs with its definer's rights by default, which ties
    # it (and every dump of it) to the account that ran the migration.
    security = " SQL SECURITY INVOKER" if vendor == "mysql" else ""
    schema_editor.execute(f"DROP VIEW IF EXISTS {quoted}")
    schema_editor.execute(f"CREATE{security} VIEW {quoted} AS {query}")


def sql_view(name: str, select: dict[str, str], *, previous: dict[str, str] | None = None) -> migrations.RunPython:
    """A migration operation that (re)creates view `name` from `select[vendor]`.

    `select` maps a vendor ("mysql", "sqlite") to its SELECT; the key "default"
    serves every vendor not named. Reversing restores `previous` (the view's
    earlier definition) or, for a view's first migration, drops it.
    """

    def forward(apps, schema_editor) -> None:
        _create(schema_editor, name, select)

    def backward(apps, schema_editor) -> None:
        if previous is not None:
            _create(schema_editor, name, previous)
        else:
            schema_editor.execute(f"DROP VIEW IF EXISTS {schema_editor.quote_name(name)}")

    # DDL cannot run inside a transaction on MySQL (it commits implicitly).
    return migrations.RunPython(forward, backward, atomic=False, elidable=False)

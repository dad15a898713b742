"""Print the SQL that creates the database roles the spec asks for (it executes nothing).

    DB_APP_PASSWORD=... DB_READONLY_PASSWORD=... \
    python manage.py db_roles [--app-user dh_app] [--readonly-user dh_readonly]
                              [--database SCHEMA] [--host %]

- the read-only role: SELECT on every table and view of the database except
  the secrets (SECRET_TABLES: sessions, MFA authenticators, password-reset and
  email-verification tokens, allauth's email confirmations, the task results,
  whose arguments and return values may hold anything); on `users` it may read
  every column but `password` (a column-level grant). The grants are per table,
  so a table added later is not readable until this is run again. A role made
  by an older version (SELECT on the whole schema) keeps that grant: drop it
  first (`REVOKE SELECT ON schema.* FROM ...`);
- the application role: SELECT, INSERT, UPDATE, DELETE on every table except
  admin_logs, where it may only SELECT and INSERT (the audit trail is
  append-only, and this makes it so even for code that skips the model), and
  SELECT on the views.

MySQL grants are per table, so the tables are listed from the default
connection's introspection: run it again (and the printed SQL) after a migration adds a
table. Migrations themselves run as an administrator, not as either role.
Passwords are read from the environment (DB_APP_PASSWORD, DB_READONLY_PASSWORD),
never from the command line (where `ps` and the shell history would keep them);
without them the SQL carries a placeholder to replace.
"""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

AUDIT_TABLE = "admin_logs"
NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
HOST = re.compile(r"^[A-Za-z0-9_.%:-]{1,255}$")
# Tables the read-only role may not read at all: session keys, MFA secrets, one-time tokens, task payloads.
SECRET_TABLES = frozenset(
    {
        "django_session",
        "mfa_authenticator",
        "account_emailconfirmation",
        "password_reset_tokens",
        "email_verification_tokens",
        "django_tasks_database_dbtaskresult",
    }
)
# Columns the read-only role may not read in a table it otherwise can.
SECRET_COLUMNS = {"users": frozenset({"password"})}
APP_PASSWORD_ENV, READONLY_PASSWORD_ENV = "DB_APP_PASSWORD", "DB_READONLY_PASSWORD"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def role_sql(
    *,
    database: str,
    tables: list[str],
    views: list[str],
    app_user: str,
    readonly_user: str,
    host: str,
    app_password: str,
    readonly_password: str,
    columns: dict[str, list[str]] | None = None,
) -> list[str]:
    """The statements, in order, one per line. `columns`: the columns of the SECRET_COLUMNS tables."""
    app, readonly = f"{_string(app_user)}@{_string(host)}", f"{_string(readonly_user)}@{_string(host)}"
    db = _ident(database)
    lines = [
        f"CREATE USER IF NOT EXISTS {readonly} IDENTIFIED BY {_string(readonly_password)};",
        f"CREATE USER IF NOT EXISTS {app} IDENTIFIED BY {_string(app_password)};",
    ]
    # Read-only: every table but the secrets (users without its password column), and the views.
    for table in sorted(tables):
        if table in SECRET_TABLES:
            continue
        if table in SECRET_COLUMNS:
            allowed = [c for c in (columns or {}).get(table, []) if c not in SECRET_COLUMNS[table]]
            if allowed:
                listed = ", ".join(_ident(c) for c in allowed)
                lines.append(f"GRANT SELECT ({listed}) ON {db}.{_ident(table)} TO {readonly};")
            continue
        lines.append(f"GRANT SELECT ON {db}.{_ident(table)} TO {readonly};")
    for view in sorted(views):
        lines.append(f"GRANT SELECT ON {db}.{_ident(view)} TO {readonly};")
    for table in sorted(tables):
        privileges = "SELECT, INSERT" if table == AUDIT_TABLE else "SELECT, INSERT, UPDATE, DELETE"
        lines.append(f"GRANT {privileges} ON {db}.{_ident(table)} TO {app};")
    for view in sorted(views):
        lines.append(f"GRANT SELECT ON {db}.{_ident(view)} TO {app};")
    return lines


class Command(BaseCommand):
    help = "Print the SQL creating the read-only and application database roles (does not run it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--app-user", default="dh_app")
        parser.add_argument("--readonly-user", default="dh_readonly")
        parser.add_argument("--database", help="The schema the grants are on (default: the connection's database).")
        parser.add_argument("--host", default="%", help="The host part of the accounts ('%%' = anywhere).")

    def handle(self, *args, **options) -> None:
        for option in ("app_user", "readonly_user"):
            if not NAME.match(options[option]):
                raise CommandError(f"--{option.replace('_', '-')}: letters, digits and _ only, at most 32.")
        if options["app_user"] == options["readonly_user"]:
            raise CommandError("The application and read-only users must differ.")
        if not HOST.match(options["host"]):
            raise CommandError("--host: a host name, address or pattern such as % or 10.0.%.")
        connection = connections["default"]
        database = options["database"] or connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            found = connection.introspection.get_table_list(cursor)
            tables = [t.name for t in found if t.type == "t"]
            views = [t.name for t in found if t.type == "v"]
            columns = {
                table: [c.name for c in connection.introspection.get_table_description(cursor, table)]
                for table in SECRET_COLUMNS
                if table in tables
            }
        lines = role_sql(
            database=database,
            tables=tables,
            views=views,
            app_user=options["app_user"],
            readonly_user=options["readonly_user"],
            host=options["host"],
            app_password=os.environ.get(APP_PASSWORD_ENV) or "<APP_PASSWORD>",
            readonly_password=os.environ.get(READONLY_PASSWORD_ENV) or "<READONLY_PASSWORD>",
            columns=columns,
        )
        if connection.vendor != "mysql":
            self.stderr.write(f"-- Note: this database is {connection.vendor}; the SQL is for MySQL/MariaDB.")
        for env in (APP_PASSWORD_ENV, READONLY_PASSWORD_ENV):
            if not os.environ.get(env):
                self.stderr.write(f"-- Note: {env} is not set; replace its placeholder in the SQL.")
        self.stdout.write(f"-- Dhanwantari database roles on {database}; run as an administrator.")
        self.stdout.write("\n".join(lines))
        self.stdout.write("FLUSH PRIVILEGES;")

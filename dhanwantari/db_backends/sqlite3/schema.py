"""SQLite schema changes that survive our SQL views.

SQLite cannot alter most columns in place, so Django rebuilds the table: it
creates a new one, copies the rows, drops the old one and renames the new one.
A view that reads the table (active_doctors reads users and doctor_profiles)
makes that rename fail ("error in view …: no such table"). So the views are
set aside while a table is rebuilt and recreated from their own SQL after. A
change that removes a column a view needs still fails, as it should: that
migration must redefine the view.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import schema


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
            views = cursor.fetchall()
        for name, _sql in views:
            self.execute(f"DROP VIEW {self.quote_name(name)}")
        super()._remake_table(model, create_field=create_field, delete_field=delete_field, alter_fields=alter_fields)
        for _name, sql in views:
            self.execute(sql)

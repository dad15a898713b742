"""Small SQL functions with per-vendor SQL, for generated columns and constraints."""

from __future__ import annotations

from django.db import models
from django.db.models.lookups import In
from django.utils.deconstruct import deconstructible


@deconstructible(path="dhanwantari.db_functions.RealArithmetic")
class RealArithmetic(models.Func):
    """Forces floating-point arithmetic on SQLite, a no-op elsewhere.

    SQLite stores 58.0 in a DECIMAL column as the integer 58 and Django casts
    decimal operands to NUMERIC, so `58 * 10000 / (162 * 162)` would be integer
    division there. MySQL keeps exact DECIMAL arithmetic, which we want.
    """

    function = ""
    template = "%(expressions)s"
    output_field = models.FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)", **extra_context)


@deconstructible(path="dhanwantari.db_functions.BinaryText")
class BinaryText(models.Func):
    """Compares text byte for byte on MySQL.

    Our MySQL tables use the case-insensitive utf8mb4_unicode_ci collation, so a
    CHECK (status IN ('scheduled', …)) would also accept 'SCHEDULED'. SQLite
    already compares case-sensitively.
    """

    function = ""
    template = "%(expressions)s"
    output_field = models.CharField()

    def as_mysql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="BINARY %(expressions)s", **extra_context)


def one_of(field: str, values: list[str], *, name: str) -> models.CheckConstraint:
    """A CHECK that `field` holds exactly one of `values`, case-sensitively everywhere."""
    return models.CheckConstraint(condition=In(BinaryText(models.F(field)), list(values)), name=name)

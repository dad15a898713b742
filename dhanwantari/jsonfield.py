"""JSON columns whose shape is documented as a JSON Schema and checked on write.

The schema is the documentation: each app keeps its shapes in `schemas.py`.
Validation runs in `full_clean()` (so forms show the error next to the field)
and again in `pre_save()`, so no writer, not even a bulk insert, can store a
malformed document. Only `QuerySet.update()` bypasses it; services do not use it
on these columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError


def _path(error: SchemaError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def _describe(error: SchemaError) -> str:
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    message = custom or error.message
    where = _path(error)
    return f"{where}: {message}" if where else message


class JSONShapeValidator:
    """A Django validator for one JSON Schema; messages name the bad item."""

    def __init__(self, schema: dict[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.schema = schema
        self._validator = Draft202012Validator(schema)

    def __call__(self, value: Any) -> None:
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            raise ValidationError([_describe(e) for e in errors[:5]], code="invalid_shape")


class SchemaJSONField(models.JSONField):
    """A JSONField checked against `schema`, then by `check` for rules a schema
    cannot say (a time range that ends before it starts)."""

    # Django skips validation of blank fields holding [] or {}; for a shaped
    # document those can be invalid ({} has no weekly hours), so only None is
    # "empty" here. Otherwise full_clean would pass what pre_save refuses.
    empty_values = [None]

    def __init__(
        self,
        *args: Any,
        schema: dict[str, Any] | None = None,
        check: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self.schema = schema
        self.shape_validator = JSONShapeValidator(schema) if schema is not None else None
        self.check_value = check
        super().__init__(*args, **kwargs)

    def validate_shape(self, value: Any) -> None:
        if self.shape_validator is not None:
            self.shape_validator(value)
        if self.check_value is not None:
            self.check_value(value)

    @property
    def validators(self):
        return [*super().validators, self.validate_shape]

    def deconstruct(self):
        # The schema changes nothing in the database, so migrations leave it out.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        if value is not None:
            try:
                self.validate_shape(value)
            except ValidationError as exc:
                raise ValidationError({self.name: exc.messages}) from exc
        return value

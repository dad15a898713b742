"""Primary keys: short opaque strings `<prefix>_<ULID>`.

A ULID starts with a 48-bit millisecond timestamp, so new rows land at the end
of InnoDB's clustered index (inserts stay sequential) and ids sort by creation
time; its 80 random bits make ids impossible to enumerate.
"""

from __future__ import annotations

from django.utils.deconstruct import deconstructible
from ulid import ULID

ID_MAX_LENGTH = 40


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


@deconstructible
class IdFactory:
    """A field default that makes a fresh id with a fixed prefix (serialisable in migrations)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self) -> str:
        return new_id(self.prefix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdFactory) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)

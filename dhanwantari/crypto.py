"""Column encryption for sensitive free text (medical history, clinical notes).

`EncryptedTextField` is a TEXT column holding `enc1:` + a Fernet token
(AES-128-CBC with HMAC-SHA256, from `cryptography`: authenticated, so a changed
byte is refused rather than decrypted to garbage). The keys come from
`settings.FIELD_ENCRYPTION_KEYS`, newest first: the first encrypts, every one
decrypts (`MultiFernet`), so a key is rotated by putting a new one in front,
running `manage.py rotate_encryption_keys`, then dropping the old one.

Choices a reader should know:

- An empty string is stored empty, not encrypted, so `blank=True`, the forms'
  "nothing added yet" and `filter(field="")` keep working. It tells a reader
  of the database only that the field is empty; a token's length tells about
  as much of the rest.
- A value without the `enc1:` prefix is a row written before the column was
  encrypted: it is returned as it is, and encrypted the next time the row is
  saved or `rotate_encryption_keys` runs. That lets the data migrations run in
  place, and a half-finished migration never loses data.
- Ciphertext cannot be searched or compared: every lookup except `isnull` and
  `exact` with "" raises `EncryptedLookupError` instead of silently matching
  nothing. Ordering by such a column orders by ciphertext, i.e. randomly.
- Only the ORM encrypts. `QuerySet.update(field=F(...))` or raw SQL writing
  these columns would store plaintext (read back as legacy plaintext).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

PREFIX = "enc1:"

NO_KEYS = (
    "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off: a comma-separated list of Fernet keys, "
    "newest first. Make one with: python -c "
    '"import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)
BAD_KEY = "FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key (32 random bytes, url-safe base64)."
DECRYPTION_FAILED = (
    "Could not decrypt {column}: the value was altered, or was encrypted with a key that is not in "
    "FIELD_ENCRYPTION_KEYS."
)
UNSUPPORTED_LOOKUP = (
    "{field} is encrypted: only `isnull` and `exact` with an empty string can be queried, not `{lookup}`."
)

# HKDF's `info` binds the derived key to this one purpose: the same SECRET_KEY
# must not give the same bytes to anything else that derives from it.
_DEV_KEY_INFO = b"dhanwantari column encryption: development key"


class DecryptionError(Exception):
    """A stored value is not a token any configured key can open."""


class EncryptedLookupError(FieldError):
    """A query tried to search or compare an encrypted column."""


def dev_key(secret_key: str) -> str:
    """A deterministic Fernet key derived from SECRET_KEY, for DEBUG only.

    It lets `make run` work with nothing configured and keeps a dev database
    readable across restarts. It is no secret beyond SECRET_KEY itself, so it
    is never used with DEBUG off."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DEV_KEY_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw).decode("ascii")


def load_keys(keys: Iterable[str], *, debug: bool, secret_key: str) -> list[str]:
    """The FIELD_ENCRYPTION_KEYS setting from the environment's list, checked.

    Raises ImproperlyConfigured (so the process refuses to start) if a key is
    malformed, or if there is none and DEBUG is off."""
    found = [key.strip() for key in keys if key.strip()]
    for position, key in enumerate(found, start=1):
        try:
            Fernet(key)
        except ValueError:
            # The message names the position, never the key.
            raise ImproperlyConfigured(BAD_KEY.format(position=position)) from None
    if found:
        return found
    if debug:
        return [dev_key(secret_key)]
    raise ImproperlyConfigured(NO_KEYS)


@functools.lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    # Keyed on the keys themselves, so a test's `settings.FIELD_ENCRYPTION_KEYS = [...]`
    # takes effect at once, with no cache to clear.
    if not keys:
        raise ImproperlyConfigured(NO_KEYS)
    return MultiFernet([_fernet(key) for key in keys])


@functools.lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key)


def current_multifernet() -> MultiFernet:
    from django.conf import settings

    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def encrypt(plaintext: str | None) -> str | None:
    if plaintext is None or plaintext == "":
        return plaintext
    return PREFIX + current_multifernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str | None, *, column: str = "an encrypted column") -> str | None:
    if not is_encrypted(stored):
        return stored  # empty, NULL, or plaintext written before encryption
    try:
        return current_multifernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DecryptionError(DECRYPTION_FAILED.format(column=column)) from None


def rotate(stored: str | None, *, column: str = "an encrypted column") -> str | None:
    """`stored` encrypted under the first key; plaintext is encrypted, empty stays empty."""
    if not stored:
        return stored
    if not is_encrypted(stored):
        return encrypt(stored)
    try:
        token = current_multifernet().rotate(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        raise DecryptionError(DECRYPTION_FAILED.format(column=column)) from None
    return PREFIX + token.decode("ascii")


class EncryptedTextField(models.TextField):
    """A TextField stored encrypted (see the module docstring)."""

    description = "Text (encrypted at rest)"

    # The only lookups that mean something on ciphertext.
    _allowed_lookups = frozenset({"exact", "isnull"})

    @property
    def _column_label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.db_table}.{self.column}" if model is not None else str(self.name)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return decrypt(value, column=self._column_label)

    def get_prep_value(self, value: Any) -> str | None:
        return encrypt(super().get_prep_value(value))

    def get_lookup(self, lookup_name: str):
        if lookup_name not in self._allowed_lookups:
            raise EncryptedLookupError(UNSUPPORTED_LOOKUP.format(field=self._column_label, lookup=lookup_name))
        lookup = super().get_lookup(lookup_name)
        return EncryptedExact if lookup_name == "exact" else lookup

    def get_transform(self, lookup_name: str):
        raise EncryptedLookupError(UNSUPPORTED_LOOKUP.format(field=self._column_label, lookup=lookup_name))


class EncryptedExact(models.lookups.Exact):
    """`field=""` (empty is stored empty) or `field=None`; a non-empty value is
    refused, since its fresh ciphertext could never equal the stored one."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            field = self.lhs.output_field
            raise EncryptedLookupError(UNSUPPORTED_LOOKUP.format(field=field._column_label, lookup="exact"))
        return super().get_prep_lookup()


def encrypted_fields(model: type[models.Model]) -> Sequence[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]


def needs_rotation(stored: str | None) -> bool:
    """Plaintext, or a token the first (current) key did not make."""
    if not stored:
        return False
    if not is_encrypted(stored):
        return True
    from django.conf import settings

    try:
        _fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        return True
    return False


def rotated_if_needed(stored: str | None, *, column: str = "an encrypted column") -> str | None:
    return rotate(stored, column=column) if needs_rotation(stored) else stored


def encrypted_if_plain(stored: str | None, *, column: str = "an encrypted column") -> str | None:
    return stored if not stored or is_encrypted(stored) else encrypt(stored)


@dataclass
class RewriteCount:
    rows: int = 0  # rows read
    rewritten: int = 0  # rows whose stored value changed (or would, in a dry run)
    skipped: int = 0  # rows written by someone else between our read and our write


def rewrite_columns(
    model: type[models.Model],
    field_names: Sequence[str],
    transform: Callable[..., str | None],
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> RewriteCount:
    """Apply `transform(stored, column=...)` to the stored values of `field_names`
    in every row of `model`'s table, soft-deleted rows included.

    Raw SQL on purpose: the ORM would decrypt on read and encrypt again on
    write, and model guards (an issued prescription refuses changes) must not
    stop a change of key, which leaves the text as it was. Rows are read in
    primary-key order, `batch_size` at a time (keyset pagination: mysqlclient
    buffers a whole result set even under `.iterator()`, so a LIMIT is what
    bounds memory). Each write is a compare-and-set on the old stored values:
    a row the application changed meanwhile was written with the current key
    already, and is left alone rather than overwritten with stale text."""
    connection = connections[using]
    qn = connection.ops.quote_name
    meta = model._meta
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    columns = [meta.get_field(name).column for name in field_names]
    labels = [f"{meta.db_table}.{column}" for column in columns]
    select = f"SELECT {pk}, {', '.join(qn(c) for c in columns)} FROM {table}"  # noqa: S608  (quoted names)
    count = RewriteCount()
    last = None
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if last is None:
                cursor.execute(f"{select} ORDER BY {pk} LIMIT %s", [batch_size])
            else:
                cursor.execute(f"{select} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, batch_size])
            rows = cursor.fetchall()
            for pk_value, *stored in rows:
                count.rows += 1
                changes = []
                for column, label, old in zip(columns, labels, stored, strict=True):
                    new = transform(old, column=label)
                    if new != old:
                        changes.append((column, old, new))
                if not changes:
                    continue
                count.rewritten += 1
                if dry_run:
                    continue
                assignments = ", ".join(f"{qn(column)} = %s" for column, _, _ in changes)
                guards = " AND ".join(f"{qn(column)} = %s" for column, _, _ in changes)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE {pk} = %s AND {guards}",  # noqa: S608  (quoted names)
                    [*(new for _, _, new in changes), pk_value, *(old for _, old, _ in changes)],
                )
                if cursor.rowcount == 0:
                    count.rewritten -= 1
                    count.skipped += 1
        if len(rows) < batch_size:
            return count
        last = rows[-1][0]

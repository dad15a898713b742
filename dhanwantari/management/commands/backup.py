"""One consistent backup of the database and the uploaded files, in one .tar.gz.

    python manage.py backup [--output DIR]

The archive `dhanwantari-backup-YYYYMMDD-HHMMSS.tar.gz` holds:

- manifest.json: format, engine, database name, created_at, rows per table,
  the dump's SHA-256, whether media is included;
- database.sql (MySQL/MariaDB): `mysqldump --single-transaction --routines
  --triggers` (one consistent snapshot without locking InnoDB tables; the
  spec's views active_doctors and patient_consultation_history are in it);
  database.sqlite3 (SQLite): a copy made with SQLite's online backup API, safe
  while the site is running;
- media/: MEDIA_ROOT, when files are on local disk. With S3 storage the
  bucket is backed up by its own versioning/replication, not here.

Credentials reach mysqldump through a temporary option file readable only by
us (--defaults-extra-file), never on the command line where `ps` shows them.
The archive is created with mode 0600 from the start (never world-readable,
even for a moment), and the output folder, when we create it, with 0700.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

FORMAT = 1
MYSQL_ENGINES = ("django.db.backends.mysql",)


def database_settings(alias: str = "default") -> dict[str, Any]:
    # The wrapper's dict: under tests it names the test database. No connection is opened.
    return connections[alias].settings_dict


def engine_of(db: dict[str, Any]) -> str:
    engine = db["ENGINE"]
    if engine in MYSQL_ENGINES or "mysql" in engine:
        return "mysql"
    if "sqlite3" in engine:
        return "sqlite"
    raise CommandError(f"Backups support MySQL/MariaDB and SQLite, not {engine}.")


def media_is_local() -> bool:
    backend = settings.STORAGES["default"]["BACKEND"]
    return backend == "django.core.files.storage.FileSystemStorage"


def _option_value(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def mysql_defaults_file(db: dict[str, Any]):
    """A [client] option file with the credentials, mode 0600, removed afterwards."""
    lines = ["[client]"]
    for key, option in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host"), ("PORT", "port")):
        if db.get(key):
            lines.append(f"{option}={_option_value(db[key])}")
    lines.append("default-character-set=utf8mb4")
    ssl = (db.get("OPTIONS") or {}).get("ssl") or {}
    if ssl.get("ca"):
        lines.append(f"ssl-ca={_option_value(ssl['ca'])}")
    fd, path = tempfile.mkstemp(prefix="dh-mysql-", suffix=".cnf")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


def mysql_counts(defaults: str, name: str) -> dict[str, int]:
    """Rows per base table, through the mysql client (works for any database name, not only Django's)."""
    tables = mysql_run(
        defaults,
        name,
        "SELECT table_name FROM information_schema.tables WHERE "
        "table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
    ).split()
    if not tables:
        return {}
    # The names come from information_schema, not from anyone's input.
    query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM `{t}`" for t in tables)  # noqa: S608
    out = mysql_run(defaults, name, query)
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in out.splitlines() if line}


@cache
def mysql_hardening_flags() -> tuple[str, ...]:
    """--binary-mode (client commands such as `\\! shell` are not interpreted in piped input) and, when this
    client has it, --sandbox (no commands touching the file system)."""
    client = shutil.which("mysql") or "mysql"
    try:
        help_text = subprocess.run([client, "--help"], capture_output=True, check=False, timeout=30).stdout  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        help_text = b""
    return ("--binary-mode",) + (("--sandbox",) if b"--sandbox" in help_text else ())


def mysql_run(defaults: str, name: str, sql: str, *, stdin: Any = None) -> str:
    command = [shutil.which("mysql") or "mysql", f"--defaults-extra-file={defaults}", "--batch", "--skip-column-names"]
    command += mysql_hardening_flags()
    if sql:
        command += ["-e", sql]
    if name:
        command.append(name)
    result = subprocess.run(command, stdin=stdin, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise CommandError(f"mysql failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _regular_only(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return member if member.isfile() or member.isdir() else None


def backup_create(*, db: dict[str, Any], output: Path, media_root: Path | None) -> Path:
    """Write the archive into `output` and return its path."""
    engine = engine_of(db)
    if not output.is_dir():
        output.mkdir(mode=0o700, parents=True)
        output.chmod(0o700)  # whatever the umask
    created = timezone.now()
    archive = output / f"dhanwantari-backup-{created:%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="dh-backup-") as work:
        work_dir = Path(work)
        if engine == "sqlite":
            dump = work_dir / "database.sqlite3"
            source = sqlite3.connect(str(db["NAME"]))
            target = sqlite3.connect(dump)
            try:
                source.backup(target)  # the online backup API: consistent while others write
            finally:
                target.close()
                source.close()
            counts = sqlite_counts(dump)
        else:
            dump = work_dir / "database.sql"
            with mysql_defaults_file(db) as defaults, dump.open("wb") as out:
                result = subprocess.run(  # noqa: S603
                    [
                        shutil.which("mysqldump") or "mysqldump",
                        f"--defaults-extra-file={defaults}",
                        "--single-transaction",
                        "--routines",
                        "--triggers",
                        "--hex-blob",
                        "--no-tablespaces",
                        db["NAME"],
                    ],
                    stdout=out,
                    stderr=subprocess.PIPE,
                    check=False,
                )
                if result.returncode != 0:
                    raise CommandError(f"mysqldump failed: {result.stderr.decode(errors='replace').strip()}")
                counts = mysql_counts(defaults, db["NAME"])
        include_media = media_root is not None and Path(media_root).is_dir()
        manifest = {
            "format": FORMAT,
            "engine": engine,
            "database": str(db["NAME"]) if engine == "mysql" else Path(str(db["NAME"])).name,
            "created_at": created.isoformat(),
            "database_file": dump.name,
            "database_sha256": sha256_of(dump),
            "counts": counts,
            "media": include_media,
            "media_note": "" if media_is_local() else "Files are in object storage; back up the bucket separately.",
        }
        (work_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        # Created 0600 (it holds every patient's records), not chmodded after being written world-readable.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                tar.add(work_dir / "manifest.json", arcname="manifest.json")
                tar.add(dump, arcname=dump.name)
                if include_media:
                    # Regular files and folders only: restore refuses links and devices.
                    tar.add(media_root, arcname="media", filter=_regular_only)
            partial.replace(archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return archive


class Command(BaseCommand):
    help = "Back up the database (consistent dump) and uploaded files into one timestamped .tar.gz."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, default=None, help="Folder for the archive (default BACKUP_DIR).")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, output: Path | None = None, database: str = "default", **options) -> None:
        media_root = Path(settings.MEDIA_ROOT) if media_is_local() else None
        archive = backup_create(
            db=database_settings(database), output=output or Path(settings.BACKUP_DIR), media_root=media_root
        )
        self.stdout.write(f"Backup written to {archive}")
        if media_root is None:
            self.stdout.write("Media is in object storage: rely on the bucket's versioning/replication.")

"""Restore an archive written by `manage.py backup`.

    python manage.py restore ARCHIVE --yes [--database-name NAME]

Refuses without --yes (a restore replaces the database). Checks the manifest
first: its format, that the engine is this site's, and the dump's SHA-256.
MySQL/MariaDB: the dump is fed to the `mysql` client (credentials in a
temporary option file); `--database-name` restores into another database
(created if missing), e.g. to inspect a backup without touching the live one.
DEFINER clauses are stripped from the dump, so any account allowed to create
views can restore it (ours are SQL SECURITY INVOKER anyway). SQLite: the
copy is written over the database file with the online backup API.
Media: the current MEDIA_ROOT is moved aside to
`<MEDIA_ROOT>.before-restore-<time>` and the archive's files put in its place.
Row counts after the restore are compared with the manifest's.

An archive is untrusted input. Every member is checked before anything is
extracted: regular files and folders only (no symlinks, hard links, devices or
FIFOs), relative names without `..`, each landing inside the extraction folder;
otherwise the whole archive is refused. The dump must be `database.sql` or
`database.sqlite3`. The mysql client loads the dump with --binary-mode (and
--sandbox where it has it), so client commands such as `\\! sh` in a tampered
dump are not run, and the dump is refused outright if a line starts with a
client command (`\\x`, system, source, use, connect, tee, pager). The target
database must be the one the backup was taken of unless --database-name says otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from dhanwantari.management.commands.backup import (
    FORMAT,
    database_settings,
    engine_of,
    media_is_local,
    mysql_counts,
    mysql_defaults_file,
    mysql_run,
    sha256_of,
    sqlite_counts,
)

REFUSED = "A restore replaces the database and the uploaded files. Run it again with --yes to go ahead."
_DEFINER = re.compile(rb"\s*DEFINER=`[^`]*`@`[^`]*`")
DATABASE_FILES = {"sqlite": "database.sqlite3", "mysql": "database.sql"}
# mysql client commands (backslash form, or a long form at the start of a line). mysqldump writes none.
_CLIENT_COMMAND = re.compile(rb"^\s*(\\|(system|source|use|connect|tee|pager)(\s|;|$))", re.IGNORECASE)


def check_members(tar: tarfile.TarFile, dest: Path | None = None) -> list[tarfile.TarInfo]:
    """Every member, if all are plain files/folders with safe relative names (inside `dest`); else refuse all."""
    members = tar.getmembers()
    root = dest.resolve() if dest is not None else None
    for member in members:
        name = member.name
        path = PurePosixPath(name)
        if not (member.isfile() or member.isdir()):
            raise CommandError(f"Refusing the archive: {name!r} is not a regular file or folder (link or device).")
        if not name or "\0" in name or "\\" in name or path.is_absolute() or ".." in path.parts:
            raise CommandError(f"Refusing the archive: unsafe member name {name!r}.")
        if root is not None and not (root / name).resolve().is_relative_to(root):
            raise CommandError(f"Refusing the archive: {name!r} would be written outside the extraction folder.")
    return members


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    check_members(tar)
    try:
        member = tar.extractfile("manifest.json")
    except KeyError:
        raise CommandError("Not a Dhanwantari backup: manifest.json is missing.") from None
    try:
        manifest = json.loads(member.read())
    except ValueError:
        raise CommandError("Not a Dhanwantari backup: manifest.json is not JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CommandError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def backup_restore(
    *, archive: Path, db: dict[str, Any], media_root: Path | None, database_name: str | None = None
) -> dict[str, Any]:
    """Restore `archive` into `db` (or the database `database_name` on the same server); returns the manifest."""
    engine = engine_of(db)
    with tarfile.open(archive, "r:gz") as tar, tempfile.TemporaryDirectory(prefix="dh-restore-") as work:
        manifest = read_manifest(tar)
        if manifest["engine"] != engine:
            raise CommandError(f"This backup is of a {manifest['engine']} database; this site uses {engine}.")
        if engine == "mysql" and database_name is None and db["NAME"] != manifest["database"]:
            raise CommandError(
                f"This backup is of database {manifest['database']!r}, not {db['NAME']!r}: "
                "pass --database-name to restore it into another database."
            )
        work_dir = Path(work) / "archive"
        work_dir.mkdir()
        # Our own checks first (the data filter of this Python, 3.11.7, can be bypassed); the filter as well.
        tar.extractall(work_dir, members=check_members(tar, work_dir), filter="data")
        dump = safe_dump_path(work_dir, engine, manifest.get("database_file"))
        if sha256_of(dump) != manifest["database_sha256"]:
            raise CommandError("The database dump does not match its manifest (corrupt or altered archive).")

        if engine == "sqlite":
            target_path = str(db["NAME"])
            connections.close_all()
            source = sqlite3.connect(dump)
            target = sqlite3.connect(target_path)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
            counts = sqlite_counts(Path(target_path))
        else:
            name = database_name or db["NAME"]
            cleaned = Path(work) / "restore.sql"
            with dump.open("rb") as src, cleaned.open("wb") as out:
                for number, line in enumerate(src, 1):
                    if _CLIENT_COMMAND.match(line):
                        raise CommandError(
                            f"Refusing the dump: line {number} is a mysql client command, not SQL "
                            f"({line[:40].decode(errors='replace').strip()!r})."
                        )
                    out.write(_DEFINER.sub(b"", line))
            with mysql_defaults_file(db) as defaults:
                quoted = name.replace("`", "``")
                mysql_run(
                    defaults,
                    "",
                    f"CREATE DATABASE IF NOT EXISTS `{quoted}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                )
                with cleaned.open("rb") as stdin:
                    mysql_run(defaults, name, "", stdin=stdin)
                counts = mysql_counts(defaults, name)

        if manifest.get("media") and media_root is not None:
            media_root = Path(media_root)
            if media_root.exists():
                media_root.rename(
                    media_root.with_name(f"{media_root.name}.before-restore-{timezone.now():%Y%m%d%H%M%S}")
                )
            media = work_dir / "media"
            check_plain_tree(media)
            shutil.copytree(media, media_root, symlinks=True)  # there are none; never follow one

    differ = {t: (n, counts.get(t)) for t, n in manifest["counts"].items() if counts.get(t) != n}
    if differ:
        raise CommandError(f"Restored, but row counts differ from the manifest: {differ}")
    return manifest


def safe_dump_path(work_dir: Path, engine: str, name: Any) -> Path:
    """The dump named by the manifest: only the known name, a regular file inside `work_dir`."""
    if name != DATABASE_FILES[engine]:
        raise CommandError(f"Refusing the archive: unexpected database file {name!r} in the manifest.")
    dump = work_dir / name
    if dump.is_symlink() or not dump.is_file() or not dump.resolve().is_relative_to(work_dir.resolve()):
        raise CommandError(f"Refusing the archive: {name} is missing or not a regular file.")
    return dump


def check_plain_tree(root: Path) -> None:
    """Refuse unless `root` and all under it are real folders and regular files (no symlinks)."""
    if root.is_symlink() or not root.is_dir():
        raise CommandError("Refusing the archive: media/ is not a folder.")
    for folder, dirs, files in os.walk(root, followlinks=False):
        for entry in dirs + files:
            mode = os.lstat(Path(folder) / entry).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise CommandError(f"Refusing the archive: media/{entry} is not a regular file or folder.")


class Command(BaseCommand):
    help = "Restore the database and uploaded files from a `manage.py backup` archive."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--yes", action="store_true", help="Really replace the database and files.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")
        parser.add_argument(
            "--database-name", default=None, help="MySQL/MariaDB: restore into this database instead (created)."
        )

    def handle(self, *args, archive: Path, yes: bool = False, database: str = "default", **options) -> None:
        if not archive.is_file():
            raise CommandError(f"No such archive: {archive}")
        with tarfile.open(archive, "r:gz") as tar:
            manifest = read_manifest(tar)
        self.stdout.write(
            f"Backup of {manifest['engine']} database {manifest['database']} taken {manifest['created_at']}, "
            f"{sum(manifest['counts'].values())} rows in {len(manifest['counts'])} tables"
            f"{', with media' if manifest.get('media') else ''}."
        )
        db = database_settings(database)
        target = options.get("database_name") or db["NAME"]
        self.stdout.write(f"Target: {engine_of(db)} database {target}.")
        if not yes:
            raise CommandError(REFUSED)
        backup_restore(
            archive=archive,
            db=db,
            media_root=Path(settings.MEDIA_ROOT) if media_is_local() else None,
            database_name=options.get("database_name"),
        )
        self.stdout.write("Restored; row counts match the manifest.")

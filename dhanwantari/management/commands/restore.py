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
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path
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


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
    except KeyError:
        raise CommandError("Not a Dhanwantari backup: manifest.json is missing.") from None
    manifest = json.loads(member.read())
    if manifest.get("format") != FORMAT:
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
        tar.extractall(work, filter="data")  # refuses absolute paths, links out of the folder, devices
        work_dir = Path(work)
        dump = work_dir / manifest["database_file"]
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
            cleaned = work_dir / "restore.sql"
            with dump.open("rb") as src, cleaned.open("wb") as out:
                for line in src:
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
            shutil.copytree(work_dir / "media", media_root)

    differ = {t: (n, counts.get(t)) for t, n in manifest["counts"].items() if counts.get(t) != n}
    if differ:
        raise CommandError(f"Restored, but row counts differ from the manifest: {differ}")
    return manifest


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
        if not yes:
            raise CommandError(REFUSED)
        backup_restore(
            archive=archive,
            db=database_settings(database),
            media_root=Path(settings.MEDIA_ROOT) if media_is_local() else None,
            database_name=options.get("database_name"),
        )
        self.stdout.write("Restored; row counts match the manifest.")

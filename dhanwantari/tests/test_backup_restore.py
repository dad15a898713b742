"""`manage.py backup` and `manage.py restore`: a SQLite round trip that runs
everywhere, and a MariaDB round trip (MySQL/MariaDB only) into a scratch database."""

from __future__ import annotations

import json
import sqlite3
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dhanwantari.management.commands import backup as backup_command
from dhanwantari.management.commands import restore as restore_command


@pytest.fixture
def sqlite_site(tmp_path, settings, monkeypatch):
    """A SQLite database file and local media of its own, which the commands are pointed at."""
    path = tmp_path / "site.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT)")
        db.execute("INSERT INTO users VALUES ('patient_001', 'asha@example.test')")
    media = Path(settings.MEDIA_ROOT)
    (media / "records").mkdir(parents=True)
    (media / "records" / "report.pdf").write_bytes(b"%PDF-1.4 original")
    db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    monkeypatch.setattr(backup_command, "database_settings", lambda alias="default": db)
    monkeypatch.setattr(restore_command, "database_settings", lambda alias="default": db)
    return {"path": path, "media": media}


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def the_archive(folder: Path) -> Path:
    [archive] = folder.glob("dhanwantari-backup-*.tar.gz")
    return archive


def emails(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT email FROM users ORDER BY id")]


def test_a_backup_holds_a_manifest_the_database_and_the_media(sqlite_site, tmp_path):
    run("backup", "--output", str(tmp_path / "out"))

    with tarfile.open(the_archive(tmp_path / "out")) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"manifest.json", "database.sqlite3", "media/records/report.pdf"} <= set(names)
    assert manifest["engine"] == "sqlite"
    assert manifest["database"] == "site.sqlite3"
    assert manifest["counts"] == {"users": 1}
    assert manifest["created_at"]


def test_sqlite_round_trip_brings_the_data_and_files_back(sqlite_site, tmp_path):
    run("backup", "--output", str(tmp_path / "out"))
    with sqlite3.connect(sqlite_site["path"]) as db:
        db.execute("UPDATE users SET email = 'changed@example.test'")
        db.execute("INSERT INTO users VALUES ('patient_002', 'new@example.test')")
    (sqlite_site["media"] / "records" / "report.pdf").write_bytes(b"overwritten")

    run("restore", str(the_archive(tmp_path / "out")), "--yes")

    assert emails(sqlite_site["path"]) == ["asha@example.test"]
    assert (sqlite_site["media"] / "records" / "report.pdf").read_bytes() == b"%PDF-1.4 original"
    [aside] = sqlite_site["media"].parent.glob("media.before-restore-*")
    assert (aside / "records" / "report.pdf").read_bytes() == b"overwritten"


def test_restore_refuses_without_yes(sqlite_site, tmp_path):
    run("backup", "--output", str(tmp_path / "out"))
    with sqlite3.connect(sqlite_site["path"]) as db:
        db.execute("UPDATE users SET email = 'changed@example.test'")

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(the_archive(tmp_path / "out")))

    assert emails(sqlite_site["path"]) == ["changed@example.test"]


def test_restore_refuses_an_archive_whose_dump_does_not_match_its_manifest(sqlite_site, tmp_path):
    run("backup", "--output", str(tmp_path / "out"))
    original = the_archive(tmp_path / "out")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(original) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member) if member.isfile() else None
            if member.name == "database.sqlite3":
                other = tmp_path / "other.sqlite3"
                with sqlite3.connect(other) as db:
                    db.execute("CREATE TABLE users (id TEXT, email TEXT)")
                member.size = other.stat().st_size
                data = other.open("rb")
            dst.addfile(member, data)

    with pytest.raises(CommandError, match="does not match its manifest"):
        run("restore", str(tampered), "--yes")


def test_restore_refuses_something_that_is_not_a_backup(sqlite_site, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(sqlite_site["path"], arcname="database.sqlite3")

    with pytest.raises(CommandError, match="manifest.json is missing"):
        run("restore", str(bogus), "--yes")


def test_mysql_credentials_go_in_a_private_option_file_not_the_command_line():
    db = {"USER": "app", "PASSWORD": 'se"cr\\et', "HOST": "db.internal", "PORT": "3306"}

    with backup_command.mysql_defaults_file(db) as path:
        text = Path(path).read_text()
        mode = Path(path).stat().st_mode & 0o777

    assert mode == 0o600
    assert 'password="se\\"cr\\\\et"' in text
    assert not Path(path).exists()


# --- MariaDB --------------------------------------------------------------------------------

SCRATCH = "dh_backup_restore_scratch"


@pytest.mark.mysql
@pytest.mark.skipif(connection.vendor != "mysql", reason="runs only against MySQL/MariaDB")
@pytest.mark.django_db(transaction=True)
def test_mariadb_round_trip_into_a_scratch_database(tmp_path):
    from accounts.tests.factories import PatientUserFactory
    from patients.tests.factories import PatientProfileFactory

    patient = PatientProfileFactory(user=PatientUserFactory(email="backup@example.test")).user
    db = dict(connection.settings_dict)
    try:
        run("backup", "--output", str(tmp_path / "out"))
        archive = the_archive(tmp_path / "out")
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            dump = tar.extractfile("database.sql").read().decode()
        assert manifest["engine"] == "mysql"
        assert manifest["database"] == db["NAME"]
        assert "active_doctors" in dump and "patient_consultation_history" in dump

        run("restore", str(archive), "--yes", "--database-name", SCRATCH)

        with backup_command.mysql_defaults_file(db) as defaults:
            email = backup_command.mysql_run(defaults, SCRATCH, f"SELECT email FROM users WHERE id = '{patient.pk}'")
            kinds = backup_command.mysql_run(defaults, SCRATCH, "SHOW FULL TABLES")
        assert email.strip() == "backup@example.test"
        assert "active_doctors\tVIEW" in kinds
        assert "patient_consultation_history\tVIEW" in kinds
    finally:
        with backup_command.mysql_defaults_file(db) as defaults:
            backup_command.mysql_run(defaults, "", f"DROP DATABASE IF EXISTS `{SCRATCH}`")

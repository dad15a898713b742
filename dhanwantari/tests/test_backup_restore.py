"""`manage.py backup` and `manage.py restore`: a SQLite round trip that runs
everywhere, and a MariaDB round trip (MySQL/MariaDB only) into a scratch database."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
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


# --- Untrusted archives -----------------------------------------------------------------------


def forged_archive(path: Path, *, manifest: dict, files: dict[str, bytes], extra=()) -> Path:
    """A .tar.gz with manifest.json, `files` and any extra TarInfo members (links, odd names)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {"manifest.json": json.dumps(manifest).encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def sqlite_manifest(dump: bytes, **changes) -> dict:
    return {
        "format": backup_command.FORMAT,
        "engine": "sqlite",
        "database": "site.sqlite3",
        "created_at": "2025-01-01T00:00:00+00:00",
        "database_file": "database.sqlite3",
        "database_sha256": hashlib.sha256(dump).hexdigest(),
        "counts": {"users": 1},
        "media": True,
        **changes,
    }


def member(name: str, kind: bytes = tarfile.REGTYPE, *, data: bytes | None = None, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if data is not None else 0
    return info, data


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The restore's scratch folder goes under tmp_path/work/, so `../../..` from it lands in tmp_path."""
    (tmp_path / "work").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "work"))
    return tmp_path


def test_restore_loads_no_database_file_from_outside_the_archive(sqlite_site, private_tmp):
    outside = private_tmp / "outside.sqlite3"
    with sqlite3.connect(outside) as db:
        db.execute("CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT)")
        db.execute("INSERT INTO users VALUES ('patient_001', 'attacker@example.test')")
    dump = outside.read_bytes()
    for pointer in (str(outside), "../../outside.sqlite3", "manifest.json"):
        archive = forged_archive(
            private_tmp / "forged.tar.gz",
            manifest=sqlite_manifest(dump, database_file=pointer, media=False),
            files={"database.sqlite3": b"not this one"},
        )
        with pytest.raises(CommandError, match="unexpected database file"):
            run("restore", str(archive), "--yes")

    assert emails(sqlite_site["path"]) == ["asha@example.test"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(member("media/records/evil", tarfile.SYMTYPE, link="/etc"), id="symlink"),
        pytest.param(member("media/records/hard", tarfile.LNKTYPE, link="database.sqlite3"), id="hardlink"),
        pytest.param(member("media/fifo", tarfile.FIFOTYPE), id="fifo"),
        pytest.param(member("media/dev", tarfile.CHRTYPE), id="device"),
        pytest.param(member("../../../escaped", data=b"x"), id="dotdot"),
        pytest.param(member("media/../../../../escaped", data=b"x"), id="dotdot-inside"),
        pytest.param(member("/ABSOLUTE/escaped", data=b"x"), id="absolute"),
    ],
)
def test_restore_refuses_an_archive_with_links_devices_or_names_leaving_the_folder(sqlite_site, private_tmp, bad):
    info, data = bad
    if info.name.startswith("/ABSOLUTE"):
        info.name = str(private_tmp / "escaped")
    dump = sqlite_site["path"].read_bytes()
    with sqlite3.connect(sqlite_site["path"]) as db:
        db.execute("UPDATE users SET email = 'current@example.test'")
    archive = forged_archive(
        private_tmp / "forged.tar.gz",
        manifest=sqlite_manifest(dump),
        files={"database.sqlite3": dump, "media/records/report.pdf": b"from the archive"},
        extra=[(info, data)],
    )

    with pytest.raises(CommandError, match="Refusing the archive"):
        run("restore", str(archive), "--yes")

    assert not (private_tmp / "escaped").exists()
    assert not list((private_tmp / "work").iterdir())  # nothing extracted, nothing left behind
    assert emails(sqlite_site["path"]) == ["current@example.test"]
    assert (sqlite_site["media"] / "records" / "report.pdf").read_bytes() == b"%PDF-1.4 original"
    assert not list(sqlite_site["media"].parent.glob("media.before-restore-*"))


MYSQL_DB = {"ENGINE": "django.db.backends.mysql", "NAME": "dh_fixbackup_target"}


def mysql_archive(path: Path, dump: bytes, **changes) -> Path:
    manifest = {
        **sqlite_manifest(dump),
        "engine": "mysql",
        "database": "dh_fixbackup_target",
        "database_file": "database.sql",
        "counts": {},
        "media": False,
        **changes,
    }
    return forged_archive(path, manifest=manifest, files={"database.sql": dump})


@pytest.fixture
def mysql_calls(monkeypatch):
    calls = []

    def fake_run(defaults, name, sql, *, stdin=None):
        calls.append((name, sql, stdin.read() if stdin else None))
        return ""

    monkeypatch.setattr(restore_command, "mysql_run", fake_run)
    monkeypatch.setattr(restore_command, "mysql_counts", lambda defaults, name: {})
    return calls


@pytest.mark.parametrize(
    "command",
    [b"\\! touch {pwned}", b"system touch {pwned}", b"  SYSTEM touch {pwned}", b"\\. {pwned}", b"source {pwned}"]
    + [b"USE mysql;", b"\\T {pwned}", b"pager touch {pwned}", b"connect other"],
)
def test_a_dump_with_mysql_client_commands_is_refused_before_the_client_runs(tmp_path, mysql_calls, command):
    pwned = tmp_path / "pwned"
    dump = b"CREATE TABLE t (id int);\n" + command.replace(b"{pwned}", str(pwned).encode()) + b"\nSELECT 1;\n"
    archive = mysql_archive(tmp_path / "forged.tar.gz", dump)

    with pytest.raises(CommandError, match="client command"):
        restore_command.backup_restore(archive=archive, db=MYSQL_DB, media_root=None)

    assert mysql_calls == []
    assert not pwned.exists()


def test_an_ordinary_dump_is_loaded_into_the_manifests_database(tmp_path, mysql_calls):
    dump = b"-- MySQL dump\nCREATE TABLE `t` (\n  `use` int,\n  `source` text\n);\nINSERT INTO `t` VALUES (1,'x');\n"
    restore_command.backup_restore(archive=mysql_archive(tmp_path / "ok.tar.gz", dump), db=MYSQL_DB, media_root=None)

    assert mysql_calls[1] == ("dh_fixbackup_target", "", dump)


def test_restore_into_a_database_other_than_the_backups_needs_database_name(tmp_path, mysql_calls):
    archive = mysql_archive(tmp_path / "other.tar.gz", b"SELECT 1;\n", database="dh_production")

    with pytest.raises(CommandError, match="--database-name"):
        restore_command.backup_restore(archive=archive, db=MYSQL_DB, media_root=None)
    assert mysql_calls == []

    restore_command.backup_restore(archive=archive, db=MYSQL_DB, media_root=None, database_name="dh_fixbackup_copy")
    assert mysql_calls[1][0] == "dh_fixbackup_copy"


def test_the_archive_is_private_from_the_start_and_so_is_a_new_output_folder(sqlite_site, tmp_path, monkeypatch):
    modes = []
    real_replace = Path.replace

    def spy_replace(self, target):
        modes.append(self.stat().st_mode & 0o777)  # the .partial, just before it is renamed
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", spy_replace)
    old_umask = os.umask(0o022)
    try:
        run("backup", "--output", str(tmp_path / "new" / "backups"))
    finally:
        os.umask(old_umask)

    assert modes == [0o600]
    assert the_archive(tmp_path / "new" / "backups").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new" / "backups").stat().st_mode & 0o777 == 0o700


def test_symlinks_in_the_media_are_left_out_of_the_backup(sqlite_site, tmp_path):
    (tmp_path / "secret.txt").write_text("not media")
    (sqlite_site["media"] / "records" / "link.txt").symlink_to(tmp_path / "secret.txt")
    run("backup", "--output", str(tmp_path / "out"))

    with tarfile.open(the_archive(tmp_path / "out")) as tar:
        assert "media/records/link.txt" not in tar.getnames()
    run("restore", str(the_archive(tmp_path / "out")), "--yes")
    assert (sqlite_site["media"] / "records" / "report.pdf").read_bytes() == b"%PDF-1.4 original"


# --- MariaDB --------------------------------------------------------------------------------


@pytest.mark.mysql
@pytest.mark.skipif(connection.vendor != "mysql", reason="runs only against MySQL/MariaDB")
def test_the_mysql_client_does_not_run_shell_commands_from_piped_input(tmp_path):
    pwned = tmp_path / "pwned"
    script = tmp_path / "script.sql"
    target = str(pwned).encode()
    script.write_bytes(b"SELECT 1;\n\\! touch " + target + b"\nsystem touch " + target + b"\n")

    assert "--binary-mode" in backup_command.mysql_hardening_flags()
    with (
        backup_command.mysql_defaults_file(connection.settings_dict) as defaults,
        script.open("rb") as stdin,
        contextlib.suppress(CommandError),
    ):
        backup_command.mysql_run(defaults, "", "", stdin=stdin)

    assert not pwned.exists()


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

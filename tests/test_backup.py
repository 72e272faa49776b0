"""`flask backup` and `flask restore`: a backup restored into a fresh database is the same portal.

Runs on the suite's database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set); the fresh
database is a temporary SQLite file or a scratch PostgreSQL database made and dropped here.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from portal import backup, create_app
from portal.extensions import db
from portal.models import Organisation, PayStatement
from portal.pay import service as pay_service
from portal.pay.periods import Period
from portal.timeutil import local_today
from tests.conftest import AuthActions
from tests.factories import email_for, local, make_rate, make_shift


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _admin_engine(url: str) -> sa.Engine:
    """A connection to the server's maintenance database, to create and drop databases."""
    return sa.create_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


@pytest.fixture
def fresh_url(database_url, tmp_path):
    """A second, empty database of the suite's kind: a SQLite file, or `<test db>_restore`."""
    if is_sqlite(database_url):
        yield "sqlite:///" + str(tmp_path / "fresh.db")
        return
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = _admin_engine(database_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def fresh_app(fresh_url, tmp_path):
    """A second application on the fresh database, migrated like a new deployment."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url, MAIL_DIR=str(tmp_path / "m2"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def programme(app, world):
    """The world, pay rates, a closed pay period with statements and shifts in the current one."""
    org = world["org"]["a"]
    u = world["user"]
    with app.app_context():
        current = pay_service.load_policy(org).period_of(local_today())
        previous = Period(current.start - timedelta(days=14), current.start)

        def at(period, day, clock="09:00"):
            return local(period.start + timedelta(days=day), clock)

        make_rate(u["worker"], "20.00")
        make_rate(u["worker2"], "18.00")
        for day in range(1, 6):  # 45 h in the first week: 5 h overtime
            make_shift(u["worker"], at(previous, day), hours=9, status="approved")
        make_shift(u["worker2"], at(previous, 8), hours=8, status="approved")
        db.session.commit()
        pay_service.close_period(org, None)
        db.session.commit()
        make_shift(u["worker"], at(current, 0, "00:30"), hours=8, status="approved")
        make_shift(u["worker"], at(current, 0, "12:00"), hours=2.5, status="submitted")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayStatement)) == 2
    return world


def table_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        with db.engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(table.select().order_by(*table.primary_key.columns))
                ]
                for table in db.metadata.sorted_tables
            }


def worker_pages(app) -> dict[str, str]:
    """The worker's pay and shifts pages, with the per-session CSRF token blanked."""
    client = app.test_client()
    response = AuthActions(client).login(email_for("worker"))
    assert response.status_code == 302
    pages = {}
    for url in ("/pay", "/shifts"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        pages[url] = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)
    return pages


def run_backup(runner, path, *args):
    result = runner.invoke(args=["backup", str(path), *args])
    assert result.exit_code == 0, result.output
    return result


def test_a_restored_backup_shows_the_same_pay_and_shifts(
    app, runner, programme, fresh_app, tmp_path
):
    """Backup, restore into a fresh migrated database: every row, and the worker's pages, match."""
    path = tmp_path / "fairshift.backup"
    result = run_backup(runner, path)
    assert f"Backup written to {path}" in result.output
    assert f"{path.stat().st_size:,} bytes" in result.output
    assert "migration " in result.output
    assert "rows: users 12, shifts 8, pay_statements 2" in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds confidential records

    restored = fresh_app.test_cli_runner().invoke(args=["restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    assert "rows: users 12, shifts 8, pay_statements 2" in restored.output
    assert "password" not in restored.output.lower()

    original_rows, restored_rows = table_rows(app), table_rows(fresh_app)
    assert {k: len(v) for k, v in restored_rows.items()} == {
        k: len(v) for k, v in original_rows.items()
    }
    assert restored_rows == original_rows

    before, after = worker_pages(app), worker_pages(fresh_app)
    assert "$950.00" in before["/pay"]  # the closed statement: 40 x $20 + 5 x $30
    assert "$160.00" in before["/pay"]  # this period so far: 8 approved hours x $20
    assert after == before


def test_restore_over_data_is_refused_and_changes_nothing(app, runner, programme, tmp_path):
    """A database with people in it is not replaced without --force."""
    path = tmp_path / "fairshift.backup"
    run_backup(runner, path)
    with app.app_context():
        db.session.add(Organisation(name="Added after the backup", kind="provider"))
        db.session.commit()
    before = table_rows(app)

    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0
    assert "already holds data" in result.output and "--force" in result.output
    assert len(result.output.strip().splitlines()) == 1  # a one-line reason, no traceback
    assert table_rows(app) == before


def test_force_replaces_a_database_that_holds_data(app, runner, programme, fresh_app, tmp_path):
    """--force replaces whatever the target holds with the backup."""
    path = tmp_path / "fairshift.backup"
    run_backup(runner, path)
    cli = fresh_app.test_cli_runner()
    assert cli.invoke(args=["restore", str(path)]).exit_code == 0
    with fresh_app.app_context():
        db.session.add(Organisation(name="Made after the restore", kind="provider"))
        db.session.commit()
        db.engine.dispose()
    assert cli.invoke(args=["restore", str(path)]).exit_code != 0
    result = cli.invoke(args=["restore", "--force", str(path)])
    assert result.exit_code == 0, result.output
    assert table_rows(fresh_app) == table_rows(app)


def test_production_restore_needs_confirmation(app, runner, world, tmp_path):
    """With the production configuration a restore asks for --yes-i-mean-production first."""
    path = tmp_path / "fairshift.backup"
    run_backup(runner, path)
    app.config["FAIRSHIFT_ENV"] = "production"
    result = runner.invoke(args=["restore", "--force", str(path)])
    assert result.exit_code != 0 and "--yes-i-mean-production" in result.output


def test_files_that_are_not_fairshift_backups_are_refused(app, runner, database_url, tmp_path):
    """Text, a SQLite or pg_dump file of something else, an unknown migration: all refused."""
    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n")
    refused = {text: "not a FairShift backup"}
    if is_sqlite(database_url):
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE t (x)")
        future = tmp_path / "future.db"
        with sqlite3.connect(future) as conn:
            conn.execute("CREATE TABLE alembic_version (version_num varchar(32) primary key)")
            conn.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
        refused[other] = "no alembic_version table"
        refused[future] = "does not know"
    else:
        garbage = tmp_path / "garbage.dump"
        garbage.write_bytes(b"PGDMP" + b"\0" * 64)
        sqlite_file = tmp_path / "sqlite.db"
        with sqlite3.connect(sqlite_file) as conn:
            conn.execute("CREATE TABLE t (x)")
        refused[garbage] = "cannot be read as a pg_dump archive"
        refused[sqlite_file] = "is a SQLite backup but the configured database is PostgreSQL"
    before = table_rows(app)
    for path, reason in refused.items():
        result = runner.invoke(args=["restore", "--force", str(path)])
        assert result.exit_code != 0, path
        assert reason in result.output, result.output
        assert "Traceback" not in result.output
    assert table_rows(app) == before


def test_backup_does_not_overwrite_unless_forced(app, runner, world, tmp_path):
    """An existing file is kept unless --force; the folder must exist."""
    path = tmp_path / "b.backup"
    path.write_text("keep me")
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert path.read_text() == "keep me"
    run_backup(runner, path, "--force")
    assert path.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    missing = runner.invoke(args=["backup", str(tmp_path / "nowhere" / "b.backup")])
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_sqlite_backup_while_a_writer_holds_the_lock(app, runner, world, database_url, tmp_path):
    """The online backup copies the last committed state while a write is in progress."""
    if not is_sqlite(database_url):
        pytest.skip("SQLite's online backup")
    writer = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO organisations (name, kind) VALUES ('Uncommitted', 'provider')")
        path = tmp_path / "during.backup"
        run_backup(runner, path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(path) as copy:
        names = {row[0] for row in copy.execute("SELECT name FROM organisations")}
        assert "Provider A" in names and "Uncommitted" not in names
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_missing_postgresql_tools_are_a_clear_error(tmp_path):
    """No pg_dump installed: a one-line refusal before anything is written."""
    url = "postgresql+psycopg://someone:secret@db.invalid:5432/fairshift"
    with pytest.raises(backup.BackupError, match="pg_dump was not found in"):
        backup.backup(url, tmp_path / "b.dump", bin_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_postgresql_url_becomes_libpq_arguments_without_the_password():
    """The password goes to PGPASSWORD, never into the command line."""
    conninfo, env = backup.libpq_arguments(
        "postgresql+psycopg://app:pa%27ss@db.example:6543/fair'shift?sslmode=require"
    )
    assert conninfo == (
        "host='db.example' port='6543' user='app' dbname='fair\\'shift' sslmode='require'"
    )
    assert "pa'ss" not in conninfo and env == {"PGPASSWORD": "pa'ss"}
    assert backup.libpq_arguments("postgresql+psycopg://postgres@127.0.0.1/test") == (
        "host='127.0.0.1' user='postgres' dbname='test'",
        {},
    )


def test_pg_dump_older_than_the_server_is_refused(app, runner, world, database_url, tmp_path):
    """A client older than the server would fail half-way: refused up front, nothing written."""
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL client tools")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho '{tool} (PostgreSQL) 9.6.24'\n")
        script.chmod(0o755)
    result = runner.invoke(args=["backup", "--pg-bin", str(bin_dir), str(tmp_path / "b.dump")])
    assert result.exit_code != 0 and "pg_dump is version 9" in result.output
    assert not (tmp_path / "b.dump").exists()


def test_an_older_backup_says_to_migrate_after_restoring(app, runner, world, fresh_url, tmp_path):
    """A backup made before the newest migration restores, then asks for `db upgrade`."""
    path = tmp_path / "fairshift.backup"
    run_backup(runner, path)
    with app.app_context():
        revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    newer = backup.Migrations(frozenset({revision, "9999"}), "9999")
    outcome = backup.restore(fresh_url, path, migrations=newer)
    assert outcome.contents.revision == revision
    assert outcome.notes and "db upgrade" in outcome.notes[0]

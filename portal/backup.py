"""Backups: copy the configured database to a file and back (`flask backup`, `flask restore`).

- SQLite: the sqlite3 online backup API copies a consistent snapshot page by page. It is safe
  while the portal is serving (in WAL mode readers and writers carry on) and the backup is one
  self-contained file (journal mode DELETE, no -wal beside it). Restoring copies the backup into
  the configured database file with the same API, so connections already open see the new data.
- PostgreSQL: ``pg_dump --format=custom --no-owner`` of the configured database, restored with
  ``pg_restore --clean --if-exists --no-owner`` in a single transaction (a failed restore leaves
  the database as it was). The SQLAlchemy URL becomes libpq arguments; the password travels in
  ``PGPASSWORD``, never on a command line or in a message.

A restore is refused (``BackupError``, one line for the operator) when the file is not a
FairShift backup (not SQLite or a pg_dump archive, no ``alembic_version`` table, or a migration
revision this code does not know), when the configured database already holds data and
``force`` is not given, and in production unless the operator confirms it. Every written file
is read back (revision and row counts) before it is called a backup.

Plain arguments in, results or ``BackupError`` out: no Flask, no click (see backup_cli.py).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 - runs pg_dump/pg_restore with an argument list, never a shell
import tempfile
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

# The tables whose row counts a backup and a restore report.
SUMMARY_TABLES = ("users", "shifts", "pay_statements")
# A database "holds data" when it has an organisation or a user: every record belongs to one.
# Migrations load reference rows (benchmark figures), so a freshly migrated database is empty.
DATA_TABLES = ("organisations", "users")
VERSION_TABLE = "alembic_version"
PRODUCTION_ENVS = frozenset({"production", "ProductionConfig"})
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
ENGINE_LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
LOCK_TIMEOUT = 30.0  # seconds a SQLite copy waits for a lock before giving up


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message is one line."""


@dataclass(frozen=True)
class Migrations:
    """The migration revisions this code knows, and the newest one (head)."""

    known: frozenset[str]
    head: str | None


@dataclass(frozen=True)
class Contents:
    """What a database or backup file holds: engine, migration revision, tables and rows."""

    engine: str
    revision: str | None
    tables: int
    rows: dict[str, int]

    def describe(self) -> str:
        """'24 tables; rows: users 12, shifts 40, pay_statements 3'."""
        rows = ", ".join(f"{name} {self.rows.get(name, 0):,}" for name in SUMMARY_TABLES)
        return f"{self.tables} tables; rows: {rows}"


@dataclass(frozen=True)
class Outcome:
    """A written backup (its file) or a finished restore (the backup it read)."""

    path: Path
    size: int
    contents: Contents
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- entry points


def backup(
    url: str | URL, path: str | os.PathLike, *, overwrite: bool = False, bin_dir: str | None = None
) -> Outcome:
    """Copy the database at ``url`` to ``path``: a new file, or a replaced one if ``overwrite``."""
    url = make_url(url)
    target = Path(path).expanduser()
    engine = _engine_name(url)
    try:
        _check_destination(target, overwrite)
        if engine == "sqlite":
            contents = _sqlite_backup(_sqlite_path(url), target)
        else:
            contents = _pg_backup(url, target, bin_dir)
        return Outcome(target.resolve(), target.stat().st_size, contents)
    except OSError as exc:  # a folder we cannot write to, a full disk
        raise _os_error(exc) from exc


def restore(
    url: str | URL,
    path: str | os.PathLike,
    *,
    migrations: Migrations,
    force: bool = False,
    environment: str = "development",
    production_confirmed: bool = False,
    bin_dir: str | None = None,
) -> Outcome:
    """Replace the database at ``url`` with the backup at ``path``; the restored contents."""
    if environment in PRODUCTION_ENVS and not production_confirmed:
        raise BackupError(
            "Refusing to restore over the production database without --yes-i-mean-production."
        )
    url = make_url(url)
    source = Path(path).expanduser()
    engine = _engine_name(url)
    try:
        return _restore(url, engine, source, migrations, force, bin_dir)
    except OSError as exc:  # a backup we cannot read
        raise _os_error(exc) from exc


def _restore(
    url: URL, engine: str, source: Path, migrations: Migrations, force: bool, bin_dir: str | None
) -> Outcome:
    """Check the backup against the configured database, then copy it in."""
    kind = _file_kind(source)
    if kind is None:
        raise BackupError(
            f"{source} is not a FairShift backup (neither a SQLite database nor a pg_dump archive)."
        )
    if kind != engine:
        raise BackupError(
            f"{source} is a {ENGINE_LABEL[kind]} backup but the configured database is "
            f"{ENGINE_LABEL[engine]}; restore it into a {ENGINE_LABEL[kind]} database."
        )
    if engine == "sqlite":
        contents = _sqlite_restore(source, _sqlite_path(url), migrations, force)
    else:
        contents = _pg_restore(source, url, migrations, force, bin_dir)
    notes = []
    if migrations.head and contents.revision != migrations.head:
        notes.append(
            f"The backup is at migration {contents.revision}; this code's migrations reach "
            f"{migrations.head}: run `flask --app wsgi db upgrade` before serving."
        )
    return Outcome(source.resolve(), source.stat().st_size, contents, notes)


def holds_data(counts: dict[str, int]) -> bool:
    """True when a database has organisations or users (counts from ``DATA_TABLES``)."""
    return any(counts.get(name, 0) for name in DATA_TABLES)


# --------------------------------------------------------------------------- shared checks


def _engine_name(url: URL) -> str:
    name = url.get_backend_name()
    if name not in ENGINE_LABEL:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def _check_destination(target: Path, overwrite: bool) -> None:
    """The backup goes to a file in an existing folder, never over one unless asked."""
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the backup a file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose a new name or use --force.")


def _file_kind(path: Path) -> str | None:
    """'sqlite' or 'postgresql' from a file's first bytes; None for anything else."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def _check_revision(contents: Contents, migrations: Migrations, source: Path) -> None:
    """A FairShift backup records a migration revision this code knows."""
    if contents.revision is None:
        raise BackupError(f"{source} is not a FairShift backup: it has no {VERSION_TABLE} table.")
    if contents.revision not in migrations.known:
        raise BackupError(
            f"{source} is at migration revision {contents.revision!r}, which this version of "
            "FairShift does not know; restore it with the version that wrote it."
        )


def _partial_file(target: Path) -> Path:
    """A new empty file beside the target, renamed over it once the copy is checked.

    Only its owner can read it (mode 0600): backups hold confidential records.
    """
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    return Path(name)


def _os_error(exc: OSError) -> BackupError:
    return BackupError(f"{exc.filename or 'A file'}: {exc.strerror or exc}.")


# --------------------------------------------------------------------------- SQLite


def _sqlite_path(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("The configured SQLite database is in memory; there is nothing to copy.")
    return Path(database).expanduser().resolve()


def _sqlite_connect(path: Path, mode: str) -> sqlite3.Connection:
    """A plain connection: mode 'ro' (read), 'rw' (never creates) or 'rwc' (creates)."""
    uri = f"file:{quote(str(path))}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT, isolation_level=None)


def _sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Copy every page in one step (a consistent snapshot), waiting a while for locks."""
    deadline = time.monotonic() + LOCK_TIMEOUT

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and (time.monotonic() > deadline):
            raise BackupError(
                f"The database stayed locked for {LOCK_TIMEOUT:.0f} s; try again later."
            )

    source.backup(target, progress=progress)


def _sqlite_check(connection: sqlite3.Connection, what: Path) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{what} is damaged (SQLite quick_check: {result}).")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(connection: sqlite3.Connection, names: Iterable[str]) -> dict[str, int]:
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    return {
        name: connection.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()[0]  # noqa: S608 - a table name from sqlite_master
        for name in names
        if name in tables
    }


def _sqlite_contents(connection: sqlite3.Connection) -> Contents:
    tables = {
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    revision = None
    if VERSION_TABLE in tables:
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608 - a constant
        revision = row[0] if row else None
    return Contents(
        "sqlite",
        revision,
        len(tables - {VERSION_TABLE}),
        _sqlite_counts(connection, SUMMARY_TABLES),
    )


def _sqlite_backup(database: Path, target: Path) -> Contents:
    if not database.is_file():
        raise BackupError(f"The database file {database} does not exist.")
    if target.resolve() == database:
        raise BackupError("The backup cannot overwrite the database itself.")
    partial = _partial_file(target)
    try:
        with (
            closing(_sqlite_connect(database, "rw")) as source,
            closing(_sqlite_connect(partial, "rw")) as copy,
        ):
            _sqlite_copy(source, copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _sqlite_check(copy, target)
            contents = _sqlite_contents(copy)
        if contents.revision is None:
            raise BackupError(
                f"The database has no {VERSION_TABLE} table: it is not migrated, so there is "
                "nothing to back up (run `flask --app wsgi db upgrade`)."
            )
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy the database: {exc}.") from exc
    finally:
        partial.unlink(missing_ok=True)
    return contents


def _sqlite_restore(source: Path, database: Path, migrations: Migrations, force: bool) -> Contents:
    if source.resolve() == database:
        raise BackupError("The backup is the configured database itself; nothing to restore.")
    try:
        with closing(_sqlite_connect(source, "ro")) as backup_db:
            try:
                _sqlite_check(backup_db, source)
                contents = _sqlite_contents(backup_db)
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{source} cannot be read as a SQLite database: {exc}.") from exc
            _check_revision(contents, migrations, source)
            if database.exists() and not force:
                with closing(_sqlite_connect(database, "rw")) as current:
                    _refuse_if_data(_sqlite_counts(current, DATA_TABLES))
            database.parent.mkdir(parents=True, exist_ok=True)
            with closing(_sqlite_connect(database, "rwc")) as target:
                _sqlite_copy(backup_db, target)
                _sqlite_check(target, database)
                return _sqlite_contents(target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not restore the database: {exc}.") from exc


def _refuse_if_data(counts: dict[str, int]) -> None:
    if holds_data(counts):
        held = ", ".join(f"{counts.get(name, 0):,} {name}" for name in DATA_TABLES)
        raise BackupError(
            f"The configured database already holds data ({held}); nothing was changed. "
            "Use --force to replace it with the backup."
        )


# --------------------------------------------------------------------------- PostgreSQL


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_arguments(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it.

    ``postgresql+psycopg://user:secret@host:5432/db?sslmode=require`` becomes
    ``host='host' port='5432' user='user' dbname='db' sslmode='require'`` and
    ``{"PGPASSWORD": "secret"}``. Query arguments are libpq keywords (as psycopg reads them).
    """
    url = make_url(url)
    parts = {
        "host": url.host,
        "port": str(url.port) if url.port else None,
        "user": url.username,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        parts[key] = value[-1] if isinstance(value, tuple) else value
    conninfo = " ".join(
        f"{key}={_conninfo_value(str(value))}" for key, value in parts.items() if value
    )
    env = {"PGPASSWORD": url.password} if url.password else {}
    return conninfo, env


def _pg_tool(name: str, bin_dir: str | None) -> str:
    """The path of pg_dump or pg_restore, or a clear refusal when it is not installed."""
    found = shutil.which(name, path=bin_dir) if bin_dir else shutil.which(name)
    if not found:
        where = f" in {bin_dir}" if bin_dir else " on the PATH"
        raise BackupError(
            f"{name} was not found{where}: install the PostgreSQL client tools "
            "(the server's version or newer) or point --pg-bin at them."
        )
    return found


def _run(args: list[str], env: dict[str, str]) -> str:
    """Run a client tool; its error becomes a one-line BackupError."""
    try:
        done = subprocess.run(  # noqa: S603 - a resolved tool path and our own arguments
            args,
            env={**os.environ, **env},
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"{Path(args[0]).name} could not run: {exc}.") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in str(done.stderr).splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise BackupError(f"{Path(args[0]).name} failed: {reason}")
    return done.stdout


def _client_major(tool: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", _run([tool, "--version"], {}))
    return int(match.group(1)) if match else 0


def _pg_engine(url: URL) -> sa.Engine:
    return sa.create_engine(url, poolclass=NullPool)


def _pg_connect_error(exc: sa.exc.OperationalError) -> BackupError:
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    return BackupError("Cannot connect to the database: " + (lines[-1] if lines else "failed"))


def _pg_contents(connection: sa.Connection) -> Contents:
    names = set(sa.inspect(connection).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        revision = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()  # noqa: S608 - a constant
    return Contents(
        "postgresql", revision, len(names - {VERSION_TABLE}), _pg_counts(connection, SUMMARY_TABLES)
    )


def _pg_counts(connection: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    present = set(sa.inspect(connection).get_table_names())
    return {
        name: connection.execute(sa.text(f"SELECT count(*) FROM {_quoted(name)}")).scalar()  # noqa: S608 - a table name from the catalogue
        for name in names
        if name in present
    }


_LIST_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", re.MULTILINE)
_COPY = re.compile(r"^COPY (?:\S+\.)?(\S+) \(")


def _archive_contents(path: Path, pg_restore: str) -> Contents:
    """Read a pg_dump archive back: its tables, migration revision and summary row counts."""
    listing = _run([pg_restore, "--list", str(path)], {})
    tables = {name for schema, name in _LIST_TABLE.findall(listing) if schema == "public"}
    wanted = [VERSION_TABLE, *SUMMARY_TABLES]
    args = [pg_restore, "--data-only", "--file=-"]
    for name in wanted:
        args += ["--table", name]
    data = _run([*args, str(path)], {})
    rows: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in data.splitlines():
        if current is None:
            match = _COPY.match(line)
            if match:
                current = rows.setdefault(match.group(1).strip('"'), [])
        elif line == "\\.":
            current = None
        else:
            current.append(line)
    versions = rows.get(VERSION_TABLE) or []
    return Contents(
        "postgresql",
        versions[0] if VERSION_TABLE in tables and versions else None,
        len(tables - {VERSION_TABLE}),
        {name: len(rows.get(name, [])) for name in SUMMARY_TABLES if name in tables},
    )


def _pg_backup(url: URL, target: Path, bin_dir: str | None) -> Contents:
    pg_dump = _pg_tool("pg_dump", bin_dir)
    pg_restore = _pg_tool("pg_restore", bin_dir)  # reads the archive back, and restores it
    engine = _pg_engine(url)
    try:
        with engine.connect() as connection:
            server = connection.dialect.server_version_info[0]
            if VERSION_TABLE not in sa.inspect(connection).get_table_names():
                raise BackupError(
                    f"The database has no {VERSION_TABLE} table: it is not migrated, so there "
                    "is nothing to back up (run `flask --app wsgi db upgrade`)."
                )
    except sa.exc.OperationalError as exc:
        raise _pg_connect_error(exc) from exc
    finally:
        engine.dispose()
    client = _client_major(pg_dump)
    if client < server:
        raise BackupError(
            f"pg_dump is version {client} but the server runs PostgreSQL {server}: install the "
            f"PostgreSQL {server} client tools (or newer) or point --pg-bin at them."
        )
    conninfo, env = libpq_arguments(url)
    partial = _partial_file(target)
    try:
        _run(
            [pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={conninfo}"],
            env,
        )
        contents = _archive_contents(partial, pg_restore)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return contents


def _pg_restore(
    source: Path, url: URL, migrations: Migrations, force: bool, bin_dir: str | None
) -> Contents:
    pg_restore = _pg_tool("pg_restore", bin_dir)
    try:
        contents = _archive_contents(source, pg_restore)
    except BackupError as exc:
        raise BackupError(f"{source} cannot be read as a pg_dump archive: {exc}") from exc
    _check_revision(contents, migrations, source)
    engine = _pg_engine(url)
    conninfo, env = libpq_arguments(url)
    try:
        if not force:
            with engine.connect() as connection:
                _refuse_if_data(_pg_counts(connection, DATA_TABLES))
        _run(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={conninfo}",
                str(source),
            ],
            env,
        )
        with engine.connect() as connection:
            return _pg_contents(connection)
    except sa.exc.OperationalError as exc:
        raise _pg_connect_error(exc) from exc
    finally:
        engine.dispose()

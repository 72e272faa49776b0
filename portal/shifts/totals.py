"""Daily totals of approved shifts per (organisation, site, local date), kept in step with shifts.

Dashboards sum programme outputs over a year of every provider: a million shifts at national size,
a few hundred thousand of these rows. The rows are kept up to date by a flush hook: whenever the
session inserts, changes or deletes a Shift, the difference it makes to the approved figures is
added to the day it counts on (an upsert, so two writers on the same day both count). Nothing else
has to remember to do it: approving, returning, editing and deleting all go through the session.

Writes that bypass the session (a Core ``insert(Shift)`` or ``update(Shift)``, as the bulk loaders
use) must call ``rebuild()`` before they commit; so must an operator after changing
FAIRSHIFT_TIMEZONE, since the local date a shift counts on depends on it
(``flask rebuild-shift-totals``). ``check()`` compares the rows with the shifts.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Shift, ShiftDayTotal

SUMS = ("shifts", "worked_minutes", "conflicts_interrupted", "individuals_engaged", "referrals")
KEY = ("organisation_id", "site_id", "day")
# What a shift adds to its day, in the order of SUMS ("shifts" is 1 per shift).
_COUNTED = ("worked_minutes", "conflicts_interrupted", "individuals_engaged", "referrals")
_WATCHED = ("status", "organisation_id", "site_id", "start_at", *_COUNTED)
_PENDING = "shift_day_totals"  # session.info key: differences waiting for the flush to succeed


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# --- keeping the rows in step -----------------------------------------------------------------


def _contribution(values: dict, zone: ZoneInfo):
    """(key, sums) a shift with these column values adds, or None when it is not approved."""
    if values["status"] != "approved" or values["start_at"] is None:
        return None  # (a shift without a start is refused by the database anyway)
    key = (values["organisation_id"], values["site_id"], values["start_at"].astimezone(zone).date())
    return key, (1, *(values[c] or 0 for c in _COUNTED))


def _before(state) -> dict:
    """The column values the database holds for a persistent shift (loaded when needed)."""
    out = {}
    for name in _WATCHED:
        history = state.attrs[name].load_history()
        if history.deleted:
            out[name] = history.deleted[0]
        elif history.unchanged:
            out[name] = history.unchanged[0]
        else:  # set on an object whose old value was never loaded: active_history prevents it
            raise RuntimeError(f"Shift.{name}: the value before this change is unknown")
    return out


def _after(shift: Shift) -> dict:
    values = {name: getattr(shift, name) for name in _WATCHED}
    values["status"] = values["status"] or "submitted"  # the column default
    return values


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context, _instances) -> None:
    """Work out what this flush changes in the approved totals, while the old rows still exist."""
    session.info.pop(_PENDING, None)
    changed = [
        (obj, kind)
        for kind, objects in (("new", session.new), ("dirty", session.dirty),
                              ("deleted", session.deleted))  # fmt: skip
        for obj in objects
        if isinstance(obj, Shift)
    ]
    if not changed:
        return
    zone = _zone()
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(SUMS))
    with session.no_autoflush:
        for shift, kind in changed:
            state = sa.inspect(shift)
            if kind != "new" and state.has_identity:
                old = _contribution(_before(state), zone)
                if old:
                    delta[old[0]] = [a - b for a, b in zip(delta[old[0]], old[1], strict=True)]
            if kind != "deleted":
                new = _contribution(_after(shift), zone)
                if new:
                    delta[new[0]] = [a + b for a, b in zip(delta[new[0]], new[1], strict=True)]
    rows = [
        {**dict(zip(KEY, key, strict=True)), **dict(zip(SUMS, sums, strict=True))}
        for key, sums in sorted(delta.items())  # one lock order for concurrent writers
        if any(sums)
    ]
    if rows:
        session.info[_PENDING] = rows


@event.listens_for(Session, "after_flush")
def _apply(session: Session, _context) -> None:
    """Add the differences to their days, in the flush's transaction."""
    rows = session.info.pop(_PENDING, None)
    if rows:
        connection = session.connection()
        connection.execute(_upsert(connection.dialect.name), rows)


def _upsert(dialect: str):
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ShiftDayTotal)
    table = ShiftDayTotal.__table__
    return insert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: table.c[name] + insert.excluded[name] for name in SUMS},
    )


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --- rebuilding and checking ------------------------------------------------------------------


def _local_day(connection, zone: ZoneInfo):
    """SQL for the local date of Shift.start_at in ``zone``.

    PostgreSQL converts time zones itself; SQLite stores naive UTC text and knows no zones, so it
    is given a Python function for the length of this connection.
    """
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.func.timezone(zone.key, Shift.start_at), sa.Date)

    @functools.lru_cache(maxsize=65536)
    def local_day(text: str) -> str:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(zone).date().isoformat()

    connection.connection.driver_connection.create_function(
        "fairshift_local_day", 1, local_day, deterministic=True
    )
    return sa.func.fairshift_local_day(Shift.start_at)


def _grouped(connection, zone: ZoneInfo):
    """The totals computed from the shifts themselves: (organisation, site, day, *sums)."""
    day = _local_day(connection, zone).label("day")
    return (
        sa.select(
            Shift.organisation_id, Shift.site_id, day, sa.func.count(),
            *(sa.func.sum(getattr(Shift, name)) for name in _COUNTED),
        )
        .where(Shift.status == "approved")
        .group_by(Shift.organisation_id, Shift.site_id, day)
    )  # fmt: skip


def rebuild(connection=None) -> int:
    """Recompute every row from the shifts (after a bulk load); returns how many rows there are.
    Runs in the caller's transaction."""
    connection = connection or db.session.connection()
    zone = _zone()
    table = ShiftDayTotal.__table__
    connection.execute(table.delete())
    connection.execute(table.insert().from_select([*KEY, *SUMS], _grouped(connection, zone)))
    return connection.scalar(sa.select(sa.func.count()).select_from(table))


def check(connection=None) -> list[str]:
    """Where the rows and the shifts disagree, one line per day (empty when they agree)."""
    connection = connection or db.session.connection()
    zone = _zone()
    expected = {(o, s, _as_date(d)): tuple(sums) for o, s, d, *sums in
                connection.execute(_grouped(connection, zone))}  # fmt: skip
    stored = {
        (o, s, d): tuple(sums)
        for o, s, d, *sums in connection.execute(
            sa.select(*(ShiftDayTotal.__table__.c[n] for n in (*KEY, *SUMS)))
        )
        if any(sums)
    }
    return [
        f"organisation {key[0]}, site {key[1]}, {key[2]}: "
        f"stored {stored.get(key, 'nothing')}, shifts give {expected.get(key, 'nothing')}"
        for key in sorted(expected.keys() | stored.keys())
        if expected.get(key) != stored.get(key)
    ]


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def register_totals_cli(app) -> None:
    @app.cli.command("rebuild-shift-totals")
    @click.option("--check-only", is_flag=True, help="Report differences; change nothing.")
    def rebuild_shift_totals(check_only: bool) -> None:
        """Recompute the daily totals dashboards read (after a bulk load or a time zone change)."""
        if check_only:
            differences = check()
            for line in differences[:50]:
                click.echo(line)
            if differences:
                raise click.ClickException(
                    f"{len(differences)} day(s) differ from the shifts; run without --check-only "
                    "to rebuild them."
                )
            click.echo("The daily totals agree with the shifts.")
            return
        rows = rebuild()
        db.session.commit()
        click.echo(f"Rebuilt the daily totals of approved shifts: {rows:,} rows.")

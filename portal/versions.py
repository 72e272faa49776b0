"""Each organisation's data version: bumped in the transaction of every write to its records.

Kept worker pages (portal.kept_pages) are keyed by ``Organisation.data_version``, which the
session check reads with the user at no extra statement. A page kept under version 7 is never
shown once a write has committed version 8, so a kept page is never older than the last write.

What counts as a write to an organisation's records, worked out for every transaction:

- an object added, changed or deleted through the session: the organisation it names
  (``organisation_id``, old and new value), else the organisation of the user it names
  (``worker_id``, ``user_id``, ``counselor_id``), else, for a record with neither (a benchmark,
  a support note), every organisation;
- a bulk statement run through the session (``session.execute(update(Shift)...)``): every
  organisation, unless the statement names its organisations with
  ``.execution_options(bumps_organisations=[...])`` (``close_period`` does, so a close of one
  provider's payroll does not lock every other provider's row).

Records no kept page reads are left out (``UNREAD``): the audit trail, the dashboards' daily
totals, fair-pay snapshots, API tokens, recovery codes and safety positions; otherwise every
sign-in would make every page of the organisation be worked out afresh.

The bump is one UPDATE at commit time, after the last flush, so the rows are locked for an
instant and in one statement. Writes that bypass the session (``connection.execute`` on the
engine, psql, a restore) bump nothing: restart the server after one (docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from portal.models import (
    ApiToken,
    AuditEvent,
    FairPaySnapshot,
    Organisation,
    RecoveryCode,
    SafetyPosition,
    ShiftDayTotal,
    User,
)

UNREAD = (AuditEvent, ShiftDayTotal, FairPaySnapshot, ApiToken, RecoveryCode, SafetyPosition)
UNREAD_TABLES = frozenset(model.__table__ for model in UNREAD)
USER_COLUMNS = ("worker_id", "user_id", "counselor_id")
EVERY = "every"  # instead of ids: every organisation's version is bumped

_ORGS, _USERS, _ALL = "versions.orgs", "versions.users", "versions.all"


def _values(obj, name: str) -> Iterable[int]:
    """The attribute's value now and, when it changed in this flush, before."""
    history = sa.inspect(obj).attrs[name].history
    values = [*history.added, *history.unchanged, *history.deleted]
    if not values:
        values = [getattr(obj, name, None)]
    return (v for v in values if v is not None)


def _note(session: Session, obj) -> None:
    if isinstance(obj, UNREAD):
        return
    mapper = sa.inspect(obj).mapper
    if isinstance(obj, Organisation):
        if obj.id is not None:
            session.info.setdefault(_ORGS, set()).add(obj.id)
        return
    if "organisation_id" in mapper.attrs:
        orgs = set(_values(obj, "organisation_id"))
        if orgs:
            session.info.setdefault(_ORGS, set()).update(orgs)
            return
    users = {v for name in USER_COLUMNS if name in mapper.attrs for v in _values(obj, name)}
    if users:
        session.info.setdefault(_USERS, set()).update(users)
        return
    session.info[_ALL] = True


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    """Note whose records this flush wrote (foreign keys are set by now)."""
    for objects in (session.new, session.dirty, session.deleted):
        for obj in objects:
            if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            _note(session, obj)


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state: ORMExecuteState) -> None:
    """Note a bulk INSERT, UPDATE or DELETE run through the session."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table in UNREAD_TABLES or table is Organisation.__table__:
        return
    named = state.execution_options.get("bumps_organisations")
    if named is None or named == EVERY:
        state.session.info[_ALL] = True
    else:
        state.session.info.setdefault(_ORGS, set()).update(named)


def _forget(session: Session, *_args) -> None:
    for name in (_ORGS, _USERS, _ALL):
        session.info.pop(name, None)


event.listen(Session, "after_rollback", _forget)
event.listen(Session, "after_commit", _forget)


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    """Bump the versions of everything written, in the transaction being committed."""
    session.flush()  # the last changes are noted before the versions are bumped
    every = session.info.pop(_ALL, False)
    orgs = session.info.pop(_ORGS, set())
    users = session.info.pop(_USERS, set())
    if not (every or orgs or users):
        return
    table = Organisation.__table__
    statement = table.update().values(data_version=table.c.data_version + 1)
    if not every:
        which = []
        if orgs:
            which.append(table.c.id.in_(sorted(orgs)))
        if users:
            owners = sa.select(User.__table__.c.organisation_id).where(
                User.__table__.c.id.in_(sorted(users))
            )
            which.append(table.c.id.in_(owners))
        statement = statement.where(sa.or_(*which))
    session.connection().execute(statement)


def bump(session: Session, organisation_ids: Iterable[int] | str = EVERY) -> None:
    """Mark organisations as written in this transaction (for writes the hooks cannot see)."""
    if organisation_ids == EVERY:
        session.info[_ALL] = True
    else:
        session.info.setdefault(_ORGS, set()).update(organisation_ids)

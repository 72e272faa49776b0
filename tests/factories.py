"""Test data: a small two-provider world and helpers to add shifts and people."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyotp
from argon2 import PasswordHasher, profiles

from portal.auth import clock
from portal.auth.twofactor import REQUIRED_ROLES
from portal.extensions import db
from portal.models import Engagement, Organisation, Shift, Site, User

PASSWORD = "correct horse battery"  # noqa: S105
# The authenticator secret of every test account whose roles require two-factor sign-in.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
CHICAGO = ZoneInfo("America/Chicago")

# (key, roles, org, site) for every person of the world fixture.
PEOPLE = [
    ("worker", {"worker"}, "a", "a1"),
    ("worker2", {"worker"}, "a", "a1"),
    ("worker3", {"worker"}, "a", "a2"),
    ("supervisor", {"supervisor"}, "a", "a1"),
    ("supervisor_all", {"supervisor"}, "a", None),
    ("counselor", {"counselor"}, "a", None),
    ("hr", {"hr"}, "a", None),
    ("leader", {"leader"}, "a", None),
    ("admin", {"admin"}, "a", None),
    ("funder", {"funder"}, "city", None),
    ("worker", {"worker"}, "b", "b1"),
    ("supervisor", {"supervisor"}, "b", "b1"),
]


_HASHES: dict[str, str] = {}
_CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def totp_code(secret: str = TOTP_SECRET, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (by the portal's clock), or a step later."""
    step = int(clock.now() // 30) + steps_ahead
    return pyotp.TOTP(secret).generate_otp(step)


def email_for(key: str, org: str = "a") -> str:
    """The e-mail of a person of the world fixture."""
    return f"{key}@{org}.example.org"


def make_user(
    name: str,
    email: str,
    roles: set[str],
    organisation_id: int,
    site_id: int | None = None,
    password: str | None = PASSWORD,
    active: bool = True,
    hired_on: date | None = date(2020, 1, 6),
    two_factor: bool | None = None,
) -> User:
    """A user, flushed so it has an id; a worker gets an engagement from ``hired_on`` (none when
    it is None), which an inactive worker left on 31 December 2024."""
    user = User(
        name=name, email=email, organisation_id=organisation_id, site_id=site_id, active=active
    )
    user.roles = roles
    if two_factor is None:  # on when the roles require it, like the real accounts
        two_factor = bool(set(roles) & set(REQUIRED_ROLES))
    if two_factor:
        user.totp_secret = TOTP_SECRET
        user.totp_enabled_at = datetime(2026, 1, 1, tzinfo=UTC)
    if password:
        # argon2 is slow on purpose. Test accounts get a hash made with the cheapest argon2id
        # parameters (verification reads them from the hash), computed once per password.
        if password not in _HASHES:
            _HASHES[password] = _CHEAP_HASHER.hash(password)
        user.password_hash = _HASHES[password]
    db.session.add(user)
    db.session.flush()
    if "worker" in roles and hired_on is not None:
        db.session.add(
            Engagement(
                user_id=user.id,
                organisation_id=organisation_id,
                started_on=hired_on,
                ended_on=None if active else max(hired_on, date(2024, 12, 31)),
                end_reason=None if active else "resigned",
            )
        )
        db.session.flush()
    return user


def build_world() -> dict:
    """Provider A (sites a1, a2), provider B (site b1), the city funder, people in every role."""
    city = Organisation(name="City Office", kind="funder")
    db.session.add(city)
    db.session.flush()
    orgs = {
        "a": Organisation(name="Provider A", kind="provider", funded_by_id=city.id),
        "b": Organisation(name="Provider B", kind="provider", funded_by_id=city.id),
        "city": city,
    }
    db.session.add_all(orgs.values())
    db.session.flush()
    sites = {
        "a1": Site(name="Dutchtown", organisation_id=orgs["a"].id),
        "a2": Site(name="Walnut Park", organisation_id=orgs["a"].id),
        "a_closed": Site(name="Old Site", organisation_id=orgs["a"].id, active=False),
        "b1": Site(name="Hamilton Heights", organisation_id=orgs["b"].id),
    }
    db.session.add_all(sites.values())
    db.session.flush()
    ids: dict = {
        "org": {k: o.id for k, o in orgs.items()},
        "site": {k: s.id for k, s in sites.items()},
    }
    users: dict = {}
    for key, roles, org, site in PEOPLE:
        user = make_user(
            f"{key.replace('_', ' ').title()} {org.upper()}",
            email_for(key, org),
            roles,
            orgs[org].id,
            sites[site].id if site else None,
        )
        users[key if org == "a" else f"{key}_{org}"] = user.id
    ids["user"] = users
    return ids


def local(day: date, clock: str) -> datetime:
    """A Chicago wall-clock time as an aware UTC instant."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=CHICAGO).astimezone(UTC)


def make_shift(
    worker_id: int,
    start: datetime,
    hours: float = 8,
    status: str = "submitted",
    break_minutes: int = 0,
    site_id: int | None = None,
    **fields,
) -> int:
    """A shift saved directly (bypassing the form rules); returns its id."""
    worker = db.session.get(User, worker_id)
    end = start + timedelta(hours=hours)
    shift = Shift(
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        site_id=site_id or worker.site_id,
        shift_type=fields.pop("shift_type", "street_outreach"),
        start_at=start,
        end_at=end,
        break_minutes=break_minutes,
        worked_minutes=int((end - start).total_seconds() // 60) - break_minutes,
        status=status,
        **fields,
    )
    db.session.add(shift)
    db.session.flush()
    return shift.id


def recent_start(days_ago: int = 1, clock: str = "09:00") -> datetime:
    """A start time a few days back, in Chicago."""
    today = datetime.now(CHICAGO).date()
    return local(today - timedelta(days=days_ago), clock)


def make_rate(
    worker_id: int,
    amount: str = "20.00",
    since: date = date(2020, 1, 1),
    classification: str = "employee_nonexempt",
    reason: str = "Starting rate",
) -> int:
    """A pay rate row (hourly, or annual salary when exempt); returns its id."""
    from decimal import Decimal

    from portal.models import PayRate

    worker = db.session.get(User, worker_id)
    exempt = classification == "employee_exempt"
    row = PayRate(
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        effective_from=since,
        classification=classification,
        hourly_rate=None if exempt else Decimal(amount),
        annual_salary=Decimal(amount) if exempt else None,
        reason=reason,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def make_statement(worker_id: int, gross: str = "100.00") -> tuple[int, int]:
    """A closed period (Jan 4-17, 2026) with one frozen statement; returns both ids."""
    from decimal import Decimal

    from portal.models import PayPeriod, PayStatement

    worker = db.session.get(User, worker_id)
    period = PayPeriod(
        organisation_id=worker.organisation_id,
        start_date=date(2026, 1, 4),
        end_date=date(2026, 1, 18),
    )
    db.session.add(period)
    db.session.flush()
    zero = Decimal("0.00")
    statement = PayStatement(
        period_id=period.id,
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        classification="employee_nonexempt",
        rate_text="$20.00/h",
        hours=Decimal("5.00"),
        regular_hours=Decimal("5.00"),
        overtime_hours=zero,
        differential_hours=zero,
        regular_pay=Decimal(gross),
        differential_pay=zero,
        stipends=zero,
        overtime_premium=zero,
        adjustments=zero,
        gross_pay=Decimal(gross),
        effective_hourly=Decimal("20.00"),
        details={"weeks": [], "adjustments": []},
    )
    db.session.add(statement)
    db.session.flush()
    return period.id, statement.id


def make_slot(counselor_id: int, days: int = 3, minutes: int = 50, **fields) -> int:
    """An open counselling slot of a counsellor, ``days`` from now (whole minutes), flushed."""
    from portal.models import CounselingSlot

    counselor = db.session.get(User, counselor_id)
    start = (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)
    slot = CounselingSlot(counselor_id=counselor.id, organisation_id=counselor.organisation_id,
                          start_at=start, end_at=start + timedelta(minutes=minutes),
                          mode=fields.pop("mode", "phone"), **fields)  # fmt: skip
    db.session.add(slot)
    db.session.flush()
    return slot.id


def safety_checkin(worker_id: int, started_at: datetime, alarm_kind: str | None = None,
                   place: str = "Corner of Test and Example", **fields) -> int:
    """A field-safety check-in of a worker (30 minutes long), for the dashboard's counts: ended
    "safe", or, with ``alarm_kind``, an alarm a supervisor has closed; flushed, its id."""
    from portal.models import SafetyCheckin

    worker = db.session.get(User, worker_id)
    fields.setdefault("organisation_id", worker.organisation_id)
    fields.setdefault("site_id", worker.site_id)
    fields["status"] = fields.get("status") or ("closed" if alarm_kind else "safe")
    row = SafetyCheckin(worker_id=worker_id, place=place, started_at=started_at,
                        due_at=started_at + timedelta(minutes=30), alarm_kind=alarm_kind,
                        alarm_at=started_at + timedelta(minutes=30) if alarm_kind else None,
                        alert_step=1 if alarm_kind else 0,
                        ended_at=started_at + timedelta(minutes=20), **fields)  # fmt: skip
    db.session.add(row)
    db.session.flush()
    return row.id

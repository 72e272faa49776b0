"""Account rules: unique e-mails, sites within the organisation, never lose the last admin."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal import audit
from portal.auth.service import make_password_token, normalise_email
from portal.extensions import db
from portal.links import public_url
from portal.mail import send_mail
from portal.models import SEPARATION_REASONS, Engagement, Organisation, Site, User, UserRole
from portal.timeutil import local_today


class AccountError(Exception):
    """A refused account change: messages by form field ("" for the whole form)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


def users_select(organisation_id: int | None = None, status: str = "", q: str = "") -> sa.Select:
    """Users, filtered by organisation, active status and a name/e-mail search."""
    query = (
        sa.select(User)
        .options(joinedload(User.organisation), joinedload(User.site), selectinload(User.role_rows))
        .order_by(User.name, User.id)
    )
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    term = q.strip().lower()
    if term:
        # autoescape: "%" and "_" typed in the search box are plain characters, not wildcards.
        query = query.where(
            sa.or_(
                sa.func.lower(User.name).contains(term, autoescape=True),
                sa.func.lower(User.email).contains(term, autoescape=True),
            )
        )
    return query


def organisations() -> list[Organisation]:
    """Every organisation, by name."""
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)))


def all_sites() -> list[Site]:
    """Every site with its organisation, for the site picker."""
    return list(
        db.session.scalars(
            sa.select(Site)
            .join(Site.organisation)
            .options(contains_eager(Site.organisation))
            .order_by(Organisation.name, Site.name)
        )
    )


def active_admin_count() -> int:
    """How many active accounts hold the admin role."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .join(UserRole)
        .where(UserRole.role == "admin", User.active.is_(True))
    )


def _validate(
    errors: dict[str, list[str]],
    email: str,
    organisation_id: int,
    site_id: int | None,
    roles: set[str],
    user: User | None,
) -> None:
    if not roles:
        errors.setdefault("roles", []).append("Give the person at least one role.")
    if db.session.get(Organisation, organisation_id) is None:
        errors.setdefault("organisation_id", []).append("Choose an organisation.")
    if site_id:
        site = db.session.get(Site, site_id)
        if site is None or site.organisation_id != organisation_id:
            errors.setdefault("site_id", []).append(
                "Choose a site of the person's organisation, or no site."
            )
        elif not site.active and (user is None or user.site_id != site.id):
            # Someone already at a site that has since closed may keep it; nobody new joins it.
            errors.setdefault("site_id", []).append(
                "That site is closed. Choose an open site, or no site."
            )
    taken = db.session.scalar(
        sa.select(User.id).where(
            sa.func.lower(User.email) == email, User.id != (user.id if user else 0)
        )
    )
    if taken:
        errors.setdefault("email", []).append("Another account already uses this e-mail.")


def create_user(
    name: str,
    email: str,
    roles: set[str],
    organisation_id: int,
    site_id: int | None,
    started_on=None,
) -> User:
    """A new account without a password; send_invite gives the person a link to set one.

    A worker's engagement (hire) starts on ``started_on``, today when not given."""
    email = normalise_email(email)
    errors: dict[str, list[str]] = {}
    _validate(errors, email, organisation_id, site_id, roles, None)
    if errors:
        raise AccountError(errors)
    user = User(
        name=name.strip(), email=email, organisation_id=organisation_id, site_id=site_id or None
    )
    user.roles = roles
    _save_or_refuse_taken_email(user)
    _sync_engagement(user, started_on or local_today())
    audit.record("user.created", "users", user.id, subject_id=user.id)
    return user


def update_user(
    actor: User,
    user: User,
    name: str,
    email: str,
    roles: set[str],
    organisation_id: int,
    site_id: int | None,
) -> User:
    """Change an account's details and roles, keeping at least one active admin."""
    email = normalise_email(email)
    errors: dict[str, list[str]] = {}
    _validate(errors, email, organisation_id, site_id, roles, user)
    if "admin" in user.roles and "admin" not in roles and user.active and active_admin_count() <= 1:
        who = "your own" if user.id == actor.id else "the last active admin's"
        errors.setdefault("roles", []).append(
            f"You cannot remove {who} admin role: no other active admin would remain."
        )
    if errors:
        raise AccountError(errors)
    before = _details(user)
    roles_before = user.roles
    if user.organisation_id != organisation_id:
        # leaving one provider for another is a separation there and a hire here
        _end_engagement(user, local_today(), "other")
    user.name = name.strip()
    user.email = email
    user.organisation_id = organisation_id
    user.site_id = site_id or None
    user.roles = roles
    _save_or_refuse_taken_email(user)
    _sync_engagement(user, local_today())
    if user.roles != roles_before:
        audit.record("user.roles_changed", "users", user.id, subject_id=user.id)
    if _details(user) != before:
        audit.record("user.updated", "users", user.id, subject_id=user.id)
    return user


def _details(user: User) -> tuple:
    """What an account change can alter besides roles (compared to audit a real change only)."""
    return (user.name, user.email, user.organisation_id, user.site_id)


def engagements(user: User) -> list[Engagement]:
    """The person's engagements, latest first."""
    return list(
        db.session.scalars(
            sa.select(Engagement)
            .where(Engagement.user_id == user.id)
            .order_by(Engagement.started_on.desc(), Engagement.id.desc())
        )
    )


def _open_engagement(user: User) -> Engagement | None:
    return db.session.scalar(
        sa.select(Engagement).where(Engagement.user_id == user.id, Engagement.ended_on.is_(None))
    )


def _sync_engagement(user: User, day) -> None:
    """An active worker has exactly one open engagement; anyone else has none.

    A new one starts on ``day``; one that must close ends on ``day`` (or its start, if later)."""
    current = _open_engagement(user)
    wanted = user.active and "worker" in user.roles
    if wanted and current is None:
        db.session.add(Engagement(user_id=user.id, organisation_id=user.organisation_id,
                                  started_on=day))  # fmt: skip
    elif not wanted and current is not None:
        _end_engagement(user, day, "other")
    db.session.flush()


def _end_engagement(user: User, day, reason: str) -> None:
    current = _open_engagement(user)
    if current is not None:
        current.ended_on = max(day, current.started_on)
        current.end_reason = reason


def _save_or_refuse_taken_email(user: User) -> None:
    """Flush in a savepoint: an e-mail taken by a simultaneous request is a form error, not a 500.

    The check in _validate answers the usual case; the unique constraint settles a race.
    """
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as exc:
        raise AccountError({"email": ["Another account already uses this e-mail."]}) from exc


def set_active(
    actor: User, user: User, active: bool, last_day=None, reason: str | None = None
) -> None:
    """Deactivate (ending every session at once) or reactivate an account.

    A worker's deactivation is a separation: their engagement ends on ``last_day`` (today when
    not given) for ``reason``; reactivating a worker starts a new engagement today."""
    if not active and user.active and "admin" in user.roles and active_admin_count() <= 1:
        raise AccountError({"": ["The last active admin cannot be deactivated."]})
    today = local_today()
    if not active and user.active:
        current = _open_engagement(user)
        last_day = last_day or today
        if reason is not None and reason not in SEPARATION_REASONS:
            raise AccountError({"reason": ["Choose a reason for leaving."]})
        if last_day > today:
            raise AccountError({"last_day": ["The last day worked cannot be in the future."]})
        if current is not None and last_day < current.started_on:
            raise AccountError({"last_day": [
                f"The last day worked cannot be before the start date, "
                f"{current.started_on:%-d %B %Y}."
            ]})  # fmt: skip
        _end_engagement(user, last_day, reason or "other")
        user.session_version += 1
    if user.active != active:
        action = "user.reactivated" if active else "user.deactivated"
        audit.record(action, "users", user.id, subject_id=user.id)
    user.active = active
    _sync_engagement(user, today)


def send_invite(user: User) -> str:
    """E-mail a one-time link to set a password; returns the link."""
    link = public_url("auth.set_password", token=make_password_token(user))
    send_mail(
        user.email,
        "Set your FairShift password",
        f"Hello {user.name},\n\n"
        "An account has been made for you on FairShift. Choose your password here:\n\n"
        f"{link}\n\n"
        f"The link works once and expires in {current_app.config['INVITE_TOKEN_HOURS']} hours. "
        "If it has expired, ask your administrator for a new one.\n",
    )
    return link

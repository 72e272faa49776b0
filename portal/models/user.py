"""People who sign in, and the roles they hold."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.org import Organisation, Site
from portal.models.types import UTCDateTime
from portal.timeutil import utcnow

ROLES = ("worker", "supervisor", "counselor", "hr", "leader", "funder", "admin")
ROLE_LABELS = {
    "worker": "Worker",
    "supervisor": "Supervisor",
    "counselor": "Counsellor",
    "hr": "HR",
    "leader": "Leader",
    "funder": "Funder",
    "admin": "Admin",
}

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the e-mail is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-same-cost")


class UserRole(db.Model):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),)


class User(UserMixin, db.Model):
    """A person with an account: name, e-mail, roles, organisation and home site."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    job_title: Mapped[str | None] = mapped_column(sa.String(80))
    # A private number (E.164, e.g. +13145550142): a worker's is shown only to the counsellors of
    # their organisation, on a request where they chose a call or a text; a counsellor's is where
    # urgent alerts are texted. Never on a list, dashboard, export or API answer.
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    checkin_reminders: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    checkin_reminder_sent_on: Mapped[date | None]  # the weekly reminder is sent once
    # Bumped whenever every existing session must end (password set, deactivation).
    session_version: Mapped[int] = mapped_column(default=1)
    # Two-factor sign-in (TOTP, RFC 6238): the base32 secret once enrolment is confirmed, and the
    # last time step accepted so that one code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site | None] = relationship()
    # Loaded when asked for: lists of thousands of workers must not fetch everyone's roles.
    # Pages that show roles for many people use selectinload(User.role_rows).
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    # Flask-Login: the session carries the version, so bumping it ends old sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    @roles.setter
    def roles(self, wanted) -> None:
        wanted = set(wanted)
        unknown = wanted - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        self.role_rows = [row for row in self.role_rows if row.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_names(self) -> list[str]:
        return [ROLE_LABELS[r] for r in ROLES if r in self.roles]

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            _safe_verify(_DUMMY_HASH, password)
            return False
        return _safe_verify(self.password_hash, password)


def _safe_verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_unknown_user(password: str) -> None:
    """Spend the same time as a real check, so unknown e-mails cannot be told apart."""
    _safe_verify(_DUMMY_HASH, password)

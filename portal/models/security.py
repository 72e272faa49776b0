"""Credentials besides the password: API tokens and two-factor recovery codes.

Both are stored only as SHA-256 digests of high-entropy random strings: the plain value is shown
once, when it is made, and cannot be read back.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow


class ApiToken(db.Model):
    """A bearer token for the statistics API, issued by an admin to a leader or funder account."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 hex
    prefix: Mapped[str] = mapped_column(sa.String(12))  # first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 hex
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

"""API token rules: issue, revoke, authenticate. Only a SHA-256 digest of a token is stored.

A token is ``fs_`` followed by 32 random bytes (URL-safe base64). It is shown once, when issued;
the database keeps its digest and its first characters (to recognise it in a list). A request is
authenticated by looking the digest up, so no comparison of secrets runs in Python at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.audit import record
from portal.extensions import db
from portal.models import ApiToken, User
from portal.timeutil import utcnow

TOKEN_PREFIX = "fs_"  # noqa: S105 - the public marker, not a secret
PREFIX_LENGTH = 8  # characters kept in clear: "fs_" and five random ones
API_ROLES = ("leader", "funder")
NAME_MAX = 80
INVALID, NO_SCOPE = "invalid_token", "insufficient_scope"  # RFC 6750 error codes


class TokenError(Exception):
    """A refused token change; the message says why, ``field`` which form field it is about."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class ApiAuthError(Exception):
    """A refused API request: 401 (no usable token) or 403 (the account may not use the API)."""

    status: int
    message: str
    code: str = ""  # RFC 6750 error code for WWW-Authenticate: invalid_token, insufficient_scope


def digest(plain: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def may_use_api(user: User) -> bool:
    """Only leaders and funders read the statistics API."""
    return user.has_role(*API_ROLES)


def tokens_of(user_id: int) -> list[ApiToken]:
    """Every token of an account, newest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(user_id: int, token_id: int) -> ApiToken | None:
    """One of an account's tokens, or None (another account's token is not found either)."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )


def issue(user: User, name: str, issued_by: User) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the plain token, which is never stored."""
    name = (name or "").strip()
    if not user.active:
        raise TokenError("This account is deactivated: reactivate it before issuing a token.")
    if not may_use_api(user):
        raise TokenError(
            "Only leader and funder accounts can have API tokens: the API serves the "
            "dashboard's statistics, which no other role may see."
        )
    if not name:
        raise TokenError("Give the token a name, e.g. the report or tool that will use it.", "name")
    if len(name) > NAME_MAX:
        raise TokenError(f"Keep the name to {NAME_MAX} characters or fewer.", "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(plain),
        prefix=plain[:PREFIX_LENGTH],
        created_by_id=issued_by.id,
    )
    db.session.add(token)
    db.session.flush()
    record("api_token.issued", "api_tokens", token.id, subject_id=user.id, actor=issued_by)
    return token, plain


def revoke(token: ApiToken, revoked_by: User) -> bool:
    """Revoke a token for good; False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    record("api_token.revoked", "api_tokens", token.id, subject_id=token.user_id,
           actor=revoked_by)  # fmt: skip
    return True


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def authenticate(header: str | None) -> ApiToken:
    """The token of a request, with its user, or ApiAuthError.

    A successful use stamps last_used_at and is audited; a known token that is refused (revoked,
    deactivated account, role withdrawn) is audited as denied. Unknown tokens are not: there is
    nobody to attribute them to. The caller commits.
    """
    plain = bearer_token(header)
    if plain is None:
        raise ApiAuthError(401, "Send an API token as 'Authorization: Bearer <token>'.")
    token = db.session.scalar(
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user).selectinload(User.role_rows))
        .where(ApiToken.token_hash == digest(plain))
    )
    if token is None:
        raise ApiAuthError(401, "This API token is not valid.", INVALID)
    refusal = None
    if token.revoked_at is not None:
        refusal = ApiAuthError(401, "This API token has been revoked.", INVALID)
    elif not token.user.active:
        refusal = ApiAuthError(401, "The account of this API token is deactivated.", INVALID)
    elif not may_use_api(token.user):
        refusal = ApiAuthError(
            403, "The account of this API token may no longer read statistics.", NO_SCOPE
        )
    if refusal is not None:
        record("api.token_used", "api_tokens", token.id, outcome="denied", actor=token.user)
        raise refusal
    token.last_used_at = utcnow()
    record("api.token_used", "api_tokens", token.id, actor=token.user)
    return token

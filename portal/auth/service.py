"""Authentication rules: credentials, safe redirects, one-time password links."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.extensions import db
from portal.models import User
from portal.models.user import verify_unknown_user

PASSWORD_TOKEN_SALT = "fairshift-set-password"  # noqa: S105 - a salt, not a secret


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively and without surrounding space."""
    return (email or "").strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost and answer either way)."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        verify_unknown_user(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def is_safe_next(target: str | None) -> bool:
    """Whether a post-login redirect stays on this site.

    Only a local absolute path is accepted: it starts with a single "/", carries no scheme or
    host, and holds no backslash or control character (browsers read "/\\evil" as "//evil").
    The percent-decoded form must pass too, so "/%5Cevil" or "/%2F%2Fevil" cannot turn into
    another host behind a proxy or framework that decodes the path once.
    """
    if not target or not isinstance(target, str):
        return False
    return all(_is_local_path(candidate) for candidate in (target, unquote(target)))


def _is_local_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_TOKEN_SALT)


def make_password_token(user: User) -> str:
    """A link token that works once: setting the password bumps the version it names."""
    return _serializer().dumps({"uid": user.id, "v": user.session_version})


def user_for_password_token(token: str, max_age_hours: int) -> User | None:
    """The user a still-valid, unused token belongs to, or None."""
    try:
        data = _serializer().loads(token, max_age=max_age_hours * 3600)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    uid = data.get("uid")
    user = db.session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active or user.session_version != data.get("v"):
        return None
    return user

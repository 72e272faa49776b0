"""Authentication rules: credentials, safe redirects, one-time password links, new passwords."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal import audit
from portal.auth.passwords import password_problems
from portal.extensions import db
from portal.links import public_url
from portal.mail import send_mail
from portal.models import User
from portal.models.user import verify_unknown_user

PASSWORD_TOKEN_SALT = "fairshift-set-password"  # noqa: S105 - a salt, not a secret
# A separate salt for links a person asks for themselves: they live minutes, not days, and an
# invitation token can never pass for one (nor the reverse).
RESET_TOKEN_SALT = "fairshift-reset-password"  # noqa: S105 - a salt, not a secret
INVITE, RESET = "invite", "reset"


class PasswordError(Exception):
    """A refused new password: messages by form field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


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


def _serializer(purpose: str = INVITE) -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY and still reads links signed with a key in SECRET_KEY_FALLBACKS."""
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
    salt = RESET_TOKEN_SALT if purpose == RESET else PASSWORD_TOKEN_SALT
    return URLSafeTimedSerializer(keys, salt=salt)


def _max_age_seconds(purpose: str) -> int:
    if purpose == RESET:
        return current_app.config["PASSWORD_RESET_MINUTES"] * 60
    return current_app.config["INVITE_TOKEN_HOURS"] * 3600


def make_password_token(user: User, purpose: str = INVITE) -> str:
    """A link token that works once: setting the password bumps the version it names."""
    return _serializer(purpose).dumps({"uid": user.id, "v": user.session_version})


def password_link(token: str) -> tuple[User, str] | tuple[None, None]:
    """Whose still-valid, unused link this is, and whether it was an invitation or a reset."""
    for purpose in (RESET, INVITE):
        user = _user_for_token(token, purpose)
        if user is not None:
            return user, purpose
    return None, None


def _user_for_token(token: str, purpose: str) -> User | None:
    try:
        data = _serializer(purpose).loads(token, max_age=_max_age_seconds(purpose))
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    uid = data.get("uid")
    user = db.session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active or user.session_version != data.get("v"):
        return None
    return user


def change_password(user: User, password: str) -> None:
    """Set a new password that passes the rules (portal/auth/passwords.py), or refuse it.

    Every place a person chooses a password goes through here. Setting it bumps the session
    version, which signs out every other session and kills every link sent before.
    """
    problems = password_problems(password, user.email)
    if problems:
        raise PasswordError({"password": problems})
    user.set_password(password)
    audit.record("password.changed", "users", user.id, subject_id=user.id, actor=user)


def request_password_reset(email: str) -> User | None:
    """Record a request for a reset link; the active account it is for, if there is one.

    The caller answers the same whatever this returns, so nobody learns which e-mails have an
    account. The audit event names the account when there is one (the typed e-mail is not kept).
    """
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        audit.record("password.reset_requested", "users", outcome="no_account", actor=None)
        return None
    outcome = "ok" if user.active else "inactive"
    audit.record(
        "password.reset_requested", "users", user.id, subject_id=user.id, outcome=outcome,
        actor=None,
    )  # fmt: skip
    return user if user.active else None


def send_password_reset(user: User) -> str:
    """E-mail a link to choose a new password (single use, PASSWORD_RESET_MINUTES); the link."""
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    link = public_url("auth.set_password", token=make_password_token(user, RESET))
    send_mail(
        user.email,
        "Reset your FairShift password",
        f"Hello {user.name},\n\n"
        "Someone, probably you, asked to reset the password of your FairShift account. "
        "Choose a new password here:\n\n"
        f"{link}\n\n"
        f"The link works once and expires in {minutes} minutes. Choosing a new password signs "
        "you out everywhere else.\n\n"
        "If you did not ask for this, you can ignore this e-mail: your password stays as it "
        "is. If it keeps happening, tell your administrator.\n",
    )
    return link

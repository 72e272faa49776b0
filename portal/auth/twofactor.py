"""Two-factor sign-in rules: TOTP codes (RFC 6238) and single-use recovery codes.

A code is accepted for the current 30-second step or one step either side (phones drift), and a
step is accepted at most once per account: ``users.totp_last_step`` only moves forward, through a
conditional UPDATE, so two requests racing with one code cannot both win. Recovery codes are
stored as SHA-256 digests and spent by a conditional UPDATE for the same reason.

While someone sets up two-factor, the secret they scan is not stored anywhere: the session holds
a random nonce and the secret is derived from it with the app's SECRET_KEY (Flask's session cookie
is signed, not encrypted, so a secret in it could be read by whoever holds a copy of the cookie).
Confirming the first code writes the secret to the account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from portal import audit
from portal.auth import clock
from portal.extensions import db
from portal.models import RecoveryCode, User

# Roles that must sign in with a second factor: they see pay, people's records or everything.
REQUIRED_ROLES = ("hr", "counselor", "admin", "funder")
STEP_SECONDS = 30
DRIFT_STEPS = 1  # accept the step before and after the current one
RECOVERY_CODE_COUNT = 10
ENROL_SALT = b"fairshift-totp-enrolment"

WRONG_CODE = "That code doesn't match. Enter the 6-digit code your app shows now."
USED_CODE = "That code has already been used. Wait for the next code in your app, then enter it."
NO_CODE = "Enter the 6-digit code from your authenticator app."


class TwoFactorError(Exception):
    """A code was refused; ``message`` says why, for the form."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WrongCode(TwoFactorError):
    """The code itself was refused (wrong, expired or already used): worth an audit event."""


def is_enabled(user: User) -> bool:
    """Whether the account signs in with a second factor."""
    return bool(user.totp_secret and user.totp_enabled_at)


def is_required(user: User) -> bool:
    """Whether the account's roles require a second factor."""
    return user.has_role(*REQUIRED_ROLES)


# --- setting up ---------------------------------------------------------------------------------


def new_enrolment_nonce() -> str:
    """A random value kept in the session while the person scans the QR code."""
    return secrets.token_urlsafe(16)


def pending_secret(user: User, nonce: str) -> str:
    """The base32 secret offered to ``user`` for this enrolment nonce (160 bits, RFC 4226)."""
    key = current_app.config["SECRET_KEY"].encode()
    message = ENROL_SALT + f":{user.id}:{nonce}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code: no inline style (CSP), presentation attributes only."""
    svg = segno.make(data, error="m").svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        title="QR code to scan with your authenticator app",
        svgclass="qr-code",
        lineclass=None,
        omitsize=False,
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own SVG


def grouped(secret: str) -> str:
    """A secret in groups of four characters, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on (or move it to a new secret) once a code from the app matches.

    Returns the new recovery codes, to be shown once.
    """
    step = _matching_step(secret, code, None)
    replacing = is_enabled(user)
    user.totp_secret = secret
    user.totp_enabled_at = clock.now_utc()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    audit.record(
        "2fa.replaced" if replacing else "2fa.enrolled", "users", user.id, subject_id=user.id
    )
    return codes


def disable(user: User, code: str) -> None:
    """Turn two-factor off, for roles where it is optional, after a current code."""
    if is_required(user):
        raise TwoFactorError(
            "Your role needs two-factor sign-in, so it cannot be turned off. "
            "To move it to a new phone, set it up again."
        )
    if not is_enabled(user):
        raise TwoFactorError("Two-factor sign-in is already off.")
    verify_code(user, code)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("2fa.disabled", "users", user.id, subject_id=user.id)


def reset_by_admin(admin: User, user: User) -> None:
    """An administrator turns someone's two-factor off (a lost phone, no recovery codes left).

    Their sessions end; the next sign-in with their password sets up a new device, as their
    role requires. Refused for the administrator's own account, which has its own page.
    """
    if user.id == admin.id:
        raise TwoFactorError(
            "To move your own two-factor sign-in to a new phone, set it up again from your "
            "account page."
        )
    if not is_enabled(user):
        raise TwoFactorError(f"{user.name} has no two-factor sign-in to reset.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_version += 1  # whoever holds the lost phone may hold a session too
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("2fa.reset", "users", user.id, subject_id=user.id, actor=admin)


# --- checking codes -----------------------------------------------------------------------------


def _digits(code: str | None) -> str:
    return "".join((code or "").split())


def looks_like_totp(code: str | None) -> bool:
    """Six digits (spaces allowed): a TOTP code rather than a recovery code."""
    value = _digits(code)
    return len(value) == 6 and value.isdigit()


def _matching_step(secret: str, code: str | None, last_step: int | None) -> int:
    """The time step ``code`` belongs to, within the drift window and after ``last_step``."""
    value = _digits(code)
    if not value:
        raise WrongCode(NO_CODE)
    if not looks_like_totp(value):
        raise WrongCode(WRONG_CODE)
    totp = pyotp.TOTP(secret)
    current = int(clock.now() // STEP_SECONDS)
    replayed = False
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), value):
            if last_step is not None and step <= last_step:
                replayed = True
                continue
            return step
    raise WrongCode(USED_CODE if replayed else WRONG_CODE)


def verify_code(user: User, code: str | None) -> None:
    """Accept a TOTP code for ``user`` once, or raise TwoFactorError.

    The step is claimed with a conditional UPDATE, so the same code posted twice at the same
    moment is accepted only once.
    """
    if not is_enabled(user):
        raise WrongCode(WRONG_CODE)
    step = _matching_step(user.totp_secret, code, user.totp_last_step)
    claimed = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    if claimed.rowcount != 1:
        raise WrongCode(USED_CODE)


def verify_code_or_recovery(user: User, code: str | None) -> bool:
    """Accept a TOTP code or an unused recovery code; True when a recovery code was spent."""
    if looks_like_totp(code) or not _digits(code):
        verify_code(user, code)
        return False
    if not use_recovery_code(user, code):
        raise WrongCode(
            "That code doesn't match. Enter the 6-digit code from your app, or one of your "
            "unused recovery codes."
        )
    return True


# --- recovery codes -----------------------------------------------------------------------------


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes with fresh ones; returns them (shown once)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(8)  # 64 bits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(c)) for c in codes)
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused recovery code; False when it is unknown or already used."""
    if len(_normalise_recovery(code)) != 16:
        return False
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now_utc())
    )
    if spent.rowcount == 1:
        audit.record("2fa.recovery_code_used", "users", user.id, subject_id=user.id, actor=user)
        return True
    return False


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the account has."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )

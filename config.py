"""Settings, read from the environment. Every setting is documented in README.md.

Importing this module never fails: missing values are checked in ``create_app``.
"""

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - a placeholder production refuses


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _list(name: str) -> list[str]:
    """A comma-separated setting as a list (empty items dropped)."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Old keys, comma-separated, still accepted when reading sessions and e-mailed links while a
    # new SECRET_KEY is rolled out (docs/deploy.md, "Rotating the secret key").
    SECRET_KEY_FALLBACKS = _list("SECRET_KEY_FALLBACKS")
    # None means "SQLite in the instance folder", resolved in create_app.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    TIMEZONE = os.environ.get("FAIRSHIFT_TIMEZONE", "America/Chicago")
    SUPPRESSION_MIN = _int("SUPPRESSION_MIN", 11)
    # Dashboard figures (page, report, CSV, API) are worked out once per viewer's organisation,
    # range and day and kept this long, with the time they were worked out shown; 0 keeps none.
    DASHBOARD_KEEP_SECONDS = _int("DASHBOARD_KEEP_SECONDS", 300)
    # Worker pages (/, /pay, /shifts) kept per process under the organisation's data version
    # (portal/kept_pages.py): a write shows at once; this bounds what changes with the clock.
    PAGE_KEEP_SECONDS = _int("PAGE_KEEP_SECONDS", 60)
    ONCALL_PHONE = os.environ.get("ONCALL_PHONE", "(314) 555-0142")
    ONCALL_LABEL = os.environ.get("ONCALL_LABEL", "Provider on-call line")
    # Pay periods until HR configures a pay policy (pay issue): biweekly from a Sunday.
    PAY_PERIOD_ANCHOR = os.environ.get("PAY_PERIOD_ANCHOR", "2026-01-04")
    PAY_PERIOD_DAYS = _int("PAY_PERIOD_DAYS", 14)

    MAIL_SERVER = os.environ.get("MAIL_SERVER")  # unset: mail goes to the log and instance/mail/
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "FairShift <no-reply@fairshift.invalid>")
    MAIL_DIR = os.environ.get("MAIL_DIR")  # default: <instance>/mail
    INVITE_TOKEN_HOURS = _int("INVITE_TOKEN_HOURS", 72)
    # The portal's public address, for every link that leaves it: e-mail (invitations, resets,
    # bookings, reminders) and calendar files. When set, never the request's Host header.
    PUBLIC_URL = os.environ.get("FAIRSHIFT_PUBLIC_URL")
    # Host names the portal answers to, comma-separated (others get 400); unset: any.
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS") or None

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Several windows, so the wait grows with the failures: 5 in 5 minutes, then 10 in an hour,
    # then 20 in a day (an account under attack waits a day; its owner can reset the password).
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get(
        "LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes; 10 per hour; 20 per day"
    )
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 5 minutes; 100 per day")
    # "Forgot your password?": how long the e-mailed link works, and how often one can be asked
    # for (per e-mail typed, which also caps the mail one person gets, and per address).
    PASSWORD_RESET_MINUTES = _int("PASSWORD_RESET_MINUTES", 30)
    PASSWORD_RESET_LIMIT_PER_EMAIL = os.environ.get("PASSWORD_RESET_LIMIT_PER_EMAIL", "5 per hour")
    PASSWORD_RESET_LIMIT_PER_IP = os.environ.get("PASSWORD_RESET_LIMIT_PER_IP", "20 per hour")
    # Sessions: signed out after this long without a request (shorter for roles that see pay or
    # people's records), and in any case this long after signing in; sensitive actions (closing
    # a pay period, applying a raise, changing roles, issuing API tokens) ask for the password or
    # a code again when the last one is older than REAUTH_MINUTES.
    IDLE_TIMEOUT_MINUTES = _int("IDLE_TIMEOUT_MINUTES", 120)
    IDLE_TIMEOUT_MINUTES_PRIVILEGED = _int("IDLE_TIMEOUT_MINUTES_PRIVILEGED", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    REAUTH_MINUTES = _int("REAUTH_MINUTES", 5)
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "FairShift")  # name in the app

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    HSTS = ""  # the Strict-Transport-Security header; production sends it (HTTPS only)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # The largest request body: benchmark CSV uploads are at most 1 MB (benchmarks/service.py).
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    SHIFTS_PER_PAGE = 20
    COUNSELING_CANCEL_HOURS = _int("COUNSELING_CANCEL_HOURS", 24)  # free cancel/reschedule before
    COUNSELING_YEARLY_ALLOWANCE = _int("COUNSELING_YEARLY_ALLOWANCE", 12)  # sessions a year
    COUNSELING_DAYS_AHEAD = _int("COUNSELING_DAYS_AHEAD", 14)  # open slots shown
    # Support requests (docs/support.md): the contact each urgency promises, in hours (urgent is
    # the same day: 12 hours from 2 a.m. is 2 p.m.), and how long a second urgent request by the
    # same worker joins their first instead of opening (and alerting) another.
    SUPPORT_CONTACT_HOURS_URGENT = _int("SUPPORT_CONTACT_HOURS_URGENT", 12)
    SUPPORT_CONTACT_HOURS_SOON = _int("SUPPORT_CONTACT_HOURS_SOON", 72)
    SUPPORT_CONTACT_HOURS_WHENEVER = _int("SUPPORT_CONTACT_HOURS_WHENEVER", 168)
    SUPPORT_URGENT_JOIN_MINUTES = _int("SUPPORT_URGENT_JOIN_MINUTES", 15)
    # Text messages for urgent alerts: "outbox" (the log and SMS_DIR, default instance/sms/) or
    # "package.module:Class", a class with send(to, body) for a real provider.
    SMS_SENDER = os.environ.get("SMS_SENDER", "outbox")
    SMS_DIR = os.environ.get("SMS_DIR")  # default: <instance>/sms
    # Safety check-ins (docs/safety.md): minutes past the due time before a check-in not ended
    # becomes a "missed" alarm, and minutes between one alert step and the next.
    SAFETY_GRACE_MINUTES = _int("SAFETY_GRACE_MINUTES", 5)
    SAFETY_STEP_MINUTES = _int("SAFETY_STEP_MINUTES", 5)
    PROXY_FIX = _int("PROXY_FIX", 0)  # number of trusted proxies in front of the app


class DevelopmentConfig(Config):
    """`make run`: SQLite in instance/, mail to files, a fixed non-secret key."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)


class TestingConfig(Config):
    """The test suite: CSRF off unless a test turns it back on, throttling on (memory)."""

    TESTING = True
    SECRET_KEY = "test-key"  # noqa: S105
    SECRET_KEY_FALLBACKS: list[str] = []
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = None
    PAGE_KEEP_SECONDS = 0  # tests/test_kept_pages.py turns it on
    DASHBOARD_KEEP_SECONDS = 0  # each test sees the figures of its own writes; kept.py's own
    # tests turn keeping on


class ProductionConfig(Config):
    """Deployment: SECRET_KEY and DATABASE_URL required, cookies Secure, HSTS."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for path / and
    # without a Domain: no sibling subdomain (or plain-HTTP page) can set or shadow it.
    SESSION_COOKIE_NAME = "__Host-session" if SESSION_COOKIE_SECURE else "session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token" if SESSION_COOKIE_SECURE else "remember_token"
    HSTS = (
        os.environ.get("HSTS", "max-age=31536000; includeSubDomains")
        if SESSION_COOKIE_SECURE
        else ""
    )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

"""The clock the sign-in rules read: session ages, re-authentication and TOTP time steps.

One function, so that tests can move time by patching ``portal.auth.clock.now`` instead of
sleeping. Callers use ``clock.now()`` (not ``from ... import now``) for the patch to reach them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def now_utc() -> datetime:
    """The same instant as an aware UTC datetime (for columns)."""
    return datetime.fromtimestamp(now(), UTC)

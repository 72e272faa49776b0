"""All models, importable from one place (Alembic sees them through this module)."""

from portal.models.org import ORG_KINDS, Organisation, Site
from portal.models.pay import (
    CLASSIFICATIONS,
    WEEKDAYS,
    Benchmark,
    PayDifferential,
    PayPeriod,
    PayPolicy,
    PayRate,
    PayStatement,
    ShiftStipend,
    WageStandard,
)
from portal.models.shift import (
    EDITABLE_STATUSES,
    MAX_SHIFT_HOURS,
    SHIFT_STATUSES,
    SHIFT_TYPES,
    Shift,
)
from portal.models.user import ROLE_LABELS, ROLES, User, UserRole

__all__ = [
    "CLASSIFICATIONS",
    "WEEKDAYS",
    "Benchmark",
    "PayDifferential",
    "PayPeriod",
    "PayPolicy",
    "PayRate",
    "PayStatement",
    "ShiftStipend",
    "WageStandard",
    "EDITABLE_STATUSES",
    "MAX_SHIFT_HOURS",
    "ORG_KINDS",
    "ROLES",
    "ROLE_LABELS",
    "SHIFT_STATUSES",
    "SHIFT_TYPES",
    "Organisation",
    "Shift",
    "Site",
    "User",
    "UserRole",
]

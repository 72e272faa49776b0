"""HR: classifications and pay rates, the pay policy, pay periods and statements."""

from flask import Blueprint

bp = Blueprint("hr", __name__, url_prefix="/hr")

from portal.hr import fairpay, holds, periods, routes  # noqa: E402,F401

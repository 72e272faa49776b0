"""Shifts: workers log them, supervisors approve or return them."""

from flask import Blueprint

bp = Blueprint("shifts", __name__)

from portal.shifts import routes  # noqa: E402,F401

"""Administration: users, their roles, organisations and sites."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import audit_log, organisations, routes, tokens  # noqa: E402,F401

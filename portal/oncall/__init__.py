"""On call: supervisors publish rotas per site; workers see theirs and swap with approval."""

from flask import Blueprint

bp = Blueprint("oncall", __name__, url_prefix="/oncall")

from portal.oncall import routes  # noqa: E402,F401

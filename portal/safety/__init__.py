"""Field safety: timed check-ins, "I'm safe", SOS and the duress code; supervisors' alarms."""

from flask import Blueprint

bp = Blueprint("safety", __name__, url_prefix="/safety")

from portal.safety import routes  # noqa: E402,F401

"""The training ledger: required courses per job title, sessions as paid training shifts, who
is due, expiry reminders, and leaders' completion rates."""

from flask import Blueprint

bp = Blueprint("training", __name__)

from portal.training import routes  # noqa: E402,F401

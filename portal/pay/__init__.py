"""Pay: what a worker will be paid and why (/pay), and the arithmetic behind it (rules.py)."""

from flask import Blueprint

bp = Blueprint("pay", __name__)

from portal.pay import routes  # noqa: E402,F401

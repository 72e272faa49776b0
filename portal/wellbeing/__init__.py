"""Wellbeing: exposures, check-ins, support requests, the worker's own data. Confidential."""

from flask import Blueprint

bp = Blueprint("wellbeing", __name__)

from portal.wellbeing import checkins, exposures, mydata, support  # noqa: E402,F401

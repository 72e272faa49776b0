"""Counselling: counsellors publish availability, workers book, nobody double-books."""

from flask import Blueprint

bp = Blueprint("counseling", __name__)

from portal.counseling import counselor, worker  # noqa: E402,F401

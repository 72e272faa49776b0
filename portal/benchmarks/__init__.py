"""Benchmarks: HR's sourced wage figures (legal floors, living wage, market, employer, peer)."""

from flask import Blueprint

bp = Blueprint("benchmarks", __name__, url_prefix="/hr/benchmarks")

from portal.benchmarks import routes  # noqa: E402,F401

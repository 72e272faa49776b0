"""Signing in and out (with a second factor), sessions, re-authentication, and passwords."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import account, reset, routes, sessions, signin  # noqa: E402,F401

"""Error pages: friendly, no stack traces, and the transaction rolled back."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from portal.extensions import db, login_manager


def register(app: Flask) -> None:
    """Install the handlers for 400 (CSRF), 404, 405, 413, 429, 500 and a lost database."""

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return render_template("errors/400_csrf.html"), 400

    @app.errorhandler(404)
    def not_found(_error):
        if _is_api():
            return _api_error("There is nothing at this address of the API.", 404)
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def method_not_allowed(error):
        if _is_api():
            allow = ", ".join(sorted(error.valid_methods or ()))
            return _api_error("The API only answers GET.", 405, {"Allow": allow})
        return render_template("errors/405.html"), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(429)
    def too_many(error):
        if request.endpoint == "auth.login":
            from portal.auth.routes import throttled_login_page

            return throttled_login_page(error)
        if request.endpoint in ("auth.two_factor", "auth.reauth"):
            from portal.auth.signin import throttled_page

            return throttled_page(error)
        if request.endpoint == "auth.forgot_password":
            from portal.auth.reset import throttled_reset_page

            return throttled_reset_page(error)
        return render_template("errors/429.html", error=error), 429

    @app.errorhandler(OperationalError)
    def database_unavailable(_error):
        _rollback()
        app.logger.exception("Database error")
        # Rendering must not ask the database who is signed in (Flask-Login's template context
        # would load the user again, fail again and end in a bare 500): no one, on this page.
        g._login_user = login_manager.anonymous_user()
        retry = {"Retry-After": "60"}
        if _is_api():
            return _api_error("The database is unreachable. Try again in a minute.", 503, retry)
        return render_template("errors/503.html", minimal=True), 503, retry

    @app.errorhandler(500)
    def server_error(_error):
        _rollback()
        if _is_api():
            return _api_error("Something went wrong on our side.", 500)
        return render_template("errors/500.html", minimal=True), 500


def _is_api() -> bool:
    """Programs reading /api/ get their errors as JSON, like the API's own answers."""
    return request.path.startswith("/api/")


def _api_error(message: str, status: int, headers: dict | None = None):
    return jsonify(error=message), status, {"Cache-Control": "no-store", **(headers or {})}


def _rollback() -> None:
    """Roll back the request's transaction; a dead connection must not raise a second error."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the page must render even when the database is gone
        db.session.remove()

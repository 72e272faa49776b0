"""API views: the dashboard's tables as JSON for a bearer token, and the OpenAPI document.

No session cookie is read here and nothing changes state but the token's last use and its audit
row, so the blueprint is exempt from CSRF; every answer is marked not to be stored by caches.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, jsonify, request

from portal.api import bp, openapi, service
from portal.dashboard import service as dashboard
from portal.extensions import csrf, db
from portal.timeutil import local_today

csrf.exempt(bp)
REALM = 'Bearer realm="FairShift API"'


def error_response(status: int, message: str, headers: dict | None = None):
    """``{"error": message}`` with a status (and headers)."""
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def token_required(view):
    """Let the view run only for a valid bearer token of a leader or funder (g.api_user)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            token = service.authenticate(request.headers.get("Authorization"))
        except service.ApiAuthError as refused:
            db.session.commit()  # the audit row of a denied known token
            challenge = REALM + (f', error="{refused.code}"' if refused.code else "")
            return error_response(refused.status, refused.message,
                                  {"WWW-Authenticate": challenge})  # fmt: skip
        g.api_user = token.user
        return view(*args, **kwargs)

    return wrapped


@bp.after_request
def no_store(response):
    """Statistics and errors alike: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _stats(part: str, keys: tuple[str, ...]):
    """The viewer's dashboard tables of one part, among ``keys``, in the dashboard's order."""
    try:
        rng, _sites, tables, worked_out_at, _key = dashboard.viewer_tables(
            g.api_user, request.args, local_today(), parts=(part,)
        )
    except dashboard.RangeError as error:
        db.session.commit()
        return error_response(422, str(error))
    body = {
        "from": rng.start.isoformat(),
        "to": rng.last_day.isoformat(),
        "site": rng.site_id,
        # when the figures were worked out: they are kept a few minutes (dashboard/kept.py)
        "generated_at": worked_out_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "suppression_min": current_app.config["SUPPRESSION_MIN"],
        "tables": [table_json(t) for key, t in tables.items() if key in keys],
    }
    db.session.commit()
    return jsonify(body)


def table_json(table: dashboard.Table) -> dict:
    """A Table as JSON: the same cells as the page and the CSV (numbers stay numbers)."""
    return {
        "key": table.key,
        "title": table.title,
        "columns": list(table.columns),
        "rows": [[_cell(v) for v in row] for row in table.rows],
        # the cells that are hidden (small numbers): null in rows, listed as [row, column]
        "hidden": [[i, j] for i, row in enumerate(table.rows) for j, v in enumerate(row)
                   if v is None],
        "note": table.note,
    }


def _cell(value):
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)  # Decimal and the like: as the page prints them


@bp.get("/stats/programme")
@token_required
def programme_stats():
    """Programme outputs (by site or organisation, by month) and the suppressed wellbeing table."""
    return _stats("programme", dashboard.PROGRAMME_TABLES)


@bp.get("/stats/workforce")
@token_required
def workforce_stats():
    """Active headcounts and, for leaders, pay."""
    return _stats("workforce", dashboard.WORKFORCE_TABLES)


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (public)."""
    return jsonify(openapi.document())

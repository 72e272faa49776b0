"""Dashboard views: a leader sees their own organisation, a funder sees every provider."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from portal.dashboard import bp, service
from portal.dashboard.kept import store
from portal.extensions import db
from portal.models import Organisation
from portal.permissions import role_required
from portal.timeutil import local_today, to_local, utcnow


def _tables():
    """The viewer's tables for the requested range (RangeError on bad input)."""
    return service.viewer_tables(current_user, request.args, local_today())


def _age(figures: service.Figures) -> dict | None:
    """When the shown figures were worked out, for the page's note (None when nothing is kept)."""
    seconds = current_app.config.get("DASHBOARD_KEEP_SECONDS", 0)
    if seconds <= 0:
        return None
    minutes = int((utcnow() - figures.worked_out_at).total_seconds() // 60)
    local = to_local(figures.worked_out_at)
    return {
        "at": local.strftime("%H:%M"),
        "on": local.strftime("%-d %B %Y"),
        "ago": "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago",
        "keep_minutes": max(1, round(seconds / 60)),
    }


def _tables_html(figures: service.Figures) -> Markup:
    """The tables as HTML, kept with the figures they show (a funder's hundred providers are a
    thousand table rows, which cost more to render than the kept figures cost to read)."""
    query = request.query_string.decode()

    def render() -> Markup:
        # an autoescaped template of our own: its output is HTML already
        return Markup(render_template("dashboard/_tables.html", tables=figures.tables,  # noqa: S704
                                      query=query))  # fmt: skip

    return store().get(("html", figures.key, figures.worked_out_at, query), render).value


def _refused(error: service.RangeError):
    """The dashboard with the filter form, the default range and why the request was refused."""
    rng = service.default_range(local_today())
    return render_template("dashboard/index.html", error=str(error), rng=rng, sites={},
                           tables={}, age=None, args=request.args), 422  # fmt: skip


@bp.route("/dashboard")
@role_required("leader", "funder")
def index():
    """Programme, workforce, pay (leaders) and wellbeing figures, each as a table."""
    try:
        figures = _tables()
    except service.RangeError as error:
        return _refused(error)
    return render_template("dashboard/index.html", error=None, rng=figures.rng,
                           sites=figures.sites, tables=figures.tables, age=_age(figures),
                           tables_html=_tables_html(figures), args=request.args)  # fmt: skip


@bp.route("/dashboard/report")
@role_required("leader", "funder")
def report():
    """The dashboard as a printable report (US Letter or A4) with its headline figures."""
    paper = request.args.get("paper") if request.args.get("paper") in ("a4", "letter") else "letter"
    try:
        rng, sites, tables, _at, _key = figures = _tables()
    except service.RangeError as error:
        return _refused(error)
    return render_template(
        "dashboard/report.html",
        age=_age(figures),
        rng=rng,
        site=sites.get(rng.site_id) if rng.site_id else None,
        tables=tables,
        headline=service.headline(tables),
        organisation=db.session.get(Organisation, current_user.organisation_id),
        paper=paper,
    )


@role_required("leader", "funder")
def table_csv():
    """One of the dashboard's tables, with the same parameters, as CSV."""
    name = request.url_rule.rule.removeprefix("/dashboard/").removesuffix(".csv")
    try:
        rng, _sites, tables, _at, _key = _tables()
    except service.RangeError as error:
        return Response(str(error) + "\n", status=422, mimetype="text/plain")
    if name not in tables:
        abort(404)
    filename = f"{name}-{rng.start.isoformat()}-{rng.last_day.isoformat()}.csv"
    return Response(
        tables[name].csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# One fixed URL per table, no URL variable: every download is a plain route that the access and
# confidentiality suites visit. The view reads which table from the rule.
for _name in service.TABLE_NAMES:
    bp.add_url_rule(f"/dashboard/{_name}.csv", view_func=table_csv)

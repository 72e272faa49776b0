"""Views: /hr/periods (preview and close the next period), statements and their CSV."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import audit
from portal.auth.reauth import recent_auth_required
from portal.extensions import db
from portal.forms import ActionForm
from portal.hr import bp
from portal.models import PayPeriod
from portal.pay import service as svc
from portal.permissions import role_required


def _own_period_or_404(period_id: int) -> PayPeriod:
    return db.first_or_404(
        db.select(PayPeriod).where(
            PayPeriod.id == period_id, PayPeriod.organisation_id == current_user.organisation_id
        )
    )


@bp.route("/periods")
@role_required("hr")
def periods():
    """The next period to close, as its statements would be frozen, and the closed ones."""
    org = current_user.organisation_id
    policy = svc.load_policy(org)
    preview = svc.preview_period(org, svc.next_period_to_close(org, policy), policy)
    return render_template(
        "hr/periods.html",
        preview=preview,
        closed=svc.closed_periods(org),
        form=ActionForm(),
    )


@bp.route("/periods/close", methods=["POST"])
@role_required("hr")
@recent_auth_required("close a pay period", back="hr.periods")
def close_period():
    """Close the next period: statements are frozen and its shifts locked."""
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("hr.periods"))
    try:
        expected = date.fromisoformat(request.form.get("period_start", ""))
    except ValueError:
        flash("Choose the period to close from this page.", "warning")
        return redirect(url_for("hr.periods"))
    try:
        closed = svc.close_period(current_user.organisation_id, current_user, expected)
    except svc.PayError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("hr.periods"))
    db.session.commit()
    left = svc.unpaid_until(current_user.organisation_id, closed.end_date)
    flash(
        f"Closed the period {closed.start_date:%b %-d} to "
        f"{svc.Period(closed.start_date, closed.end_date).last_day:%b %-d, %Y}. "
        "Statements are frozen; download the CSV for payroll below."
        + (
            f" {len(left)} worker{'s were' if len(left) != 1 else ' was'} left out: their "
            "approved shifts stay unpaid, listed below with how to fix them."
            if left
            else ""
        ),
        "success" if not left else "warning",
    )
    return redirect(url_for("hr.period", period_id=closed.id))


@bp.route("/periods/<int:period_id>")
@role_required("hr")
def period(period_id: int):
    """A closed period's frozen statements, and the approved shifts up to its end that no
    close has paid yet (left out for a missing rate, or held), with how to fix them."""
    closed = _own_period_or_404(period_id)
    statements = svc.period_statements(closed)
    unpaid = svc.unpaid_until(closed.organisation_id, closed.end_date)
    return render_template(
        "hr/period.html", period=closed, statements=statements, unpaid=unpaid
    )


@bp.route("/periods/<int:period_id>/statements.csv")
@role_required("hr")
def period_csv(period_id: int):
    """The statements as CSV for the payroll provider (columns: docs/payroll-csv.md)."""
    closed = _own_period_or_404(period_id)
    filename = f"fairshift-statements-{closed.start_date:%Y-%m-%d}.csv"
    body = svc.statements_csv(closed)
    audit.record("export.statements", "pay_periods", closed.id)
    db.session.commit()
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

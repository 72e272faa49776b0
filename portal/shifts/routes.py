"""Views: /shifts, /shifts/new, /shifts/<id> (+ edit, delete, approve, return), /shifts/review."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.forms import ActionForm, record_ids, requested_page
from portal.kept_pages import kept
from portal.models import Shift
from portal.permissions import role_required
from portal.shifts import bp
from portal.shifts import service as svc
from portal.shifts.forms import ReturnForm, ShiftForm
from portal.timeutil import to_local, utcnow


def _shift_form(shift=None) -> ShiftForm:
    """The shift form, prefilled with a shift's values or with phone-friendly defaults."""
    sites = svc.org_sites(current_user.organisation_id)
    if shift is not None:
        start, end = to_local(shift.start_at), to_local(shift.end_at)
        return ShiftForm(
            sites=sites,
            obj=shift,
            day=start.date(),
            start_time=start.time(),
            end_time=end.time(),
        )
    day, start, end = svc.default_times(to_local(utcnow()))
    return ShiftForm(
        sites=sites,
        day=day,
        start_time=start,
        end_time=end,
        site_id=current_user.site_id,
        shift_type="street_outreach",
    )


@bp.route("/shifts")
@role_required("worker")
@kept
def index():
    """The worker's shifts, newest first, paginated, optionally one month."""
    month_arg = request.args.get("month", "")
    month = svc.parse_month(month_arg)
    page = db.paginate(
        svc.worker_shifts_select(current_user, month).options(joinedload(Shift.site)),
        page=requested_page(),
        per_page=current_app.config["SHIFTS_PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "shifts/index.html",
        page=page,
        month=month_arg if month else "",
        bad_month=bool(month_arg) and month is None,
    )


@bp.route("/shifts/new", methods=["GET", "POST"])
@role_required("worker")
def new():
    """Log a shift."""
    form = _shift_form()
    if form.validate_on_submit():
        try:
            shift = svc.create_shift(current_user, form.to_input())
        except svc.ShiftError as exc:
            form.add_errors(exc.errors)
        else:
            late = svc.in_closed_period(shift)
            db.session.commit()
            flash(f"Shift saved: {shift.hours} hours, waiting for approval.", "success")
            if late:
                flash(
                    "Its pay period is already closed: once approved, it is paid as an "
                    "adjustment with your next statement.",
                    "info",
                )
            return redirect(url_for("shifts.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("shifts/form.html", form=form, shift=None), status


@bp.route("/shifts/<int:shift_id>")
@login_required
def show(shift_id: int):
    """One shift: its owner, or a supervisor whose scope holds it, sees it."""
    shift = svc.visible_shift_or_404(current_user, shift_id)
    return render_template(
        "shifts/show.html",
        shift=shift,
        can_review=svc.can_review(current_user, shift),
        return_form=ReturnForm(),
    )


@bp.route("/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
@role_required("worker")
def edit(shift_id: int):
    """Change a shift that is not yet approved (a returned one is resubmitted)."""
    shift = svc.own_shift_or_404(current_user, shift_id)
    if not shift.is_editable:
        flash("This shift is approved and can no longer be changed.", "warning")
        return redirect(url_for("shifts.show", shift_id=shift.id))
    form = _shift_form(shift) if request.method == "GET" else _shift_form()
    if request.method == "POST" and form.validate_on_submit():
        was_returned = shift.status == "returned"
        try:
            svc.update_shift(shift, form.to_input())
        except svc.ShiftError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(
                "Shift resubmitted for approval." if was_returned else "Shift updated.", "success"
            )
            return redirect(url_for("shifts.show", shift_id=shift.id))
    status = 422 if request.method == "POST" else 200
    return render_template("shifts/form.html", form=form, shift=shift), status


@bp.route("/shifts/<int:shift_id>/delete", methods=["POST"])
@role_required("worker")
def delete(shift_id: int):
    """Delete a shift that is not yet approved."""
    shift = svc.own_shift_or_404(current_user, shift_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("shifts.show", shift_id=shift.id))
    try:
        svc.delete_shift(shift)
    except svc.ShiftError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("shifts.show", shift_id=shift.id))
    db.session.commit()
    flash("Shift deleted.", "success")
    return redirect(url_for("shifts.index"))


@bp.route("/shifts/review")
@role_required("supervisor")
def review():
    """Submitted shifts of the supervisor's workers, oldest first."""
    shifts = db.session.scalars(svc.pending_review_select(current_user)).unique().all()
    return render_template("shifts/review.html", shifts=shifts, form=ActionForm())


@bp.route("/shifts/review/approve", methods=["POST"])
@role_required("supervisor")
def approve_many():
    """Approve the ticked shifts."""
    if ActionForm().validate_on_submit():
        ids = record_ids(request.form.getlist("shift_ids"))
        if not ids:
            flash("Tick the shifts to approve first.", "warning")
        else:
            count = svc.approve_shifts(current_user, ids)
            db.session.commit()
            flash(f"Approved {count} shift{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("shifts.review"))


@bp.route("/shifts/<int:shift_id>/approve", methods=["POST"])
@role_required("supervisor")
def approve(shift_id: int):
    """Approve one shift."""
    shift = svc.visible_shift_or_404(current_user, shift_id)
    if ActionForm().validate_on_submit():
        if svc.approve_shifts(current_user, [shift.id]):
            db.session.commit()
            flash(f"Approved {shift.worker.name}'s shift.", "success")
        else:
            flash("This shift is no longer waiting for approval.", "warning")
    return redirect(url_for("shifts.review"))


@bp.route("/shifts/<int:shift_id>/return", methods=["POST"])
@role_required("supervisor")
def return_(shift_id: int):
    """Send a shift back to its worker with a reason."""
    shift = svc.visible_shift_or_404(current_user, shift_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            svc.return_shift(current_user, shift, form.reason.data)
        except svc.ShiftError as exc:
            flash(str(exc), "warning")
            return redirect(url_for("shifts.show", shift_id=shift.id))
        db.session.commit()
        flash(f"Returned {shift.worker.name}'s shift with your reason.", "success")
        return redirect(url_for("shifts.review"))
    return (
        render_template(
            "shifts/show.html",
            shift=shift,
            can_review=svc.can_review(current_user, shift),
            return_form=form,
        ),
        422,
    )

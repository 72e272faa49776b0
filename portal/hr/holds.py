"""Views: /hr/shifts/<id> (a shift's pay: hold it back from pay, or release it)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.service import is_safe_next
from portal.extensions import db
from portal.forms import ActionForm
from portal.hr import bp
from portal.hr.forms import HoldForm
from portal.pay import holds
from portal.pay import rates as pay_rates
from portal.pay import service as pay_service
from portal.permissions import role_required


def _back() -> str:
    """Where the hold page returns to: the periods page, or a checked local path."""
    target = request.values.get("next", "")
    return target if is_safe_next(target) else url_for("hr.periods")


@bp.route("/shifts/<int:shift_id>", methods=["GET", "POST"])
@role_required("hr")
def shift_pay(shift_id: int):
    """A shift's pay status; hold it back from pay with a reason (POST)."""
    shift = holds.shift_for_hr_or_404(current_user, shift_id)
    form = HoldForm()
    if form.validate_on_submit():
        try:
            holds.hold_shift(current_user, shift, form.reason.data)
        except holds.HoldError as exc:
            db.session.rollback()
            shift = holds.shift_for_hr_or_404(current_user, shift_id)
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(
                f"Held: {shift.worker.name}'s shift of {pay_service.local_day(shift):%b %-d} "
                "is left out of pay-period closes until you release it.",
                "success",
            )
            return redirect(_back())
    rates = pay_rates.rates_by_worker(current_user.organisation_id, [shift.worker_id])
    first = pay_service.first_rate_day(rates.get(shift.worker_id, []))
    day = pay_service.local_day(shift)
    return render_template(
        "hr/shift_pay.html",
        shift=shift,
        form=form,
        day=day,
        no_rate=first is None or day < first,
        back=_back(),
    ), (422 if request.method == "POST" else 200)


@bp.route("/shifts/<int:shift_id>/release", methods=["POST"])
@role_required("hr")
def release_shift(shift_id: int):
    """Release a held shift: the next close pays it."""
    shift = holds.shift_for_hr_or_404(current_user, shift_id)
    if ActionForm().validate_on_submit():
        released = holds.release_shift(current_user, shift)
        db.session.commit()
        if released:
            flash(
                f"Released: {shift.worker.name}'s shift of {pay_service.local_day(shift):%b %-d} "
                "is paid with the next close.",
                "success",
            )
        else:
            flash("That shift was not held (any more).", "info")
    return redirect(_back())

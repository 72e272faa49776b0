"""Counsellor views: /counseling/availability (weekly hours, one-off slots, time off),
/counseling/sessions (cancel with a message, mark completed or missed), and booking a support
request into one of their slots (/support/<id>/book).

Every record is the counsellor's own (or their organisation's support request); anything else
answers 404. Views parse, call portal.counseling.availability, commit, flash and redirect.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.counseling import availability as svc
from portal.counseling import bp
from portal.counseling.counselor_forms import (
    BookForRequestForm,
    CancelForm,
    OneOffForm,
    RuleForm,
    TimeOffForm,
)
from portal.extensions import db
from portal.forms import ActionForm
from portal.models import MODES
from portal.permissions import role_required
from portal.timeutil import local_today, utcnow
from portal.wellbeing.access import request_or_404

EXPIRED = "The form expired. Please try again."


def _availability_page(rule_form=None, slot_form=None, off_form=None, status=200):
    """The availability page, with a refused form shown again (the others blank)."""
    today = local_today()
    return render_template(
        "counseling/counselor_availability.html",
        rules=svc.rules_of(current_user),
        slots=svc.upcoming_slots(current_user),
        time_off=svc.time_off_of(current_user),
        weekday_names=svc.WEEKDAY_NAMES,
        modes=MODES,
        rule_form=rule_form or RuleForm(formdata=None, valid_from=today),
        slot_form=slot_form or OneOffForm(formdata=None, day=today),
        off_form=off_form or TimeOffForm(formdata=None, start_day=today, end_day=today),
        days_ahead=current_app.config["COUNSELING_DAYS_AHEAD"],
    ), status


@bp.route("/counseling/availability")
@role_required("counselor")
def availability():
    """The counsellor's weekly hours, upcoming slots and time off, with forms to change them."""
    return _availability_page()


@bp.route("/counseling/availability/rules", methods=["POST"])
@role_required("counselor")
def add_rule():
    """Add weekly hours and offer their slots at once."""
    form = RuleForm()
    if form.validate_on_submit():
        try:
            svc.add_rule(
                current_user,
                form.weekday.data,
                form.start_time.data,
                form.end_time.data,
                form.slot_minutes.data,
                form.mode.data,
                form.location.data,
                form.video_link.data,
                form.valid_from.data,
                form.valid_until.data,
            )
        except svc.AvailabilityError as exc:
            form.add_errors(exc.errors)
        else:
            made = svc.generate_slots(current_user.id, svc.horizon())
            db.session.commit()
            flash(f"Weekly hours saved: {made} slot{'s' if made != 1 else ''} offered.", "success")
            return redirect(url_for("counseling.availability"))
    return _availability_page(rule_form=form, status=422)


@bp.route("/counseling/availability/rules/<int:rule_id>/remove", methods=["POST"])
@role_required("counselor")
def remove_rule(rule_id: int):
    """Remove weekly hours; their future unbooked slots are no longer offered."""
    rule = svc.rule_or_404(current_user, rule_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "warning")
    else:
        removed = svc.remove_rule(current_user, rule)
        db.session.commit()
        flash(
            f"Weekly hours removed: {removed} open slot{'s' if removed != 1 else ''} withdrawn. "
            "Booked sessions stay booked.",
            "success",
        )
    return redirect(url_for("counseling.availability"))


@bp.route("/counseling/availability/slots", methods=["POST"])
@role_required("counselor")
def add_slot():
    """Offer one extra slot at a local date and time."""
    form = OneOffForm()
    if form.validate_on_submit():
        try:
            start = svc.local_instant(form.day.data, form.time.data)
            slot = svc.add_one_off(
                current_user,
                start,
                form.minutes.data,
                form.mode.data,
                form.location.data,
                form.video_link.data,
            )
        except svc.AvailabilityError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Slot offered: {svc.span_text(slot.start_at, slot.end_at)}.", "success")
            return redirect(url_for("counseling.availability"))
    return _availability_page(slot_form=form, status=422)


@bp.route("/counseling/availability/slots/<int:slot_id>/withdraw", methods=["POST"])
@role_required("counselor")
def withdraw_slot(slot_id: int):
    """Stop offering one open slot."""
    slot = svc.slot_or_404(current_user, slot_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "warning")
    else:
        try:
            svc.withdraw_slot(current_user, slot)
        except svc.ActionError as exc:
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash(f"Slot withdrawn: {svc.span_text(slot.start_at, slot.end_at)}.", "success")
    return redirect(url_for("counseling.availability"))


@bp.route("/counseling/availability/time-off", methods=["POST"])
@role_required("counselor")
def add_time_off():
    """Block time off: open slots inside it are withdrawn, booked ones listed."""
    form = TimeOffForm()
    if form.validate_on_submit():
        try:
            start = svc.local_instant(form.start_day.data, form.start_time.data, "start_time")
            end = svc.local_instant(form.end_day.data, form.end_time.data, "end_time")
            result = svc.add_time_off(current_user, start, end)
        except svc.AvailabilityError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(result.message(), "warning" if result.booked else "success")
            return redirect(url_for("counseling.availability"))
    return _availability_page(off_form=form, status=422)


@bp.route("/counseling/availability/time-off/<int:time_off_id>/remove", methods=["POST"])
@role_required("counselor")
def remove_time_off(time_off_id: int):
    """Remove time off added by mistake or no longer needed; its withdrawn slots come back."""
    time_off = svc.time_off_or_404(current_user, time_off_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "warning")
    else:
        span = svc.span_text(time_off.start_at, time_off.end_at)
        offered = svc.remove_time_off(current_user, time_off)
        db.session.commit()
        flash(
            f"Time off removed ({span}): {offered} slot{'s' if offered != 1 else ''} offered "
            "again.",
            "success",
        )
    return redirect(url_for("counseling.availability"))


@bp.route("/counseling/sessions")
@role_required("counselor")
def sessions():
    """The counsellor's upcoming and recent sessions, with cancel and mark buttons."""
    return _sessions_page()


def _sessions_page(failed: CancelForm | None = None, failed_id: int | None = None, status=200):
    upcoming, recent = svc.sessions_of(current_user)
    forms = {
        b.id: (failed if b.id == failed_id else CancelForm(formdata=None, booking_id=b.id))
        for b in upcoming
        if b.status == "booked"
    }
    return render_template(
        "counseling/counselor_sessions.html",
        upcoming=upcoming,
        recent=recent,
        cancel_forms=forms,
        now=utcnow(),
    ), status


@bp.route("/counseling/sessions/<int:booking_id>/cancel", methods=["POST"])
@role_required("counselor")
def cancel_session(booking_id: int):
    """Cancel a session with a message the worker receives by e-mail; the slot is freed."""
    booking = svc.booking_or_404(current_user, booking_id)
    form = CancelForm(booking_id=booking.id)
    if form.validate_on_submit():
        try:
            mailed = svc.cancel_booking(
                current_user, booking, form.message.data, withdraw=form.withdraw.data
            )
        except svc.ActionError as exc:
            db.session.commit()  # keep the audited read
            flash(str(exc), "warning")
            return redirect(url_for("counseling.sessions"))
        except svc.AvailabilityError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Session with {booking.worker.name} cancelled.", "success")
            if not mailed:
                flash("The e-mail to the worker could not be sent: please tell them.", "warning")
            return redirect(url_for("counseling.sessions"))
    db.session.commit()  # keep the audited read
    return _sessions_page(failed=form, failed_id=booking.id, status=422)


@bp.route("/counseling/sessions/<int:booking_id>/complete", methods=["POST"])
@role_required("counselor")
def complete_session(booking_id: int):
    """Mark a session that has started as completed."""
    return _mark(booking_id, "completed")


@bp.route("/counseling/sessions/<int:booking_id>/missed", methods=["POST"])
@role_required("counselor")
def missed_session(booking_id: int):
    """Mark a session that has started as missed."""
    return _mark(booking_id, "missed")


def _mark(booking_id: int, outcome: str):
    booking = svc.booking_or_404(current_user, booking_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "warning")
    else:
        try:
            svc.mark(current_user, booking, outcome)
        except svc.ActionError as exc:
            flash(str(exc), "warning")
        else:
            flash(f"Session with {booking.worker.name} marked {outcome}.", "success")
    db.session.commit()  # the mark, or only the audited read when it was refused
    return redirect(url_for("counseling.sessions"))


@bp.route("/support/<int:request_id>/book", methods=["GET", "POST"])
@role_required("counselor")
def book_for_request(request_id: int):
    """Turn a support request into a session in one of the counsellor's open slots."""
    req = request_or_404(current_user, request_id)
    form = BookForRequestForm(slots=svc.open_slots(current_user))
    if form.validate_on_submit():
        try:
            booking = svc.book_for_request(current_user, req, form.slot_id.data)
        except svc.ActionError as exc:
            db.session.commit()  # keep the audited read
            flash(str(exc), "warning")
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
        except svc.AvailabilityError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(
                f"Booked {req.worker.name} for {svc.when_text(booking.slot.start_at)}; "
                "the request is scheduled.",
                "success",
            )
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
    db.session.commit()  # keep the audited read
    status = 422 if request.method == "POST" else 200
    return render_template("counseling/counselor_book.html", req=req, form=form), status

"""Views of the worker's side: /counseling (open slots, Book), /bookings/<id> (+ cancel,
reschedule, .ics).

A booking is a wellbeing record: its worker sees it, and so do the counsellors of the same
organisation (their read is audited); everyone else gets 404. Mail goes out after the commit,
so a mail server that is down never loses a booking.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal import audit
from portal.counseling import booking_service as svc
from portal.counseling import bp, reminders
from portal.counseling.ics import booking_ics, where
from portal.counseling.worker_forms import CancelForm, RescheduleForm, SlotFilterForm
from portal.extensions import db
from portal.forms import ActionForm
from portal.links import public_url
from portal.models import Booking, CounselingSlot
from portal.permissions import role_required
from portal.timeutil import to_local, utcnow
from portal.wellbeing.access import audit_read, own_or_404

MAIL_FAILED = (
    "We could not send the e-mail just now; your session is saved all the same. "
    "You can download the calendar file below."
)


@bp.app_context_processor
def counseling_words():
    """Wording helpers for the booking pages."""
    return {"booking_where": where, "slot_label": slot_label}


def slot_label(slot: CounselingSlot) -> str:
    """ "Tue Mar 10, 10:00–10:50 · Video · Counselor A" on the local wall clock."""
    start, end = to_local(slot.start_at), to_local(slot.end_at)
    when = f"{start:%a %b %-d}, {start:%H:%M}–{end:%H:%M}"
    return f"{when} · {slot.mode_label} · {slot.counselor.name}"


def _index_page(status: int = 200, error: str | None = None):
    """Open slots (filtered), the worker's upcoming sessions and their allowance."""
    form = SlotFilterForm(request.args, counsellors=svc.counsellors_with_slots(current_user))
    slots = svc.open_slots(current_user, counselor_id=form.counselor_id(), mode=form.mode_value())
    return render_template(
        "counseling/worker_index.html",
        form=form,
        days=svc.slots_by_day(slots),
        upcoming=svc.upcoming_bookings(current_user),
        allowance=svc.allowance(current_user),
        days_ahead=current_app.config["COUNSELING_DAYS_AHEAD"],
        error=error,
    ), status


@bp.route("/counseling")
@role_required("worker")
def index():
    """Open slots for the next days, by local day, with a Book button each."""
    return _index_page()


@bp.route("/counseling/slots/<int:slot_id>/book", methods=["POST"])
@role_required("worker")
def book(slot_id: int):
    """Book a slot: 409 with a clear message when someone else just took it."""
    slot = svc.slot_for_worker_or_none(current_user, slot_id)
    if slot is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        return _index_page(400, "The form expired. Please press Book again.")
    try:
        booking = svc.book(current_user, slot)
    except svc.BookingError as exc:
        db.session.rollback()
        return _index_page(409 if isinstance(exc, svc.SlotTaken) else 422, str(exc))
    db.session.commit()
    flash(f"Booked: {svc.when_text(slot.start_at)}. We sent you an e-mail.", "success")
    _mail(reminders.send_confirmation, booking)
    return redirect(url_for("counseling.booking", booking_id=booking.id))


def booking_or_404(booking_id: int) -> Booking:
    """A booking for its worker, or for a counsellor of the same organisation (audited)."""
    visible = Booking.worker_id == current_user.id
    if current_user.has_role("counselor"):
        visible = sa.or_(visible, Booking.organisation_id == current_user.organisation_id)
    booking = db.session.scalar(
        sa.select(Booking)
        .where(Booking.id == booking_id, visible)
        .options(joinedload(Booking.slot).joinedload(CounselingSlot.counselor))
    )
    if booking is None:
        abort(404)
    audit_read(current_user, booking)
    return booking


def own_booking_or_404(booking_id: int) -> Booking:
    """The worker's own booking, or 404."""
    return own_or_404(Booking, booking_id, current_user)


@bp.route("/bookings/<int:booking_id>")
@role_required("worker", "counselor")
def booking(booking_id: int):
    """One booking: when, how, where; cancel or move for its worker."""
    found = booking_or_404(booking_id)
    db.session.commit()  # keep the audit of a counsellor's read
    return _booking_page(found)


def _booking_page(found: Booking, cancel_form: CancelForm | None = None, status: int = 200):
    owner = found.worker_id == current_user.id
    now = utcnow()
    changeable = owner and found.status == "booked" and found.slot.start_at > now
    return render_template(
        "counseling/booking.html",
        booking=found,
        owner=owner,
        changeable=changeable,
        late=changeable and svc.late_for_free_change(found, now),
        cancel_hours=svc.cancel_hours(),
        cancel_form=cancel_form or CancelForm(formdata=None),
    ), status


@bp.route("/bookings/<int:booking_id>/session.ics")
@role_required("worker")
def booking_ics_file(booking_id: int):
    """The booking's calendar file (an invitation, or its cancellation)."""
    found = own_booking_or_404(booking_id)
    method = "CANCEL" if found.status == "cancelled" else "REQUEST"
    link = public_url("counseling.booking", booking_id=found.id)
    return Response(
        booking_ics(found, method, link),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="session-{found.id}.ics"'},
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@role_required("worker")
def cancel(booking_id: int):
    """Cancel a session (late only when called to an incident); the slot is free at once."""
    found = own_booking_or_404(booking_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _booking_page(found, form, 400)
    try:
        svc.cancel(current_user, found, called_to_incident=form.called_to_incident.data)
    except svc.BookingError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _booking_page(db.session.get(Booking, booking_id), form, 422)
    db.session.commit()
    flash("Session cancelled. The time is free for someone else.", "success")
    _mail(reminders.send_cancellation, found)
    return redirect(url_for("counseling.booking", booking_id=found.id))


@bp.route("/bookings/<int:booking_id>/reschedule", methods=["GET", "POST"])
@role_required("worker")
def reschedule(booking_id: int):
    """Move a session to another open time, in one step (nothing changes if it fails)."""
    found = own_booking_or_404(booking_id)
    slots = svc.open_slots(current_user, ignore_booking_id=found.id)
    form = RescheduleForm(slots=slots, label=slot_label)
    error, status = None, 200
    if form.validate_on_submit():
        new_slot = svc.slot_for_worker_or_none(current_user, form.slot_id.data)
        try:
            if new_slot is None:
                raise svc.BookingError(svc.NOT_YOURS)
            moved = svc.reschedule(current_user, found, new_slot)
        except svc.BookingError as exc:
            db.session.rollback()
            error, status = str(exc), (409 if isinstance(exc, svc.SlotTaken) else 422)
        else:
            db.session.commit()
            flash(
                f"Moved to {svc.when_text(moved.slot.start_at)}. We sent you an e-mail.", "success"
            )
            _mail(reminders.send_move, found, moved)
            return redirect(url_for("counseling.booking", booking_id=moved.id))
    elif request.method == "POST":
        status = 422
    if status != 200:  # the list may have changed under us: show what is open now
        slots = svc.open_slots(current_user, ignore_booking_id=booking_id)
        form.slot_id.choices = [(slot.id, slot_label(slot)) for slot in slots]
    found = db.session.get(Booking, booking_id)
    return render_template(
        "counseling/booking_reschedule.html",
        booking=found,
        form=form,
        days=svc.slots_by_day(slots),
        late=found.status == "booked" and svc.late_for_free_change(found),
        cancel_hours=svc.cancel_hours(),
        error=error,
    ), status


def _mail(send, *bookings: Booking) -> None:
    """Send a booking mail after the commit; a failure is logged and told, never a 500."""
    try:
        send(*bookings)
    except Exception:  # noqa: BLE001 - the booking is saved; the mail is a courtesy
        current_app.logger.exception("Booking mail for booking %s failed", bookings[-1].id)
        flash(MAIL_FAILED, "warning")


@bp.route("/bookings/<int:booking_id>/delete", methods=["POST"])
@role_required("worker")
def delete_booking(booking_id: int):
    """Really delete a past or cancelled booking (an upcoming one is cancelled first)."""
    found = own_booking_or_404(booking_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("counseling.booking", booking_id=found.id))
    if found.status == "booked" and found.slot.end_at > utcnow():
        flash("Cancel this session first; then you can delete it.", "warning")
        return redirect(url_for("counseling.booking", booking_id=found.id))
    audit.record("booking.deleted", "bookings", found.id, subject_id=found.worker_id)
    db.session.delete(found)
    db.session.commit()
    flash("The booking is deleted.", "success")
    return redirect(url_for("counseling.index"))

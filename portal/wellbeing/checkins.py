"""Views: /checkins, /checkins/new, /checkins/<id> (+ delete), /checkins/reminders, and for
counsellors /checkins/shared.

A check-in is its worker's own. A counsellor of the same organisation may read one only where
the worker asked for outreach or consented, and that read is audited (access.checkin_or_404).
Everyone else gets 404.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.extensions import db
from portal.forms import ActionForm, requested_page
from portal.models import CheckIn
from portal.permissions import role_required
from portal.wellbeing import bp, support_service, who5
from portal.wellbeing import checkin_service as svc
from portal.wellbeing.access import checkin_or_404, own_or_404
from portal.wellbeing.care import care_offer
from portal.wellbeing.checkin_forms import CheckInForm, ReminderForm
from portal.wellbeing.support_alerts import alert_on_call


@bp.route("/checkins")
@role_required("worker")
def checkins():
    """The worker's check-ins: the trend as a chart and a table, and the reminder setting."""
    rows, total = svc.history(current_user)
    return render_template(
        "wellbeing/checkins.html",
        rows=rows,
        total=total,
        chart=svc.history_chart(rows),
        reminder_form=ReminderForm(),
        who5=who5,
    )


@bp.route("/checkins/shared")
@role_required("counselor")
def checkins_shared():
    """For counsellors: the check-ins workers of their organisation let them read."""
    page, readings = svc.shared_with_counsellors(current_user, requested_page())
    html = render_template("wellbeing/checkins_shared.html", page=page, readings=readings,
                           days=svc.SHARED_DAYS)  # fmt: skip
    db.session.commit()  # the audit rows of these reads (after rendering: nothing reloads)
    return html


@bp.route("/checkins/new", methods=["GET", "POST"])
@role_required("worker")
def checkin_new():
    """Check in: the five WHO-5 items, a note, and two free choices."""
    form = CheckInForm()
    if request.method == "GET":
        form.share_with_counsellors.data = svc.last_share_choice(current_user)
    if form.validate_on_submit():
        checkin, outreach = svc.create_checkin(
            current_user,
            form.answers,
            form.note.data or "",
            wants_outreach=form.wants_outreach.data,
            share_with_counsellors=form.share_with_counsellors.data,
        )
        db.session.commit()  # the check-in stands whatever the alert does
        flash("Check-in saved. Thank you for taking the time.", "success")
        if outreach is not None:
            alert_on_call(outreach)  # a strong signal asks urgently: the counsellors on call
            db.session.commit()
            flash(
                "Someone from the support team will reach out to you "
                f"{support_service.promise_text(outreach)}.",
                "success",
            )
        return redirect(url_for("wellbeing.checkin", checkin_id=checkin.id))
    status = 422 if request.method == "POST" else 200
    return render_template("wellbeing/checkin_form.html", form=form, who5=who5), status


@bp.route("/checkins/<int:checkin_id>")
@login_required
def checkin(checkin_id: int):
    """One check-in: its score and what it suggests; a counsellor's read is audited."""
    found = checkin_or_404(current_user, checkin_id)
    own = found.worker_id == current_user.id
    if not own:
        db.session.commit()  # the audit row of this read
    return render_template(
        "wellbeing/checkin.html",
        checkin=found,
        own=own,
        reading=who5.reading(found.items),
        care=care_offer(current_user) if own else None,
        who5=who5,
    )


@bp.route("/checkins/<int:checkin_id>/delete", methods=["POST"])
@role_required("worker")
def checkin_delete(checkin_id: int):
    """Delete one of your check-ins for good."""
    found = own_or_404(CheckIn, checkin_id, current_user)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("wellbeing.checkin", checkin_id=found.id))
    svc.delete_checkin(found)
    db.session.commit()
    flash("Check-in deleted. It is gone for good.", "success")
    return redirect(url_for("wellbeing.checkins"))


@bp.route("/checkins/reminders", methods=["POST"])
@role_required("worker")
def checkin_reminders():
    """Switch the weekly check-in reminder on or off."""
    form = ReminderForm()
    if form.validate_on_submit():
        on = form.reminders.data == "on"
        svc.set_reminders(current_user, on)
        db.session.commit()
        flash(
            "Weekly reminders are on: we'll e-mail you when a week has passed since your last "
            "check-in."
            if on
            else "Weekly reminders are off.",
            "success",
        )
    else:
        flash("That did not work. Please try again.", "warning")
    return redirect(url_for("wellbeing.checkins"))

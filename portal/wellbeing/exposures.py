"""Views: /exposures, /exposures/new, /exposures/<id> (+ offer accept/decline, delete).

A worker's own log only: every record answers 404 to anyone else, counsellors and admins too.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.forms import ActionForm, requested_page
from portal.models import SEVERITY_WORDS, Shift
from portal.permissions import role_required
from portal.timeutil import to_local, utcnow
from portal.wellbeing import bp
from portal.wellbeing import exposure_service as svc
from portal.wellbeing.access import exposure_or_404
from portal.wellbeing.care import care_offer
from portal.wellbeing.exposure_forms import ExposureForm
from portal.wellbeing.requests import after_incident_urgency
from portal.wellbeing.support_alerts import alert_on_call
from portal.wellbeing.support_service import offer_promise, promise_text


@bp.route("/exposures")
@role_required("worker")
def exposures():
    """The worker's own history, newest first, with a count for each of the last 12 months."""
    page = db.paginate(
        svc.history_select(current_user),
        page=requested_page(),
        per_page=current_app.config.get("EXPOSURES_PER_PAGE", 20),
        error_out=False,
    )
    months = svc.monthly_counts(current_user)
    return render_template(
        "wellbeing/exposures.html",
        page=page,
        months=months,
        busiest=max((m.count for m in months), default=0),
        severity_words=SEVERITY_WORDS,
        care=care_offer(current_user),
    )


@bp.route("/exposures/new", methods=["GET", "POST"])
@role_required("worker")
def exposure_new():
    """Log an exposure in a few taps; when defaults to now."""
    now = to_local(utcnow())
    form = ExposureForm(
        shifts=svc.recent_shifts(current_user), day=now.date(), clock=now.time().replace(second=0)
    )
    if form.validate_on_submit():
        try:
            exposure = svc.log_exposure(current_user, form.to_input())
        except svc.ExposureError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Saved. Only you can see it.", "success")
            return redirect(url_for("wellbeing.exposure", exposure_id=exposure.id))
    status = 422 if request.method == "POST" else 200
    return render_template("wellbeing/exposure_form.html", form=form), status


@bp.route("/exposures/<int:exposure_id>")
@role_required("worker")
def exposure(exposure_id: int):
    """One exposure, for its owner only."""
    found = exposure_or_404(current_user, exposure_id)
    shift = db.session.get(Shift, found.shift_id) if found.shift_id else None
    return render_template(
        "wellbeing/exposure.html",
        exposure=found,
        shift=shift if shift is not None and shift.worker_id == current_user.id else None,
        severity_words=SEVERITY_WORDS,
        care=care_offer(current_user),
        promise=_promise(found),
    )


def _promise(exposure) -> str | None:
    """When a counsellor or peer will reach out: the request's promise once the worker said
    yes, the one a yes would make while the offer stands (same day for severity 5)."""
    if exposure.offer_status == "accepted":
        req = svc.offer_request(current_user, exposure)
        return promise_text(req) if req is not None else None
    if exposure.offer_status == "offered":
        return offer_promise(after_incident_urgency(exposure.severity))
    return None


@bp.route("/exposures/<int:exposure_id>/offer/accept", methods=["POST"])
@role_required("worker")
def exposure_offer_accept(exposure_id: int):
    """Yes to a talk after a critical incident: one urgent after-incident support request."""
    found = exposure_or_404(current_user, exposure_id)
    if ActionForm().validate_on_submit():
        req = svc.accept_offer(current_user, found)
        if req is not None:
            db.session.commit()  # the request stands whatever the alert does
            alert_on_call(req)
            db.session.commit()
            flash(
                "Thank you for saying yes. A counsellor or peer will reach out to you "
                f"{promise_text(req)}.",
                "success",
            )
        elif found.offer_status == "accepted":
            flash("You have already asked for a talk. You can follow it on your support page.",
                  "info")  # fmt: skip
    return redirect(url_for("wellbeing.exposure", exposure_id=found.id))


@bp.route("/exposures/<int:exposure_id>/offer/decline", methods=["POST"])
@role_required("worker")
def exposure_offer_decline(exposure_id: int):
    """Not now: the offer goes away for this incident and is not asked again."""
    found = exposure_or_404(current_user, exposure_id)
    if ActionForm().validate_on_submit() and svc.decline_offer(found):
        db.session.commit()
        flash("That's okay. If you want to talk later, you can ask at any time.", "info")
    return redirect(url_for("wellbeing.exposure", exposure_id=found.id))


@bp.route("/exposures/<int:exposure_id>/delete", methods=["POST"])
@role_required("worker")
def exposure_delete(exposure_id: int):
    """Really delete an exposure (the audit trail records that, not what it said)."""
    found = exposure_or_404(current_user, exposure_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("wellbeing.exposure", exposure_id=found.id))
    svc.delete_exposure(current_user, found)
    db.session.commit()
    flash("Deleted. It is gone for good.", "success")
    return redirect(url_for("wellbeing.exposures"))

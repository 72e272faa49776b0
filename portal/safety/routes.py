"""Views: /safety (a worker's check-in), /safety/settings, /safety/sos, positions, and
/safety/alarms (supervisors)."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal import audit
from portal.extensions import db
from portal.forms import ActionForm
from portal.models import ALARM_KINDS, ALERT_STEPS, MAX_CHECKIN_MINUTES
from portal.permissions import role_required
from portal.safety import alerts, bp
from portal.safety import service as svc
from portal.safety.forms import CloseForm, ExtendForm, SafeForm, SettingsForm, StartForm
from portal.web import PERMISSIONS_POLICY

# What "I'm safe" shows: the same words whether the safe or the duress code was given.
SAFE_MESSAGE = "Good to hear you're safe. Your check-in has ended."
# The site's policy, with the phone's position allowed to this page's own script only.
GEOLOCATION_POLICY = PERMISSIONS_POLICY.replace("geolocation=()", "geolocation=(self)")


@bp.app_template_filter("safety_time")
def safety_time(moment) -> str:
    """ "02:30" today, else "Thu Dec 3 02:30", on the local clock."""
    return svc.time_text(moment) if moment else ""


def _index_page(start_form=None, safe_form=None, status=200):
    settings = svc.settings_for(current_user)
    current = svc.current_for(current_user)
    if current is None and start_form is None:
        start_form = StartForm(formdata=None, colleagues=svc.colleagues(current_user))
    now = svc.utcnow()
    response = make_response(render_template(
        "safety/index.html", current=current, start_form=start_form,
        safe_form=safe_form or SafeForm(formdata=None), has_codes=svc.has_codes(settings),
        settings=settings, history=svc.history_for(current_user), now=now,
        minutes_left=(max(0, int((current.due_at - now).total_seconds() // 60))
                      if current else 0),
        can_extend=bool(current and current.status == "active" and current.due_at
                        < current.started_at + svc.timedelta(minutes=MAX_CHECKIN_MINUTES)),
        label=svc.worker_label, more=svc.MORE_MINUTES,
    ), status)  # fmt: skip
    if current is not None and current.status == "active" and settings and settings.share_location:
        response.headers["Permissions-Policy"] = GEOLOCATION_POLICY
    return response


@bp.route("", methods=["GET", "POST"])
@role_required("worker")
def index():
    """My check-in: start one, or the countdown with "I'm safe", more time and SOS."""
    if request.method == "GET":
        return _index_page()
    running = svc.current_for(current_user)
    if running is not None:  # a double tap, a second phone, an old tab
        flash(f"You already have a check-in running (due back at "
              f"{svc.time_text(running.due_at)}).", "warning")  # fmt: skip
        return redirect(url_for("safety.index"))
    form = StartForm(colleagues=svc.colleagues(current_user))
    if form.validate_on_submit():
        try:
            checkin = svc.start(current_user, form.to_input())
        except svc.SafetyError as exc:
            if "" in exc.errors and svc.current_for(current_user) is not None:
                db.session.rollback()
                flash(str(exc), "warning")  # a double tap: the running one is shown
                return redirect(url_for("safety.index"))
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Check-in started. Tap \"I'm safe\" by {svc.time_text(checkin.due_at)}.",
                  "success")  # fmt: skip
            return redirect(url_for("safety.index"))
    return _index_page(start_form=form, status=422)


@bp.route("/<int:safety_checkin_id>/safe", methods=["POST"])
@role_required("worker")
def safe(safety_checkin_id: int):
    """ "I'm safe": ends the check-in (the duress code looks the same and raises the alarm)."""
    checkin = svc.own_checkin_or_404(current_user, safety_checkin_id)
    form = SafeForm()
    if not form.validate_on_submit():
        flash("The page expired. Please tap \"I'm safe\" again.", "warning")
        return redirect(url_for("safety.index"))
    if not svc.is_current(checkin):
        flash(SAFE_MESSAGE if svc.worker_status(checkin) == "safe"
              else "This check-in has already ended.", "success")  # fmt: skip
        return redirect(url_for("safety.index"))
    try:
        outcome = svc.end(current_user, checkin, form.code.data)
    except svc.SafetyError as exc:
        db.session.commit()  # a wrong code is audited (and counted)
        if not svc.is_current(checkin):  # ended meanwhile (another tap, another phone)
            flash(str(exc), "warning")
            return redirect(url_for("safety.index"))
        form.add_errors(exc.errors)
        return _index_page(safe_form=form, status=422)
    db.session.commit()  # the alarm is saved before any mail is tried
    if outcome == "duress":
        _alert_step_one(checkin.id)
    flash(SAFE_MESSAGE, "success")
    return redirect(url_for("safety.index"))


def _alert_step_one(checkin_id: int) -> None:
    """Step 1 now; when it was alerted already (a missed check-in that turned SOS or duress),
    its supervisors are told again, with what is new."""
    try:
        alerts.alert_now(checkin_id)
    except Exception:  # noqa: BLE001 - the alarm is committed; the cron alerts it
        db.session.rollback()
        current_app.logger.exception("Alerting step 1 of check-in %s failed", checkin_id)


@bp.route("/<int:safety_checkin_id>/extend", methods=["POST"])
@role_required("worker")
def extend(safety_checkin_id: int):
    """More time: +15 or +30 minutes."""
    checkin = svc.own_checkin_or_404(current_user, safety_checkin_id)
    form = ExtendForm()
    if form.validate_on_submit():
        try:
            svc.extend(current_user, checkin, form.minutes.data)
        except svc.SafetyError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash(f"More time: now due back at {svc.time_text(checkin.due_at)}.", "success")
    else:
        flash("The form expired. Please tap again.", "warning")
    return redirect(url_for("safety.index"))


@bp.route("/sos", methods=["GET", "POST"])
@role_required("worker")
def sos():
    """SOS: a confirm step (one tap more, no JavaScript needed), then the alarm."""
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        checkin, raised = svc.sos(current_user)
        db.session.commit()  # the alarm is saved before any mail is tried
        if raised:
            _alert_step_one(checkin.id)
        flash("SOS sent. Your supervisor on duty is being alerted. If you are in danger, "
              "call 911.", "warning")  # fmt: skip
        return redirect(url_for("safety.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("safety/sos.html", form=form,
                           current=svc.current_for(current_user)), status  # fmt: skip


@bp.route("/<int:safety_checkin_id>/position", methods=["POST"])
@role_required("worker")
def position(safety_checkin_id: int):
    """A position from the worker's phone (only when they opted in, only while it runs)."""
    checkin = svc.own_checkin_or_404(current_user, safety_checkin_id)
    settings = svc.settings_for(current_user)
    if not (settings and settings.share_location):
        abort(404)
    if not ActionForm().validate_on_submit():
        return {"error": "The page expired: reload it."}, 400
    if not svc.is_current(checkin):
        return {"error": "This check-in is not running."}, 409
    try:
        svc.record_position(current_user, checkin, request.form.get("latitude"),
                            request.form.get("longitude"), request.form.get("accuracy"))
    except svc.SafetyError as exc:
        return {"error": str(exc)}, 422
    db.session.commit()
    return "", 204


@bp.route("/settings", methods=["GET", "POST"])
@role_required("worker")
def settings():
    """My safety settings: safe and duress codes, emergency contact, location."""
    saved = svc.settings_for(current_user)
    if request.method == "GET":
        form = SettingsForm(formdata=None, obj=saved)
        return render_template("safety/settings.html", form=form, has_codes=svc.has_codes(saved))
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            svc.save_settings(current_user, form.to_input())
        except svc.SafetyError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Safety settings saved.", "success")
            return redirect(url_for("safety.index"))
    return render_template("safety/settings.html", form=form,
                           has_codes=svc.has_codes(saved)), 422  # fmt: skip


# --- supervisors -----------------------------------------------------------------------------


@bp.route("/alarms")
@role_required("supervisor")
def alarms():
    """Open alarms and running check-ins of my sites."""
    open_alarms, running = svc.open_for_supervisor(current_user)
    return render_template("safety/alarms.html", alarms=open_alarms, running=running,
                           now=svc.utcnow(), kinds=ALARM_KINDS)  # fmt: skip


def _alarm_page(checkin, form=None, status=200):
    contact = svc.contact_of(checkin.worker_id)
    latest = svc.latest_position(checkin.id) if checkin.status in ("alarm", "closed") else None
    audit.record("safety.alarm_read", "safety_checkins", checkin.id,
                 subject_id=checkin.worker_id)  # fmt: skip
    db.session.commit()
    return render_template(
        "safety/alarm.html", c=checkin, form=form or CloseForm(formdata=None), contact=contact,
        position=latest, events=svc.alert_events(checkin), kinds=ALARM_KINDS,
        steps=ALERT_STEPS, phone=svc.display_phone,
    ), status  # fmt: skip


@bp.route("/alarms/<int:safety_checkin_id>", methods=["GET", "POST"])
@role_required("supervisor")
def alarm(safety_checkin_id: int):
    """One alarm or check-in of my sites: what happened, whom to call; close it with a note."""
    checkin = svc.checkin_for_supervisor_or_404(current_user, safety_checkin_id)
    if request.method == "GET":
        return _alarm_page(checkin)
    if checkin.status != "alarm":
        flash("Only an open alarm can be closed." if checkin.status != "closed"
              else "This alarm was already closed.", "warning")  # fmt: skip
        return redirect(url_for("safety.alarm", safety_checkin_id=checkin.id))
    form = CloseForm()
    if form.validate_on_submit():
        try:
            svc.close(current_user, checkin, form.note.data)
        except svc.SafetyError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Alarm closed: {checkin.worker.name}.", "success")
            return redirect(url_for("safety.alarms"))
    return _alarm_page(checkin, form, 422)

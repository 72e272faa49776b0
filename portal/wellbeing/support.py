"""Views: /support (the worker's requests), /support/new, /support/<id> (+ cancel), the
counsellors' /support/queue with acknowledge, notes, schedule and close, and
/support/contact-number (a worker's or counsellor's private number).

Only the worker who asked and the counsellors of their organisation reach a request; everyone
else gets 404. A counsellor's read is audited by request_or_404; the views commit it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from portal import phone
from portal.extensions import db
from portal.forms import ActionForm
from portal.models import CONTACT_METHODS, URGENCIES, SupportRequest
from portal.permissions import role_required
from portal.timeutil import local_today, local_zone, to_local, utcnow
from portal.wellbeing import bp
from portal.wellbeing import support_service as svc
from portal.wellbeing.access import own_or_404, request_or_404
from portal.wellbeing.support_alerts import alert_on_call
from portal.wellbeing.support_forms import ContactNumberForm, NoteForm, ScheduleForm, SupportForm

EXPIRED = "The form expired. Please try again."


@bp.context_processor
def support_words():
    """Wording helpers for the support pages (prefixed: the blueprint is shared)."""
    return {
        "support_status": svc.status_words,
        "support_next": svc.next_step,
        "support_source": svc.source_words,
        "support_ago": svc.time_since,
        "support_first_name": svc.first_name,
        "support_when": svc.when_text,
        "support_promise": svc.promise_text,
        "support_overdue_words": svc.overdue_words,
        "support_phone_text": phone.display,
        "support_urgencies": URGENCIES,
        "support_contacts": CONTACT_METHODS,
    }


@bp.route("/support")
@role_required("worker")
def support():
    """The worker's requests, newest first, with what happens next."""
    page = db.paginate(svc.worker_requests_select(current_user), per_page=20, error_out=False)
    return render_template("wellbeing/support_list.html", page=page)


@bp.route("/support/new", methods=["GET", "POST"])
@role_required("worker")
def support_new():
    """Ask for support; ?kind= preselects a kind and ?source=care_offer records where from."""
    source = svc.query_source(request.args.get("source"))
    form = SupportForm(today=local_today(), kind=svc.query_kind(request.args.get("kind")))
    if form.validate_on_submit():
        try:
            req, joined = svc.ask_or_join(current_user, form.to_input(), source, form.today)
        except svc.SupportError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()  # the request stands whatever the alert does
            alert_on_call(req)  # once per request: a joined one was alerted when first asked
            db.session.commit()
            if joined:
                flash("You already asked a few minutes ago: this was added to that open request, "
                      "and the counsellors see it there.", "success")  # fmt: skip
            else:
                flash("Your request is with the counsellors. Only they and you can see it.",
                      "success")  # fmt: skip
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "wellbeing/support_form.html",
        form=form,
        source=source,
        saved_phone=phone.display(current_user.contact_phone),
    ), status


@bp.route("/support/contact-number", methods=["GET", "POST"])
@role_required("worker", "counselor")
def support_phone():
    """Keep, change or remove one's private number (a worker's is for counsellors only)."""
    user = current_user._get_current_object()
    form = ContactNumberForm(data={"contact_phone": phone.display(user.contact_phone)})
    if form.validate_on_submit():
        user.contact_phone = phone.normalise(form.contact_phone.data)
        db.session.commit()
        flash("Number saved." if user.contact_phone else "Number removed.", "success")
        return redirect(url_for("wellbeing.support_phone"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "wellbeing/support_phone.html", form=form, counsellor=user.has_role("counselor")
    ), status


@bp.route("/support/queue")
@role_required("counselor")
def support_queue():
    """The organisation's requests: urgent first, then oldest; ?show=closed for closed ones."""
    closed = request.args.get("show") == "closed"
    page = db.paginate(
        svc.queue_select(current_user, closed=closed), per_page=svc.PER_PAGE, error_out=False
    )
    now = utcnow()
    overdue_ids = set() if closed else {r.id for r in page.items if svc.is_overdue(r, now)}
    return render_template(
        "wellbeing/support_queue.html", page=page, closed=closed, now=now, overdue_ids=overdue_ids
    )


@bp.route("/support/<int:request_id>")
@role_required("worker", "counselor")
def support_request(request_id: int):
    """One request: for the worker who asked, or a counsellor of their organisation (audited)."""
    req = request_or_404(current_user, request_id)
    db.session.commit()  # keep the audit of a counsellor's read
    return _request_page(req)


@bp.route("/support/<int:request_id>/cancel", methods=["POST"])
@role_required("worker")
def support_cancel(request_id: int):
    """The worker withdraws their own request while it is still waiting."""
    req = own_or_404(SupportRequest, request_id, current_user)
    return _move(req, svc.cancel, "Request cancelled.")


@bp.route("/support/<int:request_id>/acknowledge", methods=["POST"])
@role_required("counselor")
def support_acknowledge(request_id: int):
    """A counsellor takes the request."""
    req = request_or_404(current_user, request_id)
    return _move(req, svc.acknowledge, "Acknowledged: the worker sees that you have it.")


@bp.route("/support/<int:request_id>/close", methods=["POST"])
@role_required("counselor")
def support_close(request_id: int):
    """A counsellor closes the request (done, or no longer needed)."""
    req = request_or_404(current_user, request_id)
    return _move(req, svc.close, "Request closed.")


@bp.route("/support/<int:request_id>/notes", methods=["POST"])
@role_required("counselor")
def support_note(request_id: int):
    """A counsellor records contact made, or the plan."""
    req = request_or_404(current_user, request_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            svc.add_note(current_user, req, form.body.data)
        except svc.MoveError as exc:
            db.session.commit()
            flash(str(exc), "warning")
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
        except svc.SupportError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Note saved. The worker can read it.", "success")
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
    db.session.commit()  # the audited read stands; nothing else was changed
    return _request_page(req, note_form=form, status=422)


@bp.route("/support/<int:request_id>/schedule", methods=["POST"])
@role_required("counselor")
def support_schedule(request_id: int):
    """A counsellor sets (or moves) the time they will talk or meet, in local time."""
    req = request_or_404(current_user, request_id)
    try:
        svc.check_schedulable(req)  # the form is not on the page: say why, not "enter a date"
    except svc.MoveError as exc:
        db.session.commit()
        flash(str(exc), "warning")
        return redirect(url_for("wellbeing.support_request", request_id=req.id))
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            svc.schedule(current_user, req, form.day.data, form.time.data, local_zone())
        except svc.MoveError as exc:
            db.session.commit()
            flash(str(exc), "warning")
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
        except svc.SupportError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Scheduled for {svc.when_text(req.scheduled_for)}.", "success")
            return redirect(url_for("wellbeing.support_request", request_id=req.id))
    db.session.commit()  # the audited read stands; nothing else was changed
    return _request_page(req, schedule_form=form, status=422)


def _move(req: SupportRequest, move, done: str):
    """Apply a one-button status move, or flash why not; back to the request's page."""
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "warning")
    else:
        try:
            move(current_user, req)
        except svc.MoveError as exc:
            flash(str(exc), "warning")
        else:
            flash(done, "success")
    db.session.commit()  # the move, or only the audited read when it was refused
    return redirect(url_for("wellbeing.support_request", request_id=req.id))


def _checkin_url(req: SupportRequest) -> str | None:
    """A link to the check-in the request came from, where this viewer may open it.

    Guarded: the check-in page belongs to another part of the wellbeing feature.
    """
    checkin_id = svc.linked_checkin_id(req, current_user)
    if checkin_id is None:
        return None
    try:
        return url_for("wellbeing.checkin", checkin_id=checkin_id)
    except BuildError:
        return None


def _request_page(req, note_form=None, schedule_form=None, status=200):
    """The request's page, for its worker or for a counsellor."""
    owner = req.worker_id == current_user.id
    counsellor = not owner and current_user.has_role("counselor")
    now = utcnow()
    if schedule_form is None:
        schedule_form = ScheduleForm(formdata=None)
        if req.scheduled_for is not None:
            local = to_local(req.scheduled_for)
            schedule_form.day.data, schedule_form.time.data = local.date(), local.time()
    return render_template(
        "wellbeing/support_request.html",
        req=req,
        owner=owner,
        counsellor=counsellor,
        notes=svc.notes_of(req),
        checkin_url=_checkin_url(req),
        contact_phone=svc.contact_number_for(req, current_user),
        note_form=note_form or NoteForm(formdata=None),
        schedule_form=schedule_form,
        now=now,
        overdue=svc.is_overdue(req, now),
    ), status

"""Views: /training (a worker's courses), /hr/training/... (courses, sessions, who is due),
/training/completion (a leader's completion rates, aggregates only)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import audit
from portal.extensions import db
from portal.forms import ActionForm, choices, record_id
from portal.permissions import role_required
from portal.timeutil import local_today
from portal.training import bp, ledger, service, stats
from portal.training.forms import AttendeesForm, CourseForm, RequirementForm, SessionForm


@bp.app_template_filter("day_text")
def _day_text(day):
    return service.day_text(day)


def _status(code: int) -> int:
    return code if request.method == "POST" else 200


# --- the worker -------------------------------------------------------------------------------


@bp.route("/training")
@role_required("worker")
def index():
    """My required courses and where I stand, and the sessions I attended."""
    mine = service.standings(current_user.organisation_id, worker_id=current_user.id)
    lines = mine[0].lines if mine else []
    return render_template("training/index.html", lines=lines,
                           history=service.history(current_user.id))  # fmt: skip


# --- the leader -------------------------------------------------------------------------------


@bp.route("/training/completion")
@role_required("leader")
def completion():
    """Completion rates per course, the organisation's and each site's, small numbers hidden."""
    return render_template(
        "training/completion.html",
        rates=stats.completion_rates(current_user.organisation_id),
        today=local_today(),
    )


@bp.route("/training/completion.csv")
@role_required("leader")
def completion_csv():
    """The completion rates as CSV (hidden figures stay hidden)."""
    body = stats.rates_csv(stats.completion_rates(current_user.organisation_id))
    audit.record("export.training_completion", "organisations", current_user.organisation_id)
    db.session.commit()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="training-completion-{local_today()}.csv"'
    })  # fmt: skip


# --- HR: courses ------------------------------------------------------------------------------


def _course_input(form: CourseForm) -> service.CourseInput:
    return service.CourseInput(form.name.data, form.hours.data, form.renewal_months.data,
                               form.description.data or "", bool(form.active.data))  # fmt: skip


def _hr_page(course_form: CourseForm | None = None, status: int = 200):
    org = current_user.organisation_id
    return render_template(
        "training/hr_index.html",
        courses=service.org_courses(org),
        sessions=service.recent_sessions(org),
        form=course_form or CourseForm(formdata=None),
    ), status


@bp.route("/hr/training")
@role_required("hr")
def hr_index():
    """Courses with who they are required of, recent sessions, and the form to add a course."""
    return _hr_page()


@bp.route("/hr/training/courses", methods=["POST"])
@role_required("hr")
def add_course():
    """Add a course; a refusal shows the form again with its input."""
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = service.save_course(current_user, _course_input(form))
        except service.TrainingError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Added {course.name}. Now say who must take it.", "success")
            return redirect(url_for("training.course", course_id=course.id))
    return _hr_page(form, 422)


def _course_page(course, form=None, requirement_form=None, status=200):
    from portal.pay import standards

    return render_template(
        "training/course.html",
        course=course,
        form=form or CourseForm(formdata=None, obj=course),
        requirement_form=requirement_form or RequirementForm(formdata=None),
        titles=standards.job_titles(current_user.organisation_id),
    ), status


@bp.route("/hr/training/courses/<int:course_id>", methods=["GET", "POST"])
@role_required("hr")
def course(course_id: int):
    """A course: change it (POST), and who it is required of."""
    course = service.course_or_404(current_user, course_id)
    form = CourseForm(obj=course) if request.method == "POST" else None
    if form is not None and form.validate_on_submit():
        try:
            service.save_course(current_user, _course_input(form), course)
        except service.TrainingError as exc:
            db.session.rollback()
            course = service.course_or_404(current_user, course_id)
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Saved {course.name}.", "success")
            return redirect(url_for("training.course", course_id=course.id))
    return _course_page(course, form, status=_status(422))


@bp.route("/hr/training/courses/<int:course_id>/requirements", methods=["POST"])
@role_required("hr")
def add_requirement(course_id: int):
    """Require the course of a job title (or everyone)."""
    course = service.course_or_404(current_user, course_id)
    form = RequirementForm()
    if form.validate_on_submit():
        try:
            req = service.add_requirement(current_user, course, form.job_title.data or "",
                                          form.due_within_days.data)  # fmt: skip
        except service.TrainingError as exc:
            db.session.rollback()
            course = service.course_or_404(current_user, course_id)
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"{course.name} is now required of {req.job_title or 'everyone'}.", "success")
            return redirect(url_for("training.course", course_id=course.id))
    return _course_page(course, requirement_form=form, status=422)


@bp.route("/hr/training/courses/<int:course_id>/requirements/<int:requirement_id>/remove",
          methods=["POST"])  # fmt: skip
@role_required("hr")
def remove_requirement(course_id: int, requirement_id: int):
    """Stop requiring the course of a job title."""
    course = service.course_or_404(current_user, course_id)
    if ActionForm().validate_on_submit():
        if service.remove_requirement(current_user, course, requirement_id):
            db.session.commit()
            flash("Requirement removed.", "success")
        else:
            flash("That requirement was already removed.", "info")
    return redirect(url_for("training.course", course_id=course.id))


# --- HR: sessions -----------------------------------------------------------------------------


def _worker_choices(form, org: int) -> None:
    workers = service.org_workers(org)
    form.worker_ids.choices = choices(
        (w.id, f"{w.name}" + (f" ({w.site.name})" if w.site else "")) for w in workers
    )


def _flash_outcome(outcome: service.Outcome) -> None:
    if outcome.added:
        names = ", ".join(w.name for w in outcome.added)
        flash(f"Recorded {len(outcome.added)} attendee{'s' if len(outcome.added) != 1 else ''}"
              f" with a paid training shift each: {names}.", "success")  # fmt: skip
    if outcome.late:
        flash("This session is in a pay period already closed: its shifts are paid as "
              "adjustments with the next close.", "info")  # fmt: skip
    for message in outcome.refused:
        flash(message, "warning")


@bp.route("/hr/training/sessions/new", methods=["GET", "POST"])
@role_required("hr")
def new_session():
    """Record a session held and who attended (each gets an approved, paid training shift)."""
    org = current_user.organisation_id
    form = SessionForm()
    form.course_id.choices = choices(
        [("", "Choose a course")] + [(c.id, c.name) for c in service.org_courses(org) if c.active]
    )
    form.site_id.choices = choices(
        [("", "Choose a site")] + [(s.id, s.name) for s in service.org_sites(org)]
    )
    _worker_choices(form, org)
    if request.method == "GET":
        form.course_id.data = request.args.get("course", type=int)
    if form.validate_on_submit():
        data = service.SessionInput(
            form.course_id.data, form.site_id.data, form.day.data, form.start_time.data,
            form.end_time.data, form.break_minutes.data, form.trainer.data or "",
            list(form.worker_ids.data or []),
        )  # fmt: skip
        try:
            session, outcome = service.record_session(current_user, data)
        except service.TrainingError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Session recorded: {session.course.name}, {service.when_text(session.start_at)}.", "success")  # noqa: E501
            _flash_outcome(outcome)
            return redirect(url_for("training.session", session_id=session.id))
    return render_template("training/new_session.html", form=form), _status(422)


@bp.route("/hr/training/sessions/<int:session_id>", methods=["GET", "POST"])
@role_required("hr")
def session(session_id: int):
    """A session and who attended; add attendees (POST)."""
    session = service.session_or_404(current_user, session_id)
    form = AttendeesForm()
    _worker_choices(form, current_user.organisation_id)
    present = {a.worker_id for a in session.attendances}
    form.worker_ids.choices = [c for c in form.worker_ids.choices if c.value not in present]
    if form.validate_on_submit():
        if not form.worker_ids.data:
            form.add_errors({"worker_ids": ["Tick at least one person who attended."]})
        else:
            outcome = service.add_attendees(current_user, session, list(form.worker_ids.data))
            db.session.commit()
            _flash_outcome(outcome)
            return redirect(url_for("training.session", session_id=session.id))
    attendances = sorted(session.attendances, key=lambda a: a.worker.name)
    return render_template("training/session.html", session=session, form=form,
                           attendances=attendances), _status(422)  # fmt: skip


@bp.route("/hr/training/attendances/<int:attendance_id>/remove", methods=["POST"])
@role_required("hr")
def remove_attendance(attendance_id: int):
    """Take a worker off a session and remove its unpaid shift; refused once paid."""
    attendance = service.attendance_or_404(current_user, attendance_id)
    session_id = attendance.session_id
    if ActionForm().validate_on_submit():
        name = attendance.worker.name
        try:
            service.remove_attendance(current_user, attendance)
        except service.TrainingError as exc:
            db.session.rollback()
            for message in exc.errors.get("", []):
                flash(message, "error")
        else:
            db.session.commit()
            flash(f"Removed {name} from the session, with its training shift.", "success")
    return redirect(url_for("training.session", session_id=session_id))


# --- HR: who is due ---------------------------------------------------------------------------


def _due_filters() -> dict:
    """The list's filters from the query string (anything unknown is ignored)."""
    try:
        site = record_id(request.args.get("site", ""))
    except ValueError:
        site = None
    status = request.args.get("status", "")
    return {"site": site, "title": request.args.get("title", "")[:80],
            "status": status if status in ledger.STATUSES else ""}  # fmt: skip


def _due():
    f = _due_filters()
    return f, service.due_list(current_user.organisation_id, f["site"], f["title"] or None,
                               f["status"] or None)  # fmt: skip


@bp.route("/hr/training/due")
@role_required("hr")
def hr_due():
    """Who is due: each worker's required courses, most urgent first, filtered."""
    filters, due = _due()
    return render_template("training/due.html", due=due, filters=filters,
                           statuses=ledger.STATUSES,
                           query={k: v for k, v in filters.items() if v})  # fmt: skip


@bp.route("/hr/training/due.csv")
@role_required("hr")
def hr_due_csv():
    """Who is due, with the page's filters, as CSV."""
    _filters, due = _due()
    body = service.due_csv(due)
    audit.record("export.training_due", "organisations", current_user.organisation_id)
    db.session.commit()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="training-due-{local_today()}.csv"'
    })  # fmt: skip

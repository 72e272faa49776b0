"""Views: /hr (workers and their rates), /hr/workers/<id>, /hr/policy."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.forms import ActionForm
from portal.hr import bp
from portal.hr.forms import (
    DifferentialForm,
    JobTitleForm,
    OnCallForm,
    PolicyForm,
    RateForm,
    StipendForm,
)
from portal.models import SHIFT_TYPES
from portal.pay import rates as svc
from portal.pay import service as pay_service
from portal.pay import standards
from portal.permissions import role_required
from portal.timeutil import local_today
from portal.wellbeing.support_service import wellness_days_off


@bp.context_processor
def formatting():
    """Rate and date wording shared with flash messages: "$18.50/h", "Jan 1, 2026"."""
    return {"rate_text": svc.rate_text, "day_text": svc.day_text}


@bp.route("/")
@role_required("hr")
def index():
    """What is due (periods to close, approvals, workers blocked for a rate), then the
    organisation's workers with their classification, current rate and next change."""
    today = local_today()
    lines = svc.roster(current_user.organisation_id, today)
    days_off = wellness_days_off(current_user.organisation_id)
    due = pay_service.due_for_hr(current_user.organisation_id, today)
    return render_template(
        "hr/index.html", lines=lines, today=today, days_off=days_off, due=due
    )


def _requested_day(text: str) -> date | None:
    """A ?effective_from=YYYY-MM-DD from a fix link, or None (anything else is ignored)."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


@bp.route("/workers/<int:user_id>", methods=["GET", "POST"])
@role_required("hr")
def worker(user_id: int):
    """A worker's rate history, newest first, and the form to add a change."""
    person = svc.worker_or_404(current_user, user_id)
    today = local_today()
    history = svc.rate_history(person.id, current_user.organisation_id)
    current = next((r for r in history if r.effective_from <= today), None)
    # A "fix" link names the day a back-dated rate must start from to pay the waiting shifts.
    suggested = _requested_day(request.args.get("effective_from", ""))
    form = RateForm(
        effective_from=suggested or today,
        classification=current.classification if current else "employee_nonexempt",
    )
    if form.validate_on_submit():
        try:
            rate = svc.add_rate(
                current_user,
                person,
                form.effective_from.data,
                form.classification.data,
                form.amount,
                form.reason.data,
                today=today,
            )
        except svc.PaySettingError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            when = "scheduled from" if rate.effective_from > today else "from"
            flash(
                f"Saved: {person.name}, {rate.classification_label}, {svc.rate_text(rate)} "
                f"{when} {svc.day_text(rate.effective_from)}.",
                "success",
            )
            return redirect(url_for("hr.worker", user_id=person.id))
    return render_template(
        "hr/worker.html",
        suggested=suggested,
        person=person,
        history=history,
        current=current,
        today=today,
        form=form,
        minimum=svc.minimum_wage_on(today),
        title_form=JobTitleForm(job_title=person.job_title),
        titles=standards.job_titles(current_user.organisation_id),
    ), (422 if request.method == "POST" else 200)


def _policy_page(
    policy_form=None, differential_form=None, stipend_form=None, status=200, on_call_form=None
):
    """The policy page; the form that was just refused keeps its input and errors."""
    org = current_user.organisation_id
    policy = svc.policy_for(org)
    if on_call_form is None:
        on_call_form = OnCallForm(
            formdata=None,
            on_call_mode="restrictive" if policy.on_call_restrictive else "stipend",
            on_call_stipend=policy.on_call_stipend,
        )
    if policy_form is None:
        policy_form = PolicyForm(formdata=None, obj=policy)
    if stipend_form is None:
        stipend_form = StipendForm(formdata=None, data=svc.stipends(org))
    return render_template(
        "hr/policy.html",
        policy=policy,
        saved=svc.saved_policy(org) is not None,
        policy_form=policy_form,
        differentials=svc.differentials(org),
        differential_form=differential_form or DifferentialForm(formdata=None),
        stipend_form=stipend_form,
        on_call_form=on_call_form,
        shift_types=SHIFT_TYPES,
    ), status


@bp.route("/policy", methods=["GET", "POST"])
@role_required("hr")
def policy():
    """The organisation's pay policy, differentials and stipends."""
    if request.method == "GET":
        return _policy_page()
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            svc.save_policy(
                current_user,
                form.workweek_start.data,
                form.period_days.data,
                form.period_anchor.data,
                form.overtime_threshold.data,
                form.overtime_multiplier.data,
            )
        except svc.PaySettingError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Pay policy saved.", "success")
            return redirect(url_for("hr.policy"))
    return _policy_page(policy_form=form, status=422)


@bp.route("/policy/differentials", methods=["POST"])
@role_required("hr")
def add_differential():
    """Add a differential: extra pay per hour inside a daily window."""
    form = DifferentialForm()
    if form.validate_on_submit():
        try:
            diff = svc.add_differential(
                current_user,
                form.name.data,
                form.start_time.data,
                form.end_time.data,
                form.per_hour.data,
            )
        except svc.PaySettingError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Differential added: {diff.name}.", "success")
            return redirect(url_for("hr.policy", _anchor="differentials-heading"))
    return _policy_page(differential_form=form, status=422)


@bp.route("/policy/differentials/<int:differential_id>/remove", methods=["POST"])
@role_required("hr")
def remove_differential(differential_id: int):
    """Remove a differential (an unknown one, e.g. after a double click, is already gone)."""
    if ActionForm().validate_on_submit():
        removed = svc.remove_differential(current_user, differential_id)
        db.session.commit()
        if removed is not None:
            flash(f"Differential removed: {removed.name}.", "success")
        else:
            flash("That differential was already removed.", "info")
    return redirect(url_for("hr.policy", _anchor="differentials-heading"))


@bp.route("/policy/stipends", methods=["POST"])
@role_required("hr")
def save_stipends():
    """Save the stipend of every shift type at once."""
    form = StipendForm()
    if form.validate_on_submit():
        try:
            svc.save_stipends(current_user, form.amounts())
        except svc.PaySettingError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Stipends saved.", "success")
            return redirect(url_for("hr.policy", _anchor="stipends-heading"))
    return _policy_page(stipend_form=form, status=422)


@bp.route("/policy/on-call", methods=["POST"])
@role_required("hr")
def save_on_call():
    """How on-call time is paid: restrictive (hours worked) or a stipend per period."""
    form = OnCallForm()
    if form.validate_on_submit():
        try:
            svc.save_on_call(
                current_user, form.on_call_mode.data == "restrictive", form.on_call_stipend.data
            )
        except svc.PaySettingError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("On-call pay saved.", "success")
            return redirect(url_for("hr.policy", _anchor="on-call-heading"))
    return _policy_page(on_call_form=form, status=422)

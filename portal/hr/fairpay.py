"""Views: /hr/fair-pay (workers against floor and target), its CSV, and the standards HR picks."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import audit
from portal.auth.reauth import recent_auth_required
from portal.extensions import db
from portal.forms import ActionForm
from portal.hr import bp
from portal.hr.forms import JobTitleForm, StandardForm
from portal.models import CLASSIFICATIONS
from portal.pay import fairness, standards
from portal.pay import whatif as whatif_svc
from portal.pay.rates import worker_or_404
from portal.permissions import role_required
from portal.timeutil import local_today

FILTERS = ("site", "title", "classification", "below")
PER_PAGE = 100  # rows shown at once; totals and the CSV cover everyone
# A what-if sent to re-authenticate comes back with these filled in (the page reads them).
WHATIF_FIELDS = ("scenario", "title", "percent", "floor", "effective_from", "reason")


def _filters() -> dict:
    return {k: request.args.get(k, "").strip() for k in FILTERS}


@bp.route("/fair-pay")
@role_required("hr")
def fair_pay():
    """Every active worker against the floor and their title's target, largest gaps first."""
    filters = _filters()
    report = fairness.fair_pay(current_user.organisation_id, local_today(), filters)
    page = max(1, request.args.get("page", 1, type=int))
    pages = max(1, -(-len(report.rows) // PER_PAGE))
    page = min(page, pages)
    rows = report.rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    return render_template(
        "hr/fair_pay.html", report=report, rows=rows, page=page, pages=pages,
        filters=filters, classifications=CLASSIFICATIONS,
    )  # fmt: skip


@bp.route("/fair-pay.csv")
@role_required("hr")
def fair_pay_csv():
    """The fair-pay rows, with the page's filters, as CSV."""
    report = fairness.fair_pay(current_user.organisation_id, local_today(), _filters())
    body = fairness.report_csv(report)
    audit.record("export.fair_pay", "organisations", current_user.organisation_id)
    db.session.commit()
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="fair-pay-{report.day:%Y-%m-%d}.csv"'
        },
    )


def _standards_page(floor_form=None, target_form=None, status=200):
    org = current_user.organisation_id
    today = local_today()
    figures = standards.benchmark_choices(today)
    return render_template(
        "hr/standards.html",
        floor_form=floor_form or StandardForm(benchmarks=figures, effective_from=today),
        target_form=target_form or StandardForm(benchmarks=figures, effective_from=today),
        overview=standards.overview(org, today),
        titles=standards.job_titles(org),
    ), status


@bp.route("/fair-pay/standards")
@role_required("hr")
def standards_page():
    """The organisation's floor and each job title's target, current, scheduled and past."""
    return _standards_page()


@bp.route("/fair-pay/standards/<role>", methods=["POST"])
@role_required("hr")
def save_standard(role: str):
    """Choose the floor, or a job title's target, from a date."""
    if role not in ("floor", "target"):
        return redirect(url_for("hr.standards_page"))
    form = StandardForm(benchmarks=standards.benchmark_choices(local_today()))
    if form.validate_on_submit():
        try:
            chosen = standards.choose(
                current_user,
                role,
                form.benchmark_name.data,
                form.effective_from.data,
                form.job_title.data if role == "target" else None,
                form.reason.data or "",
            )
        except standards.StandardError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            what = "floor" if role == "floor" else f"target for {chosen.job_title}"
            flash(
                f"Saved the {what}: {chosen.benchmark_name} from "
                f"{chosen.effective_from:%b %-d, %Y}.",
                "success",
            )
            return redirect(url_for("hr.standards_page"))
    forms = {"floor_form": form} if role == "floor" else {"target_form": form}
    return _standards_page(status=422, **forms)


@bp.route("/workers/<int:user_id>/job-title", methods=["POST"])
@role_required("hr")
def job_title(user_id: int):
    """Set a worker's job title (their target follows it)."""
    person = worker_or_404(current_user, user_id)
    form = JobTitleForm()
    if form.validate_on_submit():
        person.job_title = form.job_title.data or None
        audit.record("user.job_title_changed", "users", person.id, subject_id=person.id)
        db.session.commit()
        flash(f"{person.name}'s job title is now {person.job_title or 'not set'}.", "success")
    else:
        flash(" ".join(form.job_title.errors) or "The job title could not be saved.", "warning")
    return redirect(url_for("hr.worker", user_id=person.id))


@bp.route("/fair-pay/what-if", methods=["GET", "POST"])
@role_required("hr")
@recent_auth_required("apply raises", keep=WHATIF_FIELDS)
def whatif():
    """Price a raise before anything is saved (GET); apply it as scheduled changes (POST)."""
    source = request.form if request.method == "POST" else request.args
    scenario, errors = None, {}
    titles = standards.job_titles(current_user.organisation_id)
    today = local_today()
    try:
        kind, percent, title, floor = whatif_svc.parse(source)
        scenario = whatif_svc.price(
            current_user.organisation_id, today, kind, percent, title, floor
        )
    except whatif_svc.WhatIfError as exc:
        errors = exc.errors if source.get("scenario") or request.method == "POST" else {}
    status = 200
    if request.method == "POST" and scenario is not None:
        if not ActionForm().validate_on_submit():
            return redirect(url_for("hr.whatif"))
        try:
            day = date.fromisoformat(request.form.get("effective_from", ""))
        except ValueError:
            day = None
        try:
            count = whatif_svc.apply(current_user, scenario, day, request.form.get("reason", ""))
        except whatif_svc.WhatIfError as exc:
            db.session.rollback()
            errors, status = exc.errors, 422
        else:
            db.session.commit()
            flash(
                f"Scheduled {count} rate change{'s' if count != 1 else ''} from {day:%b %-d, %Y}.",
                "success",
            )
            return redirect(url_for("hr.fair_pay"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "hr/whatif.html", scenario=scenario, errors=errors, args=source, titles=titles,
        scenarios=whatif_svc.SCENARIOS, today=today, form=ActionForm(),
    ), status  # fmt: skip

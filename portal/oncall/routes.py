"""Views: /oncall (a worker's on call), /oncall/periods/<id>, swaps, /oncall/rota (supervisors)."""

from __future__ import annotations

from datetime import date, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.extensions import db
from portal.forms import ActionForm
from portal.oncall import bp
from portal.oncall import service as svc
from portal.oncall.forms import NoteForm, PeriodForm, StopForm, SwapForm
from portal.permissions import role_required


@bp.context_processor
def week_helpers():
    """Week arithmetic for the week links, and now (is a period under way?)."""
    return {"timedelta": timedelta, "now_utc": svc.utcnow()}


@bp.app_template_filter("oncall_span")
def oncall_span(period) -> str:
    """A period's span on the local clock: "Sat Dec 5 18:00–Sun Dec 6 06:00"."""
    return svc.span_text(period.start_at, period.end_at)


@bp.route("")
@role_required("worker")
def index():
    """My upcoming on-call periods, open swaps, and my site's published rota for a week."""
    week = svc.requested_week(
        request.args.get("week"), svc.workweek_start_day(current_user.organisation_id)
    )
    rota = (
        svc.site_rota(current_user.site_id, week, published_only=True)
        if current_user.site_id
        else []
    )
    return render_template(
        "oncall/index.html",
        upcoming=svc.upcoming_for(current_user),
        swaps=svc.open_swaps_for_worker(current_user),
        rota=rota,
        week=week,
        note_form=NoteForm(formdata=None),
    )


def _period_page(period, form=None, status=200, stop_form=None):
    own = period.worker_id == current_user.id
    if form is None and own and period.is_published:
        form = SwapForm(formdata=None, colleagues=svc.colleagues(current_user))
    stop = svc.stop_action(period) if svc.supervises(current_user, period) else None
    if stop_form is None and stop:
        stop_form = StopForm.for_period(period.id, formdata=None)
    return render_template("oncall/period.html", period=period, own=own, form=form,
                           started=period.start_at <= svc.utcnow(), stop=stop,
                           stop_form=stop_form), status  # fmt: skip


@bp.route("/periods/<int:on_call_id>")
@login_required
def period(on_call_id: int):
    """One on-call period: its worker (to ask for a swap), or a supervisor of its site."""
    return _period_page(svc.visible_period_or_404(current_user, on_call_id))


@bp.route("/periods/<int:on_call_id>/swap", methods=["POST"])
@role_required("worker")
def ask_swap(on_call_id: int):
    """Ask a colleague of my site to take this period."""
    period = svc.visible_period_or_404(current_user, on_call_id)
    if period.worker_id != current_user.id:
        abort(404)
    form = SwapForm(colleagues=svc.colleagues(current_user))
    if form.validate_on_submit():
        try:
            swap = svc.ask_swap(current_user, period, form.to_worker_id.data, form.reason.data)
        except svc.OnCallError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Asked {swap.to_worker.name}. You stay on call until they accept and your "
                  "supervisor approves.", "success")  # fmt: skip
            return redirect(url_for("oncall.index"))
    return _period_page(period, form, 422)


def _worker_swap_action(swap_id: int, action: str):
    swap = svc.swap_for_worker_or_404(current_user, swap_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(" ".join(m for msgs in form.errors.values() for m in msgs) or "Try again.", "warning")
        return redirect(url_for("oncall.index"))
    try:
        if action == "withdraw":
            done = svc.withdraw_swap(current_user, swap)
            message = "Swap request withdrawn." if done else "That request was no longer open."
        else:
            svc.answer_swap(current_user, swap, action == "accept", form.reason.data)
            message = ("Accepted: the supervisor approves it next." if action == "accept"
                       else "Declined. They stay on call.")  # fmt: skip
    except svc.OnCallError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("oncall.index"))


@bp.route("/swaps/<int:swap_id>/accept", methods=["POST"])
@role_required("worker")
def accept_swap(swap_id: int):
    """Accept to take a colleague's period (a supervisor approves next)."""
    return _worker_swap_action(swap_id, "accept")


@bp.route("/swaps/<int:swap_id>/decline", methods=["POST"])
@role_required("worker")
def decline_swap(swap_id: int):
    """Decline a colleague's request."""
    return _worker_swap_action(swap_id, "decline")


@bp.route("/swaps/<int:swap_id>/withdraw", methods=["POST"])
@role_required("worker")
def withdraw_swap(swap_id: int):
    """Withdraw my own open request."""
    return _worker_swap_action(swap_id, "withdraw")


# --- supervisors ----------------------------------------------------------------------------------


def _site_and_week(site_id: int | None, week: date | None = None):
    sites = svc.supervisor_sites(current_user)
    if site_id is None:
        site = sites[0] if sites else None
    else:
        site = next((s for s in sites if s.id == site_id), None)
        if site is None:
            abort(404)
    if week is None:
        week = svc.requested_week(
            request.args.get("week"), svc.workweek_start_day(current_user.organisation_id)
        )
    return sites, site, week


def _rota_page(site_id: int | None, form: PeriodForm | None = None, status: int = 200,
               refused: tuple[int, StopForm] | None = None,
               week: date | None = None):  # fmt: skip
    sites, site, week = _site_and_week(site_id, week)
    workers = svc.site_workers(current_user.organisation_id, site.id) if site else []
    if form is None:
        form = PeriodForm(formdata=None, workers=workers, start_day=week + timedelta(days=5),
                          start_time=time(18), end_day=week + timedelta(days=6),
                          end_time=time(6))  # fmt: skip
    periods = svc.site_rota(site.id, week, published_only=False) if site else []
    now = svc.utcnow()
    stops = {p.id: svc.stop_action(p, now) for p in periods}
    stop_forms = {pid: StopForm.for_period(pid, formdata=None) for pid, a in stops.items() if a}
    if refused is not None:
        stop_forms[refused[0]] = refused[1]
    return render_template(
        "oncall/rota.html", sites=sites, site=site, week=week, periods=periods, form=form,
        drafts=sum(1 for p in periods if p.status == "draft"), stops=stops,
        stop_forms=stop_forms, swaps=svc.swaps_to_decide(current_user),
        note_form=NoteForm(formdata=None),
    ), status  # fmt: skip


@bp.route("/rota")
@role_required("supervisor")
def rota():
    """A site's rota for a week (drafts and published), the add form, swaps to approve."""
    return _rota_page(request.args.get("site", type=int))


@bp.route("/rota/sites/<int:site_id>/periods", methods=["POST"])
@role_required("supervisor")
def add_period(site_id: int):
    """Add a draft period to the site's rota."""
    _sites, site, week = _site_and_week(site_id)
    form = PeriodForm(workers=svc.site_workers(current_user.organisation_id, site.id))
    if form.validate_on_submit():
        try:
            period = svc.add_period(current_user, site, form.to_input())
        except svc.OnCallError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Added {period.worker.name}, {oncall_span(period)} (draft: publish the week "
                  "to tell them).", "success")  # fmt: skip
            return redirect(url_for("oncall.rota", site=site.id, week=week.isoformat()))
    return _rota_page(site_id, form, 422)


@bp.route("/rota/periods/<int:on_call_id>/remove", methods=["POST"])
@role_required("supervisor")
def remove_period(on_call_id: int):
    """Remove a draft period."""
    period = svc.period_for_supervisor_or_404(current_user, on_call_id)
    week = svc.week_of(svc.to_local(period.start_at).date(),
                       svc.workweek_start_day(current_user.organisation_id))  # fmt: skip
    if ActionForm().validate_on_submit():
        try:
            svc.remove_period(current_user, period)
        except svc.OnCallError as exc:
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash("Draft period removed.", "success")
    return redirect(url_for("oncall.rota", site=period.site_id, week=week.isoformat()))


def _stop(on_call_id: int, action: str):
    """Cancel or end a published period with a reason; a refusal shows the page it came from
    again (?from=period: the period's page, else its week of the rota) with the reason kept."""
    period = svc.period_for_supervisor_or_404(current_user, on_call_id)
    form = StopForm.for_period(period.id)
    if form.validate_on_submit():
        try:
            stop = svc.cancel_period if action == "cancel" else svc.end_period_now
            stop(current_user, period, form.reason.data)
        except svc.OnCallError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(_stopped_message(period), "success")
            if request.args.get("from") == "period":
                return redirect(url_for("oncall.period", on_call_id=period.id))
            return redirect(_rota_week_url(period))
    if request.args.get("from") == "period":
        return _period_page(period, status=422, stop_form=form)
    return _rota_page(period.site_id, status=422, refused=(period.id, form),
                      week=_week_of(period))  # fmt: skip


def _stopped_message(period) -> str:
    name = period.worker.name
    if period.is_cancelled:
        return f"Cancelled {name}'s on-call period {oncall_span(period)}; they were mailed."
    return (f"Ended {name}'s on-call period at {svc.to_local(period.end_at):%H:%M}: the time "
            "on call until now is paid. They were mailed.")  # fmt: skip


def _week_of(period) -> date:
    """The rota week a period starts in (its row is on that week's page)."""
    return svc.week_of(svc.to_local(period.start_at).date(),
                       svc.workweek_start_day(current_user.organisation_id))  # fmt: skip


def _rota_week_url(period) -> str:
    return url_for("oncall.rota", site=period.site_id, week=_week_of(period).isoformat())


@bp.route("/rota/periods/<int:on_call_id>/cancel", methods=["POST"])
@role_required("supervisor")
def cancel_period(on_call_id: int):
    """Cancel a published period that has not started, with a reason its worker is mailed."""
    return _stop(on_call_id, "cancel")


@bp.route("/rota/periods/<int:on_call_id>/end", methods=["POST"])
@role_required("supervisor")
def end_period(on_call_id: int):
    """End a published period under way now, with a reason; the time until now is paid."""
    return _stop(on_call_id, "end")


@bp.route("/rota/sites/<int:site_id>/publish", methods=["POST"])
@role_required("supervisor")
def publish(site_id: int):
    """Publish the week's drafts: their workers see them and get a mail."""
    _sites, site, week = _site_and_week(site_id)
    if ActionForm().validate_on_submit():
        published = svc.publish_week(current_user, site, week)
        db.session.commit()
        if published:
            people = len({p.worker_id for p in published})
            plural = "s" if len(published) != 1 else ""
            who = "workers were" if people != 1 else "worker was"
            flash(f"Published {len(published)} period{plural}; {people} {who} mailed.", "success")
        else:
            flash("Nothing to publish: the week has no draft periods.", "info")
    return redirect(url_for("oncall.rota", site=site.id, week=week.isoformat()))


def _decide(swap_id: int, approve: bool):
    swap = svc.swap_for_supervisor_or_404(current_user, swap_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            svc.decide_swap(current_user, swap, approve, form.reason.data)
        except svc.OnCallError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash("Swap approved: the rota is changed and both were mailed." if approve
                  else "Swap declined; both were mailed.", "success")  # fmt: skip
    else:
        flash(" ".join(m for msgs in form.errors.values() for m in msgs) or "Try again.", "warning")
    week = svc.to_local(swap.period.start_at).date().isoformat()
    return redirect(url_for("oncall.rota", site=swap.period.site_id, week=week))


@bp.route("/swaps/<int:swap_id>/approve", methods=["POST"])
@role_required("supervisor")
def approve_swap(swap_id: int):
    """Approve a swap both workers agreed to: the period changes worker."""
    return _decide(swap_id, True)


@bp.route("/swaps/<int:swap_id>/refuse", methods=["POST"])
@role_required("supervisor")
def refuse_swap(swap_id: int):
    """Decline a swap: the first worker stays on call."""
    return _decide(swap_id, False)

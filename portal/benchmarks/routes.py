"""Views: /hr/benchmarks/ (every figure with its source) and /hr/benchmarks/import."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.benchmarks import bp
from portal.benchmarks import service as svc
from portal.benchmarks.forms import ImportForm
from portal.extensions import db
from portal.pay.rates import day_text
from portal.permissions import role_required
from portal.timeutil import local_today


def url_host(url: str) -> str:
    """The site a link goes to ("www.bls.gov"), shown beside a source's name."""
    return urlsplit(url).hostname or ""


@bp.context_processor
def helpers():
    """Wording shared by the benchmark pages."""
    return {"url_host": url_host, "day_text": day_text}


@bp.route("/")
@role_required("hr")
def index():
    """Every figure, by kind and name, newest effective date first, with its source."""
    today = local_today()
    return render_template("benchmarks/index.html", groups=svc.figures_by_kind(today), today=today)


@bp.route("/import", methods=["GET", "POST"])
@role_required("hr")
def import_csv():
    """Import a CSV file of figures, all or nothing; a refusal lists every problem."""
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        try:
            text = svc.read_upload(form.file.data.stream) if form.file.data else form.text.data
            result = svc.import_csv(text, current_user)
        except svc.BenchmarkImportError as exc:
            problems = exc.problems
        else:
            db.session.commit()
            flash(
                f"Imported {result.added} new figure{'' if result.added == 1 else 's'}; "
                f"{result.unchanged} {'was' if result.unchanged == 1 else 'were'} already there.",
                "success",
            )
            return redirect(url_for("benchmarks.index"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "benchmarks/import.html", form=form, problems=problems, columns=svc.COLUMNS
    ), status

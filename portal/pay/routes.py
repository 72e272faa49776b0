"""Views: /pay and /pay/statements/<id>."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from portal.kept_pages import kept
from portal.models import SHIFT_TYPES
from portal.pay import bp
from portal.pay import service as svc
from portal.permissions import role_required


@bp.route("/pay")
@role_required("worker")
@kept
def index():
    """This period so far, week by week and shift by shift; past statements; the year to date."""
    pay = svc.worker_pay(current_user)
    return render_template("pay/index.html", pay=pay, shift_types=SHIFT_TYPES)


@bp.route("/pay/statements/<int:statement_id>")
@login_required
def statement(statement_id: int):
    """A frozen statement: its worker, or HR of the same organisation, sees it."""
    st_ = svc.statement_or_404(current_user, statement_id)
    return render_template("pay/statement.html", st=st_, shift_types=SHIFT_TYPES)

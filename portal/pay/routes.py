"""Views: /pay and /pay/statements/<id>."""

from flask import render_template

from portal.pay import bp
from portal.permissions import role_required


@bp.route("/pay")
@role_required("worker")
def index():
    """This period so far, past statements and the year to date (being built)."""
    return render_template("pay/index.html")

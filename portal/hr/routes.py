"""Views: /hr (people and their rates), /hr/policy."""

from flask import render_template

from portal.hr import bp
from portal.permissions import role_required


@bp.route("/")
@role_required("hr")
def index():
    """People and their current rates (being built)."""
    return render_template("hr/index.html")

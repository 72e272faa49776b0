"""Views: /admin/audit (the audit log, filtered and paged) and /admin/audit.csv (its export).

Read only, GET only: there is no route to change or delete an event.
"""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context

from portal import audit
from portal.admin import audit_service as svc
from portal.admin import bp
from portal.admin.audit_forms import AuditFilterForm
from portal.extensions import db
from portal.forms import requested_page
from portal.permissions import role_required


@bp.route("/audit")
@role_required("admin")
def audit_log():
    """Who did what, newest first; a refused filter is shown on the form (422), never a 500."""
    form = AuditFilterForm(request.args)
    try:
        filters = svc.parse_filters(request.args)
    except svc.FilterError as exc:
        form.add_errors(exc.errors)
        return render_template("admin/audit.html", form=form, page=None, filters=None), 422
    page = svc.page_of(filters, requested_page())
    return render_template("admin/audit.html", form=form, page=page, filters=filters)


@bp.route("/audit.csv")
@role_required("admin")
def audit_csv():
    """The filtered events as CSV; the download itself is audited."""
    try:
        filters = svc.parse_filters(request.args)
    except svc.FilterError as exc:
        return Response(str(exc) + "\n", status=422, mimetype="text/plain")
    audit.record("export.audit_log", "audit_events")
    db.session.commit()
    return Response(
        stream_with_context(svc.csv_lines(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="fairshift-audit-log.csv"'},
    )

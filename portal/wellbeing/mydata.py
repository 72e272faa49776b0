"""Views: /my-data — everything the portal holds about the worker, and who has viewed it."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, render_template
from flask_login import current_user, login_required

from portal import audit
from portal.extensions import db
from portal.wellbeing import bp
from portal.wellbeing import mydata_service as svc


@bp.route("/my-data")
@login_required
def my_data():
    """Download your data; see who has read your wellbeing records, and when."""
    return render_template("wellbeing/my_data.html", views=svc.who_viewed(current_user))


@bp.route("/my-data.json")
@login_required
def my_data_json():
    """Everything the portal holds about you, as JSON."""
    data = svc.everything(current_user)
    audit.record("export.my_data", "users", current_user.id, subject_id=current_user.id)
    db.session.commit()
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="fairshift-my-data.json"'},
    )


@bp.route("/my-data.csv")
@login_required
def my_data_csv():
    """Everything the portal holds about you, as CSV (one row per field of each record)."""
    data = svc.everything(current_user)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["record_type", "record_id", "field", "value"])
    for record_type, records in data.items():
        for record in records if isinstance(records, list) else [records]:
            for field, value in record.items():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if text[:1] in ("=", "+", "-", "@"):
                    text = "'" + text
                writer.writerow([record_type, record.get("id", ""), field, text])
    audit.record("export.my_data", "users", current_user.id, subject_id=current_user.id)
    db.session.commit()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="fairshift-my-data.csv"'},
    )

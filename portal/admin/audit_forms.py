"""The audit log's filter form (a GET form: nothing is changed, so no CSRF token)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.widgets import DateInput

from portal.forms import ServiceForm


class AuditFilterForm(ServiceForm):
    """Action prefix, actor, outcome and a date range; audit_service.parse_filters checks them."""

    class Meta:
        csrf = False

    action = StringField(
        "Action starts with",
        description="e.g. user. for account changes, export. for downloads.",
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    actor = StringField("Who (name or e-mail)", render_kw={"autocapitalize": "none"})
    outcome = StringField("Outcome", description="e.g. ok, failed.")
    start = StringField("From", widget=DateInput())
    end = StringField("To", widget=DateInput(), description="Both days included, local time.")

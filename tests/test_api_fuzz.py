"""Schemathesis against the API's own OpenAPI document: what /api/v1/openapi.json promises is
what the API answers, for generated (valid and invalid) requests with a real bearer token.

The schema is the one the application serves, read through its WSGI interface. Every operation
is called with a leader's and with a funder's token (issued as an administrator would); the
checks are schemathesis's defaults: no 5xx, a documented status code, a documented content type
and headers, a body that matches the response schema, invalid input refused with a 4xx, and
a call without the token refused with 401.

Examples per operation and token: API_FUZZ_EXAMPLES (default 25), derandomized so CI is
repeatable; set FUZZ_RANDOM=1 (and a larger API_FUZZ_EXAMPLES) to explore.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from portal import create_app
from portal.api import service
from portal.extensions import db
from portal.models import User
from tests.factories import local, make_shift

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("FUZZ_RANDOM", "") not in ("", "0")
TOKEN_HOLDERS = {"leader": "leader", "funder": "funder_city"}  # role -> world person


# A schema-valid request may still be refused with 422, as documented: a range whose end is
# before its start or longer than five years, or a site that is not the leader's (none of which
# a JSON schema can say). Everything else about valid requests is checked as by default.
# Query parameters the document does not name are ignored, as by most HTTP APIs: not generated.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "422"]}},
        "generation": {"allow-extra-parameters": False},
    }
)


def served_schema():
    """The OpenAPI document as the application serves it (no database needed to read it)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


schema = served_schema()


@pytest.fixture
def tokens(app, world) -> dict[str, str]:
    """A plain bearer token for the world's leader and funder, and a few approved shifts so the
    tables have rows."""
    with app.app_context():
        u = world["user"]
        for key, day in [("worker", 10), ("worker2", 20), ("worker_b", 15)]:
            make_shift(u[key], local(date(2026, 1, day), "09:00"), 8, "approved",
                       conflicts_interrupted=2, individuals_engaged=3)  # fmt: skip
        admin = db.session.get(User, u["admin"])
        plain = {
            role: service.issue(db.session.get(User, u[key]), "Fuzz", issued_by=admin)[1]
            for role, key in TOKEN_HOLDERS.items()
        }
        db.session.commit()
    return plain


@schema.parametrize()
@pytest.mark.parametrize("role", list(TOKEN_HOLDERS))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])  # fmt: skip
def test_api_answers_as_documented(case, app, tokens, role):
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})


# Edge values the generators rarely reach: the first and last dates Python can hold, a range of
# exactly five years and one day more, site ids past any integer column, empty values.
EDGE_QUERIES = [
    {"from": "9999-12-31"},
    {"to": "9999-12-31"},
    {"from": "9999-12-30", "to": "9999-12-31"},
    {"from": "0001-01-01"},
    {"to": "0001-01-01"},
    {"from": "0001-01-01", "to": "0001-01-01"},
    {"from": "2021-01-01", "to": "2025-12-31"},
    {"from": "2021-01-01", "to": "2026-01-01"},
    {"from": "", "to": "", "site": ""},
    {"site": "9" * 30},
    {"site": "-9223372036854775809"},
    {"site": "0"},
]


@pytest.mark.parametrize("path", ["/stats/programme", "/stats/workforce"])
@pytest.mark.parametrize("role", list(TOKEN_HOLDERS))
def test_edge_ranges_answer_as_documented(app, tokens, role, path):
    operation = schema[path]["GET"]
    for query in EDGE_QUERIES:
        case = operation.Case(query=query)
        case.call_and_validate(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})

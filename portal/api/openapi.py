"""The API's OpenAPI 3.1 document, written by hand: it is small, and a reader sees the contract.

tests/test_api.py validates it against the OpenAPI 3.1 schema and checks real answers against
its response schemas, so the document and the code cannot drift apart unnoticed.
"""

from __future__ import annotations

_RANGE_NOTE = (
    "Dates are local (America/Chicago by default), both included. Without `from` and `to` the "
    "range is the last 12 full months; at most five years."
)
_SUPPRESSION = (
    "Wellbeing figures are published for whole calendar quarters that have ended (the `Quarter` "
    "column), the same in every view. A figure built from fewer than `suppression_min` distinct "
    "people, or one that could be worked out from other published figures by subtraction, is "
    "`null` in `rows` and listed in the table's `hidden` as [row, column]. Programme outputs "
    "are counts of events and are never suppressed."
)


def _json(schema_ref: str, description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
        "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}},
    }
    response["headers"].update(headers or {})
    return response


def _stats_operation(operation_id: str, summary: str, description: str, tag_keys: str) -> dict:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": f"{description}\n\n{_RANGE_NOTE}\n\n{tag_keys}",
        "tags": ["statistics"],
        "security": [{"bearerAuth": []}],
        "parameters": [
            {"$ref": "#/components/parameters/from"},
            {"$ref": "#/components/parameters/to"},
            {"$ref": "#/components/parameters/site"},
        ],
        "responses": {
            "200": _json("#/components/schemas/Statistics", "The tables for the range."),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "422": {"$ref": "#/components/responses/BadRange"},
        },
    }


def document() -> dict:
    """The OpenAPI document served at /api/v1/openapi.json."""
    cell = {"type": ["string", "integer", "number", "null"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FairShift statistics API",
            "version": "1.0.0",
            "summary": "Programme and workforce aggregates of the FairShift dashboard, as JSON.",
            "description": (
                "The same tables as the dashboard page and its CSV downloads, cell for cell. "
                "A leader's token sees their own organisation; a funder's token sees the "
                "provider organisations it funds. Aggregates only: no person is listed.\n\n"
                + _SUPPRESSION
                + "\n\nTokens are issued by an administrator (Admin, the account's page, API "
                "tokens) and are sent as `Authorization: Bearer <token>`."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": "statistics", "description": "Dashboard tables as JSON."}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/stats/programme": {
                "get": _stats_operation(
                    "getProgrammeStatistics",
                    "Programme outputs, wellbeing and field safety",
                    "Approved shifts' outputs by site (leader) or by organisation (funder), by "
                    "month, and the suppressed wellbeing and field-safety figures.",
                    "Table keys include `programme-sites` (leader), `programme-organisations` "
                    "(funder), `programme-months`, `wellbeing` and `safety`.",
                )
            },
            "/stats/workforce": {
                "get": _stats_operation(
                    "getWorkforceStatistics",
                    "Workforce and pay",
                    "Active workers by site, job title and classification (leader) or by "
                    "organisation (funder), and the leader's pay fairness and hours.",
                    "Table keys include `workforce-sites`, `workforce-titles`, "
                    "`workforce-classifications`, `pay` (leader) and `workforce-organisations` "
                    "(funder).",
                )
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (starts with `fs_`) issued by an administrator "
                    "to a leader or funder account.",
                }
            },
            "parameters": {
                "from": {
                    "name": "from",
                    "in": "query",
                    "description": "First day of the range, YYYY-MM-DD; empty or left out: the "
                    "default range.",
                    "schema": {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]},
                    "example": "2026-01-01",
                },
                "to": {
                    "name": "to",
                    "in": "query",
                    "description": "Last day of the range (included), YYYY-MM-DD; empty or left "
                    "out: the default range.",
                    "schema": {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]},
                    "example": "2026-03-31",
                },
                "site": {
                    "name": "site",
                    "in": "query",
                    "description": "Leaders only: one of their organisation's site ids; empty "
                    "or left out: all sites. Ignored for funders (but refused when not a number).",
                    "schema": {"anyOf": [{"type": "integer"}, {"const": ""}]},
                },
            },
            "headers": {
                "CacheControl": {
                    "description": "Always `no-store`.",
                    "schema": {"type": "string", "const": "no-store"},
                },
                "WWWAuthenticate": {
                    "description": 'The bearer challenge, e.g. `Bearer realm="FairShift API", '
                    'error="invalid_token"`.',
                    "schema": {"type": "string"},
                },
            },
            "schemas": {
                "Statistics": {
                    "type": "object",
                    "required": ["from", "to", "site", "generated_at", "suppression_min", "tables"],
                    "additionalProperties": False,
                    "properties": {
                        "from": {"type": "string", "format": "date"},
                        "to": {"type": "string", "format": "date", "description": "Included."},
                        "site": {"type": ["integer", "null"]},
                        "generated_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "When the figures were worked out, UTC. They are kept "
                            "for a few minutes (5 by default): calls in that time get the same "
                            "figures and the same time.",
                        },
                        "suppression_min": {"type": "integer", "minimum": 1},
                        "tables": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Table"},
                        },
                    },
                },
                "Table": {
                    "type": "object",
                    "required": ["key", "title", "columns", "rows", "hidden", "note"],
                    "additionalProperties": False,
                    "properties": {
                        "key": {"type": "string", "examples": ["programme-months"]},
                        "title": {"type": "string"},
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {
                            "type": "array",
                            "description": "Cells as on the dashboard page; the first cell names "
                            'the line, the last line is usually "Total". A hidden wellbeing or '
                            "field-safety figure is null (see hidden).",
                            "items": {"type": "array", "items": cell},
                        },
                        "hidden": {
                            "type": "array",
                            "description": "The [row, column] indexes of the cells hidden for "
                            "small numbers (null in rows).",
                            "items": {
                                "type": "array",
                                "items": {"type": "integer", "minimum": 0},
                                "minItems": 2,
                                "maxItems": 2,
                            },
                        },
                        "note": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
            },
            "responses": {
                "Unauthorized": _json(
                    "#/components/schemas/Error",
                    "No token, an unknown or revoked token, or the token of a deactivated account.",
                    {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}},
                ),
                "Forbidden": _json(
                    "#/components/schemas/Error",
                    "The token's account no longer holds the leader or funder role.",
                    {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}},
                ),
                "BadRange": _json(
                    "#/components/schemas/Error",
                    "A date that cannot be read, an end before the start, a range over five "
                    "years, or a site that is not the leader's organisation's.",
                ),
            },
        },
    }

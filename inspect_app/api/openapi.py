"""The OpenAPI 3 description of /api/v1, kept next to the routes it describes.

tests/api/test_openapi.py checks that every API route is described here and nothing else is;
tests/api/test_schemathesis.py checks that every answer the app gives is one described here.
"""
from collections.abc import Mapping

from inspect_app.parsing import MAX_ID


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


SECURED = [{"bearer": []}, {"cookie": []}]
# A time the client may leave out: null or "" mean none.
OPTIONAL_TIME = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}],
                 "nullable": True}
# Ids are 32-bit INTEGER columns; anything else is refused before it reaches the database.
ID = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}


def UUID_PARAM(name: str) -> dict:  # noqa: N802 - reads like the constant it stands for
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


LOCATION = {"type": "object", "nullable": True, "required": ["lat", "lon"],
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"},
                           "accuracy_m": {"type": "number"}}}


def openapi_document(limits: Mapping) -> dict:
    """The document for an app configured with `limits` (its config: the limits are documented in it)."""
    document = _document(limits)
    for path, item in document["paths"].items():
        _add_common_answers(path, item)
    return document


METHODS = ("get", "put", "post", "delete", "patch")


def _add_common_answers(path: str, item: dict) -> None:
    """Every status any operation can answer, so the document is true (tests/api/test_schemathesis.py)."""
    json_errors = "servers" not in item  # pages outside /api/v1 answer errors as HTML
    error = _error_response if json_errors else _page_error
    for method, operation in item.items():
        if method not in METHODS:
            continue
        answers = operation["responses"]
        if operation.get("security", SECURED):
            answers.setdefault("401", error("Not signed in, or the token was revoked or expired"))
        if "{" in path:
            answers.setdefault("404", error("No such object, or not one this user may see"))
        # NUL in any parameter; a malformed body; a cookie-session write without its CSRF token.
        answers.setdefault("400", error("Malformed request"))
        if "requestBody" in operation:
            answers.setdefault("413", error("Over a limit: body size, nesting depth, list length (docs/limits.md)"))
            answers.setdefault("422", error("Invalid content, or text over its length (docs/limits.md)"))
        answers.setdefault("405", {**error("Method not allowed on this path; Allow lists the ones that are"),
                                   "headers": {"Allow": {"required": True, "schema": {"type": "string"}}}})


def _page_error(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _document(limits: Mapping) -> dict:
    text, step_photos = limits["DESCRIPTION_MAX_CHARS"], limits["TICKET_STEP_MAX_PHOTOS"]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "SafeCampus Inspect API",
            "version": "1",
            "description": ("JSON API for the phone's offline outbox and for integrations. "
                            "Bearer requests need no CSRF token; cookie-session writes send X-CSRFToken. "
                            f"Limits (docs/limits.md): a JSON body of at most {limits['JSON_MAX_BYTES'] // 1024} KB "
                            f"nested at most {limits['JSON_MAX_DEPTH']} levels, "
                            f"{limits['VISIT_MAX_FINDINGS']} findings and {limits['VISIT_MAX_ANSWERS']} answers per "
                            f"visit, {limits['FINDING_MAX_PHOTOS']} photos per finding, {step_photos} per ticket step; "
                            "over a limit is 413, text over its length 422."),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {
                        "type": "object", "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }},
                },
                "TokenRequest": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                },
                "Token": {
                    "type": "object", "required": ["token", "token_type", "expires_in"],
                    "properties": {"token": {"type": "string"}, "token_type": {"type": "string"},
                                   "expires_in": {"type": "integer"}},
                },
                "Me": {
                    "type": "object", "required": ["id", "username", "role", "display_name"],
                    "properties": {
                        "id": {"type": "integer"}, "username": {"type": "string"},
                        "role": {"type": "string", "enum": ["admin", "leader", "inspector",
                                                           "volunteer", "duty_officer"]},
                        "display_name": {"type": "string"},
                        "school_id": {"type": "integer", "nullable": True},
                    },
                },
                "School": {
                    "type": "object",
                    "required": ["id", "name", "district", "kind", "lat", "lon", "radius_m"],
                    "properties": {
                        "id": {"type": "integer"}, "name": {"type": "string"},
                        "district": {"type": "string"}, "kind": {"type": "string"},
                        "lat": {"type": "number"}, "lon": {"type": "number"},
                        "radius_m": {"type": "integer"},
                        "qr_url": {"type": "string", "description": "admins only"},
                    },
                },
                "ChecklistList": {"type": "object", "properties": {"checklists": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "code": {"type": "string"},
                                   "name": {"type": "string"}, "version_id": {"type": "integer"},
                                   "items": {"type": "array", "items": {"type": "object", "properties": {
                                       "code": {"type": "string"}, "text": {"type": "string"},
                                       "severity": {"type": "string"}, "photo_required": {"type": "boolean"},
                                       "deadline_hours": {"type": "integer"}}}}}}}}},
                "VisitInput": {
                    "type": "object", "required": ["school_id", "version_id", "mode", "started_at"],
                    "properties": {
                        "school_id": ID, "version_id": ID,
                        "mode": {"type": "string", "enum": ["overt", "covert", "self_check"]},
                        "started_at": {"type": "string", "format": "date-time"},
                        "submitted_at": OPTIONAL_TIME,
                        "qr_token": {"type": "string"}, "corrects": {"type": "string", "nullable": True,
                                                                         "description": "UUID; empty for none"},
                        "location": LOCATION,
                        "answers": {"type": "array", "maxItems": limits["VISIT_MAX_ANSWERS"],
                                    "items": {"type": "object", "required": ["code", "result"],
                                    "properties": {"code": {"type": "string"},
                                                   "result": {"type": "string", "enum": ["pass", "fail", "na"]},
                                                   "note": {"type": "string", "maxLength": limits["NOTE_MAX_CHARS"]}}}},
                        "findings": {"type": "array", "maxItems": limits["VISIT_MAX_FINDINGS"],
                                     "items": {"type": "object", "required": ["id"],
                                     "properties": {"id": {"type": "string", "format": "uuid"},
                                                    "code": {"type": "string", "nullable": True},
                                                    "description": {"type": "string", "maxLength": text},
                                                    "severity": {"type": "string",
                                                                 "enum": ["minor", "major", "critical"]},
                                                    "fixed_on_site": {"type": "boolean"},
                                                    "location": LOCATION,
                                                    "captured_at": OPTIONAL_TIME}}},
                    },
                },
                "Photo": {"type": "object", "required": ["id", "url", "thumb_url"],
                          "properties": {"id": {"type": "string"}, "url": {"type": "string"},
                                         "thumb_url": {"type": "string"},
                                         "finding_id": {"type": "string", "nullable": True},
                                         "sha256": {"type": "string"}, "flags": {"type": "array",
                                                                                 "items": {"type": "string"}}}},
                # A school gets id, school_id, status, source, date (Asia/Shanghai) and findings without ids,
                # codes or times; answers, mode, template and times are for the bureau and the author.
                "Visit": {"type": "object", "required": ["id", "school_id", "status", "findings"],
                          "properties": {
                              "id": {"type": "string"}, "school_id": {"type": "integer"},
                              "mode": {"type": "string"}, "status": {"type": "string"},
                              "answers": {"type": "array", "items": {"type": "object"}},
                              "findings": {"type": "array", "items": {"type": "object", "properties": {
                                  "photos": {"type": "array", "items": {"$ref": "#/components/schemas/Photo"}}}}},
                              "flags": {"type": "object", "description": "bureau and author only", "properties": {
                                  "distance_m": {"type": "number", "nullable": True},
                                  "on_site": {"type": "boolean", "nullable": True},
                                  "clock_skew_s": {"type": "number", "nullable": True},
                                  "incomplete": {"type": "boolean"},
                                  "reused_photos": {"type": "array", "items": {"type": "string"}}}},
                              "source": {"type": "string", "description": "schools see 'inspection_group'"},
                              "date": {"type": "string", "format": "date",
                                       "description": "the school's view: the day it reached us, Asia/Shanghai"}}},
                "Ticket": {"type": "object", "required": ["id", "status", "deadline", "overdue", "description"],
                           "properties": {
                               "id": {"type": "integer"}, "school_id": {"type": "integer"},
                               "status": {"type": "string", "enum": ["open", "responded", "closed", "reopened"]},
                               "severity": {"type": "string"},
                               "deadline": {"type": "string", "format": "date-time",
                                            "description": "+08:00; rounded (TICKET_DEADLINE_ROUNDING)"},
                               "overdue": {"type": "boolean"}, "description": {"type": "string"},
                               "escalation_level": {"type": "integer"},
                               "record": {"type": "array", "items": {"type": "object", "properties": {
                                   "kind": {"type": "string"}, "text": {"type": "string"},
                                   "actor": {"type": "string", "nullable": True},
                                   "at": {"type": "string", "description": "bureau, or the school's own steps"},
                                   "date": {"type": "string", "description": "the school's view of bureau steps"},
                                   "photos": {"type": "array", "items": {"$ref": "#/components/schemas/Photo"}}}}}}},
                "TicketList": {"type": "object", "properties": {
                    "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}}},
                "SchoolList": {
                    "type": "object", "required": ["schools"],
                    "properties": {"schools": {"type": "array",
                                               "items": {"$ref": "#/components/schemas/School"}}},
                },
            },
        },
        "paths": {
            "/auth/token": {
                "post": {
                    "summary": "Get a bearer token",
                    "security": [],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/TokenRequest"}}}},
                    "responses": {"200": _json("Token"),
                                  "400": _error_response("Malformed request"),
                                  "401": _error_response("Wrong credentials or disabled account"),
                                  "429": _error_response("Too many failed attempts")},
                },
                "delete": {
                    "summary": "Revoke the bearer token of this request",
                    "security": [{"bearer": []}],
                    "responses": {"204": {"description": "Revoked"},
                                  "401": _error_response("Not signed in")},
                },
            },
            "/me": {"get": {
                "summary": "The signed-in user", "security": SECURED,
                "responses": {"200": _json("Me"), "401": _error_response("Not signed in")},
            }},
            "/schools": {"get": {
                "summary": "Schools the user may see", "security": SECURED,
                "responses": {"200": _json("SchoolList"), "401": _error_response("Not signed in")},
            }},
            "/schools/lookup": {"get": {
                "summary": "The school behind a scanned QR token", "security": SECURED,
                "parameters": [{"name": "qr", "in": "query", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json("School"),
                              "401": _error_response("Not signed in"),
                              "403": _error_response("Another school's code"),
                              "404": _error_response("Unknown code"),
                              "410": _error_response("Code replaced by a new poster")},
            }},
            "/checklists": {"get": {
                "summary": "Templates the user may use at a school in a mode", "security": SECURED,
                "parameters": [
                    {"name": "mode", "in": "query", "required": True,
                     "schema": {"type": "string", "enum": ["overt", "covert", "self_check"]}},
                    {"name": "school_id", "in": "query", "schema": ID}],
                "responses": {"200": _json("ChecklistList"), "400": _error_response("Unknown mode"),
                              "403": _error_response("Not allowed here"),
                              "404": _error_response("No such school, or not one this user may see")},
            }},
            "/visits/{visit_id}": {
                "parameters": [UUID_PARAM("visit_id")],
                "put": {
                    "summary": "Create or replay a whole visit (idempotent on the phone's UUID)",
                    "description": ("201 when created, 200 for an identical replay (nothing written) or for "
                                    "a replacement while the visit is still in progress; 409 for a different "
                                    "body under a submitted visit. X-Client-Time (ISO 8601) measures clock skew."),
                    "security": SECURED,
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/VisitInput"}}}},
                    "responses": {"200": _json("Visit"), "201": _json("Visit", "Created"),
                                  "400": _error_response("Malformed"), "403": _error_response("Not allowed"),
                                  "409": _error_response("Different body under a submitted visit"),
                                  "422": _error_response("Invalid content")},
                },
                "get": {
                    "summary": "A visit with its flags and photo links", "security": SECURED,
                    "responses": {"200": _json("Visit"), "404": _error_response("Not found or not yours")},
                },
            },
            "/photos/{photo_id}": {
                "parameters": [UUID_PARAM("photo_id")],
                "put": {
                    "summary": "Upload one photo (idempotent on the phone's UUID)",
                    "security": SECURED,
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"},
                                       "captured_at": OPTIONAL_TIME,
                                       "lat": {"type": "number"}, "lon": {"type": "number"},
                                       "accuracy_m": {"type": "number"},
                                       "finding_id": {"type": "string", "description": "UUID; empty for none"}}}}}},
                    "responses": {"200": _json("Photo"), "201": _json("Photo", "Created"),
                                  "409": _error_response("Id used for other content"),
                                  "413": _error_response("Too large"),
                                  "415": _error_response("Not an image we accept"),
                                  "422": _error_response("Damaged, empty or a pixel bomb")},
                },
            },
            "/tickets": {"get": {
                "summary": "Tickets the user may see (a duty officer: own school, source anonymised)",
                "security": SECURED,
                "parameters": [{"name": "status", "in": "query",
                                "schema": {"type": "string", "enum": ["open", "responded", "closed", "reopened"]}}],
                "responses": {"200": _json("TicketList"), "400": _error_response("Unknown status")},
            }},
            "/tickets/{ticket_id}": {"get": {
                "summary": "One ticket with its written record", "security": SECURED,
                "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": ID}],
                "responses": {"200": _json("Ticket"), "404": _error_response("Not found or not yours")},
            }},
            "/tickets/{ticket_id}/responses/{client_id}": {"put": {
                "summary": "The school's rectification evidence (idempotent on the phone's UUID)",
                "security": SECURED,
                "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": ID},
                               UUID_PARAM("client_id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"],
                    "properties": {"text": {"type": "string", "maxLength": text},
                                   "photo_ids": {"type": "array", "maxItems": step_photos,
                                                 "items": {"type": "string"}}}}}}},
                "responses": {"201": _json("Ticket", "Recorded"), "200": _json("Ticket", "Replay"),
                              "403": _error_response("Not this school's officer"),
                              "409": _error_response("Closed, or the id was used for something else"),
                              "422": _error_response("Invalid")},
            }},
            "/tickets/{ticket_id}/verifications/{client_id}": {"put": {
                "summary": "Close out or send back after a re-check (idempotent on the phone's UUID)",
                "security": SECURED,
                "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": ID},
                               UUID_PARAM("client_id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["outcome"],
                    "properties": {"outcome": {"type": "string", "enum": ["close", "reopen"]},
                                   "note": {"type": "string", "maxLength": text},
                                   "photo_ids": {"type": "array", "maxItems": step_photos,
                                                 "items": {"type": "string"}},
                                   "new_deadline": OPTIONAL_TIME}}}}},
                "responses": {"201": _json("Ticket", "Recorded"), "200": _json("Ticket", "Replay"),
                              "403": _error_response("Not a verifier"),
                              "409": _error_response("Already closed, sent back and not yet answered by the school, "
                                                     "or acted on concurrently"),
                              "422": _error_response("Invalid (closing needs a photo, reopening a deadline)")},
            }},
            "/reports/daily/{day}": {"get": {
                "summary": "The daily report's data: the window ending 16:00 Asia/Shanghai that day",
                "security": SECURED,
                "parameters": [{"name": "day", "in": "path", "required": True,
                                "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": {"description": "overview, problems_by_school, rectification, overdue, "
                                                     "good_practice, window, signed (null until signed)"},
                              "403": _error_response("Not the bureau"), "404": _error_response("Bad date")},
            }},
            "/csrf": {"get": {
                "summary": "A fresh CSRF token for cookie-session writes (after long offline periods)",
                "security": SECURED,
                "responses": {"200": {"description": "{token}"}, "401": _error_response("Not signed in")},
            }},
            "/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }},
            # Outside /api/v1 (each names its own server): the health check and the report downloads,
            # which take the same bearer token as the API.
            "/healthz": {"servers": SITE, "get": {
                "summary": "200 when the app and its database answer; 503 otherwise", "security": [],
                "responses": {"200": {"description": "Healthy", "content": {"application/json": {"schema": {
                                  "type": "object", "required": ["status"],
                                  "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}},
                              "503": {"description": "The database does not answer",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/reports/daily/{day}.pdf": _report_download("pdf", "application/pdf"),
            "/reports/daily/{day}.xlsx": _report_download(
                "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        },
    }


SITE = [{"url": "/"}]


def _report_download(kind: str, mimetype: str) -> dict:
    return {"servers": SITE, "get": {
        "summary": f"The daily report as {kind.upper()} (the bureau: admin, leader, inspector)",
        "security": SECURED,
        "parameters": [{"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": {"description": f"daily-report-<day>.{kind}",
                              "content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}},
                      "302": {"description": "Signed out: to the sign-in page"},
                      "403": _page_error("Not the bureau")},
    }}

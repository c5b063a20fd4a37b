"""The API's description and its enforcement, one thing: spectree with the models in api/schemas.py.

`api.validate(...)` on a view validates the request against its models before the view runs (in the
API's error shape and the user's language) and, under TESTING, every answer against its response
model. /api/v1/openapi.json is spectree's document of those same models; this module adds only what
a model cannot say: the title and limits, the security schemes, the error answers every operation
shares, and the three site routes outside /api/v1 that take the API's token.

tests/api/test_openapi.py checks that every API route is described and nothing else is;
tests/api/test_schemathesis.py checks that every answer the app gives is one described here.
"""
from __future__ import annotations

import copy
import functools
import re

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import ValidationError
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items

from inspect_app.api import schemas
from inspect_app.config import Config
from inspect_app.errors import refuse
from inspect_app.parsing import json_document

PREFIX = "/api/v1"
SECURED = [{"bearer": []}, {"cookie": []}]


def json_body() -> dict:
    """The body as a JSON object, within the size and nesting limits (413) and storable (400)."""
    if not request.is_json:
        refuse(400, _("The request body must be a JSON object."))
    body = json_document()  # refused as 413 past the limits, 400 if broken (parsing.load_json)
    if not isinstance(body, dict):
        refuse(400, _("The request body must be a JSON object."))
    return body


class Validation(FlaskPlugin):
    """spectree's Flask plugin with our body reading and our error answers.

    The body goes through `json_body` (size, depth, storable text) before any model sees it; spectree's
    own `get_json(silent=True) or {}` would read a broken body as `{}` and a deep one with recursion.
    A refused request answers `{"error": {code, message}}`: a query string that does not parse is 400;
    in a body, a value of the wrong JSON type is 400 (malformed), a well-typed value the rules refuse
    is 422 (invalid), a list over its limit 413 — the statuses the API has always given.
    """

    def request_validation(self, request, query, json, form, headers, cookies):
        validate = self.model_adapter.validate_obj
        if json and form:  # a view that takes either (POST /complaints): the body's type chooses
            json, form = (None, form) if request.mimetype == "multipart/form-data" else (json, None)
        request.context = Context(
            _checked(validate, query, get_multidict_items(request.args, query), in_query=True) if query else None,
            _checked(validate, json, json_body()) if json else None,
            _checked(validate, form, self._form(request)) if form else None,
            None, None)

    def _form(self, request) -> dict:
        if request.mimetype != "multipart/form-data":
            refuse(400, _("Send the photo as the multipart field “file”."))
        return self.fill_form(request)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        # In production an answer is never held back for its description; the suite checks them all,
        # but for the empty body a client asked for (prefers_minimal).
        skip = skip_validation or not current_app.testing or _minimal(resp)
        return super().validate_response(resp, resp_model, skip, force_resp_serialize)


def prefers_minimal() -> bool:
    """Whether the request says `Prefer: return=minimal` (RFC 7240): a client that reads nothing back
    from a successful write (the phone's outbox) spares the server the answer and itself the bytes."""
    for header in request.headers.getlist("Prefer"):
        for preference in header.split(","):
            name, _sep, value = preference.split(";")[0].partition("=")
            if name.strip().lower() == "return":  # only its first instance counts (RFC 7240 §2)
                return value.strip().strip('"').lower() == "minimal"
    return False


def minimal_response(status: int):
    """A success with no body, saying the preference was applied (RFC 7240 §3)."""
    return current_app.response_class(status=status, headers={"Preference-Applied": "return=minimal"})


def _minimal(resp) -> bool:
    return getattr(resp, "headers", None) is not None and resp.headers.get("Preference-Applied") == "return=minimal"


def _checked(validate, model, data, in_query: bool = False):
    try:
        return validate(model, data)
    except ValidationError as error:
        status, message = refusal(error.errors()[0])
        refuse(400 if in_query else status, message)


# pydantic's error types: the wrong JSON type (400) or a list past its limit (413); the rest is 422.
MALFORMED = re.compile(r".*_type$")


def refusal(error: dict) -> tuple[int, str]:
    """Status and message (the user's language) for pydantic's first error."""
    name = _location(error["loc"])
    kind, ctx, sent = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "too_long":
        return 413, _("%(name)s holds at most %(limit)s (you sent %(n)s).", name=name,
                      limit=ctx.get("max_length"), n=ctx.get("actual_length"))
    message = {
        "missing": lambda: _("%(where)s is required.", where=name),
        "extra_forbidden": lambda: _("%(name)s is not a field of this request.", name=name),
        "string_type": lambda: _("%(name)s must be text.", name=name),
        "int_type": lambda: _("%(name)s must be a whole number.", name=name),
        "int_parsing": lambda: _("%(name)s must be a whole number.", name=name),
        "float_type": lambda: _("%(name)s must be a number.", name=name),
        "float_parsing": lambda: _("%(name)s must be a number.", name=name),
        "finite_number": lambda: _("%(name)s must be a number.", name=name),
        "bool_type": lambda: _("%(name)s must be true or false.", name=name),
        "list_type": lambda: _("%(name)s must be a list.", name=name),
        "literal_error": lambda: _("%(name)s must be one of %(values)s.", name=name,
                                   values=", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))),
        "greater_than_equal": lambda: _("%(name)s must be at least %(low)s.", name=name, low=ctx.get("ge")),
        "less_than_equal": lambda: _("%(name)s must be at most %(high)s.", name=name, high=ctx.get("le")),
        "string_too_long": lambda: _("%(name)s is too long: at most %(limit)s characters (you sent %(n)s).",
                                     name=name, limit=ctx.get("max_length"),
                                     n=len(sent.strip()) if isinstance(sent, str) else "?"),
        "value_error": lambda: _("%(name)s: %(problem)s", name=name, problem=str(ctx.get("error", ""))),
    }.get(kind)
    if message is None:
        message = (lambda: _("%(name)s must be an object.", name=name)) if kind in ("model_type", "dict_type") \
            else (lambda: _("%(name)s is not valid.", name=name))
    return (400 if MALFORMED.match(kind) else 422), message()


def _location(loc) -> str:
    """("findings", 0, "location", "lat") -> findings[0].location.lat, as the messages always wrote it."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or _("The request body")


api = SpecTree(
    backend=Validation, mode="strict", annotations=False, openapi_version="3.1.0",
    title="SafeCampus Inspect API", version="1",
    description=("JSON API for the phone's offline outbox and for integrations. "
                 "Bearer requests need no CSRF token; cookie-session writes send X-CSRFToken. "
                 f"Limits (docs/limits.md): a JSON body of at most {Config.JSON_MAX_BYTES // 1024} KB "
                 f"nested at most {Config.JSON_MAX_DEPTH} levels, {Config.VISIT_MAX_FINDINGS} findings and "
                 f"{Config.VISIT_MAX_ANSWERS} answers per visit, {Config.FINDING_MAX_PHOTOS} photos per finding, "
                 f"{Config.TICKET_STEP_MAX_PHOTOS} per ticket step; over a limit is 413, text over its length 422."),
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer")),
        SecurityScheme(name="cookie", data=SecuritySchemeData(type="apiKey", field_in="cookie", name="session")),
    ],
    validation_error_status=422, validation_error_model=schemas.Error,
    # Plain names: api/schemas.py names each model once, so a name is one schema wherever it is used.
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child,
)


def openapi_document() -> dict:
    """spectree's document of the decorated views, with what every operation shares."""
    generated = copy.deepcopy(api.spec)
    document = {key: value for key, value in generated.items() if key not in ("paths", "tags")}
    document["servers"] = [{"url": PREFIX}]
    document["security"] = SECURED
    paths = {path.removeprefix(PREFIX): item for path, item in generated["paths"].items()}
    paths.update(copy.deepcopy(SITE_PATHS))
    for path, item in paths.items():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation.pop("tags", None)
                _add_common_answers(path, item, operation)
    document["paths"] = paths
    return document


def _add_common_answers(path: str, item: dict, operation: dict) -> None:
    """Every status any operation can answer, so the document is true (tests/api/test_schemathesis.py)."""
    error = _page_error if "servers" in item else _error  # pages outside /api/v1 answer errors as HTML
    answers = operation["responses"]
    if operation.get("security", SECURED):
        answers.setdefault("401", error("Not signed in, or the token was revoked or expired"))
    if "{" in path:
        answers.setdefault("404", error("No such object, or not one this user may see"))
    # NUL in any parameter; a malformed body or query; a cookie-session write without its CSRF token.
    answers.setdefault("400", error("Malformed request"))
    if "requestBody" in operation:
        answers.setdefault("413", error("Over a limit: body size, nesting depth, list length (docs/limits.md)"))
        answers["422"] = error("Invalid content, or text over its length (docs/limits.md)")
    else:
        answers.pop("422", None)  # spectree lists its validation answer everywhere; without a body it is 400
    answers.setdefault("405", {**error("Method not allowed on this path; Allow lists the ones that are"),
                               "headers": {"Allow": {"required": True, "schema": {"type": "string"}}}})


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _page_error(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _report_download(kind: str, mimetype: str) -> dict:
    return {"servers": SITE, "get": {
        "summary": f"The daily report as {kind.upper()} (the bureau: admin, leader, inspector)",
        "security": SECURED,
        "parameters": [{"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": {"description": f"daily-report-<day>.{kind}",
                              "content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}},
                      "302": {"description": "Signed out: to the sign-in page"},
                      "403": _page_error("Not the bureau"),
                      **({"503": _page_error("Photo storage unreachable; try again")} if kind == "pdf" else {})},
    }}


# Outside /api/v1 (each names its own server): the health check and the report downloads, which take
# the same bearer token as the API. They are pages, not API views, so no model describes them.
SITE = [{"url": "/"}]
SITE_PATHS = {
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
}


def looked_up_first(lookup):
    """Run `lookup` on the path's values before the body is validated: an object this user may not
    see is not found (404) whatever was sent, as it was before the schemas checked bodies first."""
    def decorate(view):
        @functools.wraps(view)
        def guarded(**values):
            lookup(**values)
            return view(**values)
        return guarded
    return decorate

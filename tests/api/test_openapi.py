"""The OpenAPI document describes exactly the API routes that exist (and the few site routes it names)."""
import re


def _served_paths(app, prefix: str = "") -> set:
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(prefix):])
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return served


def test_openapi_lists_every_api_route_and_no_other(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() if "servers" not in ops
                  for method in ops if method != "parameters"}
    assert documented == _served_paths(app, "/api/v1")
    # Outside /api/v1 (a path-level server of "/"): each one names a real route.
    site = {(path, method.upper()) for path, ops in document["paths"].items() if "servers" in ops
            for method in ops if method not in ("parameters", "servers")}
    assert site == {("/healthz", "GET"), ("/reports/daily/{day}.pdf", "GET"), ("/reports/daily/{day}.xlsx", "GET")}
    assert site <= _served_paths(app)


def test_every_reference_resolves(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"')))
    assert refs and refs <= set(document["components"]["schemas"])


def test_the_document_and_the_checks_agree_on_unknown_fields(app, api_token, world, templates):
    """The fuzzer found extra properties refused where the document allowed them: now both refuse."""
    import uuid
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for name in ("VisitInput", "FindingInput", "AnswerInput", "Location", "TokenRequest",
                 "TicketResponseInput", "VerificationInput"):
        assert document["components"]["schemas"][name]["additionalProperties"] is False, name
    body = {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": "2026-01-05T08:00:00+08:00", "submited_at": "2026-01-05T09:00:00+08:00"}
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json=body, headers=api_token("inspector"))
    assert response.status_code == 422
    assert response.get_json()["error"] == {"code": "invalid", "message": "submited_at 不是此请求的字段。"}


def test_a_photo_without_a_finding_is_documented_as_such(app):
    """The fuzzer found finding_id null where the document said string."""
    schema = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]["UploadedPhoto"]
    assert {"type": "null"} in schema["properties"]["finding_id"]["anyOf"]


def test_an_undocumented_answer_fails_the_suite(app, api_token, monkeypatch):
    """Answers are validated against their models under TESTING: a field a view adds without describing
    it is a 500 here, long before a client meets it."""
    import flask

    from inspect_app.api import routes
    headers = api_token("inspector")
    monkeypatch.setattr(routes, "jsonify", lambda **fields: flask.jsonify(**fields, undocumented=1))
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 500


def test_refusals_name_the_field_in_the_users_language(app, api_token):
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": 5})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "bad_request", "message": "password 必须是文字。"}
    english = client.get("/api/v1/tickets?status=lost", headers=api_token("leader") | {"Accept-Language": "en"})
    assert english.status_code == 400
    assert english.get_json()["error"]["message"] == "status must be one of open, responded, closed, reopened."

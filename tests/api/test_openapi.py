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

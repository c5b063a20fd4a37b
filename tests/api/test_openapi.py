"""The OpenAPI document describes exactly the API routes that exist."""
import re


def test_openapi_lists_every_api_route_and_no_other(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items()
                  for method in ops if method != "parameters"}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_every_reference_resolves(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"')))
    assert refs and refs <= set(document["components"]["schemas"])

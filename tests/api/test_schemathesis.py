"""Schemathesis against the served OpenAPI document, with every role's token (issue 9 §4).

The bar: no 5xx for any generated input, valid or not, and every answer (status, headers, body) is
one the document describes. Examples per operation are bounded so the whole run stays near a minute.
"""
import itertools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.meta import TestPhase

from inspect_app import create_app
from inspect_app.api.openapi import openapi_document
from inspect_app.config import TestConfig

ROLES = ("admin", "leader", "inspector", "volunteer", "officer")
EXAMPLES_PER_OPERATION = 5
# The coverage phase sends ~1,500 boundary and malformed requests (wrong types, missing fields, other
# methods). Each goes with one role, the roles taken in turn, so every role meets a share of each
# operation's malformed requests at a fifth of the cost (7,345 calls were 80 % of this file's time);
# the generated cases, where a role's rights decide the answer, still go with all five.
COVERAGE_ROLES = itertools.cycle(ROLES)


@pytest.fixture
def tokens(api_token):
    return {role: api_token(role) for role in ROLES}


@pytest.fixture
def objects(world, make_visit):
    """Real objects behind some ids: a submitted visit with a ticket at school A, a photo on its finding."""
    return make_visit(world.inspector, world.a)


CONFIG = schemathesis.Config.from_dict({"checks": {
    # Schema-valid is not the same as acceptable: a random school_id is someone else's school (403), a
    # visit that does not answer every item cannot be submitted (422), NUL is refused in any text (400).
    "positive_data_acceptance": {"enabled": False},
    # An over-long list is refused as too large, as docs/limits.md says.
    "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]},
}})
# Loaded at import, because the app is a per-run fixture: each case is pointed at it in the test.
# Built from the routes of an app like the test's; test_the_document_checked_is_the_one_served makes
# sure it is the one the app serves.
with create_app(TestConfig).app_context():
    DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.location = "/api/v1/openapi.json"
SITE_PATHS = {path for path, item in schema.raw_schema["paths"].items() if "servers" in item}


def test_the_document_checked_is_the_one_served(app):
    assert app.test_client().get("/api/v1/openapi.json").get_json() == json.loads(json.dumps(schema.raw_schema))


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_answer_is_in_the_spec_and_none_is_a_server_error(case, app, tokens, objects):
    case.operation.app = case.operation.schema.app = app
    # A path-level server ("/": /healthz, the report downloads) is not applied to in-process calls.
    base_url = "http://localhost" if case.operation.path in SITE_PATHS else "http://localhost/api/v1"
    roles = [next(COVERAGE_ROLES)] if case.meta and case.meta.phase.name == TestPhase.COVERAGE else ROLES
    for role in roles:
        # identity: Flask-Compress would otherwise brotli the larger answers, which the checks do not unpack.
        case.call_and_validate(headers=tokens[role] | {"Accept-Encoding": "identity"}, base_url=base_url)

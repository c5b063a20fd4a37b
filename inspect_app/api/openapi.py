"""The OpenAPI 3 description of /api/v1, kept next to the routes it describes.

tests/api/test_openapi.py checks that every API route is described here and nothing else is.
"""


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


SECURED = [{"bearer": []}, {"cookie": []}]


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "SafeCampus Inspect API",
            "version": "1",
            "description": ("JSON API for the phone's offline outbox and for integrations. "
                            "Bearer requests need no CSRF token; cookie-session writes send X-CSRFToken."),
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
            "/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }},
        },
    }

"""The API base: token auth, JSON errors in the request's language, CSRF only for cookie writes."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import AuthSession
from inspect_app.dbtypes import utcnow
from tests.conftest import PASSWORD


@pytest.fixture
def client(app):
    return app.test_client()


def test_token_then_me(client, api_token, world):
    headers = api_token("officer")
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["display_name"].startswith("duty_officer ")
    assert {k: v for k, v in body.items() if k != "display_name"} == {
        "id": world.officer.id, "username": world.officer.username, "role": "duty_officer",
        "school_id": world.a.id}
    assert client.get("/api/v1/me", headers=headers).headers["Cache-Control"] == "no-store"


def test_volunteer_me_shows_the_volunteer_their_real_name(client, api_token, world):
    body = client.get("/api/v1/me", headers=api_token("volunteer")).get_json()
    assert body["role"] == "volunteer" and body["school_id"] is None


def test_wrong_credentials_are_401_with_a_code(client, world):
    response = client.post("/api/v1/auth/token", json={"username": world.leader.username,
                                                       "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("body", [None, "[]", '"text"', "{not json", '{"username": 1, "password": 2}'])
def test_malformed_token_requests_are_400_never_500(client, body):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error["message"]


def test_revoked_token_no_longer_works(client, api_token):
    headers = api_token("inspector")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_signed_in"


def test_expired_token_no_longer_works(client, api_token, db):
    headers = api_token("inspector")
    db.session.execute(sa.update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_web_session_key_is_not_an_api_token(login_as, client):
    browser = login_as("inspector")
    # The cookie carries the session key inside a signed Flask session; even the raw key of a
    # web session must not work as a bearer token.
    with browser.session_transaction() as session:
        key = session["_user_id"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_a_bearer_request_ignores_any_cookie(login_as, app):
    browser = login_as("inspector")
    response = browser.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401


def test_cookie_session_writes_need_the_csrf_token(login_as):
    browser = login_as("inspector")
    refused = browser.delete("/api/v1/auth/token")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "bad_request"


def test_bearer_writes_need_no_csrf_token(client, api_token):
    assert client.delete("/api/v1/auth/token", headers=api_token("leader")).status_code == 204


def test_errors_speak_the_requests_language(client):
    zh = client.get("/api/v1/me").get_json()["error"]["message"]
    en = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"}).get_json()["error"]["message"]
    assert zh == "请先登录。"
    assert en == "Please sign in first."


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_lookup_of_a_replaced_code_is_410(client, api_token, login_as, world):
    login_as("admin").form_post(f"/schools/{world.a.id}/rotate-qr")
    response = client.get(f"/api/v1/schools/lookup?qr={world.a.qr_token}", headers=api_token("inspector"))
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "gone"


@pytest.mark.parametrize("qr", ["", "x" * 500, "unknown"])
def test_lookup_of_an_unknown_code_is_404(client, api_token, qr):
    response = client.get("/api/v1/schools/lookup", query_string={"qr": qr}, headers=api_token("inspector"))
    assert response.status_code == 404


def test_disabled_account_cannot_get_a_token(client, login_as, world):
    login_as("admin").form_post(f"/accounts/users/{world.leader.id}/disable")
    response = client.post("/api/v1/auth/token", json={"username": world.leader.username,
                                                       "password": PASSWORD})
    assert response.status_code == 401

"""Tickets over the API: role-scoped lists, the written record, idempotent steps on client UUIDs."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import jpeg_bytes


@pytest.fixture
def client(app):
    return app.test_client()


def upload(client, headers, colour=(5, 5, 5)) -> str:
    photo_id = str(uuid.uuid4())
    response = client.put(f"/api/v1/photos/{photo_id}", headers=headers,
                          data={"file": (io.BytesIO(jpeg_bytes(color=colour)), "a.jpg")},
                          content_type="multipart/form-data")
    assert response.status_code == 201
    return photo_id


def test_the_whole_path_over_the_api(client, api_token, world, templates, make_visit, make_user):
    done = make_visit(world.inspector, world.a, template="plans27", fail=("D01",))  # a document: closed from the desk
    ticket = done.tickets[0]
    officer = api_token("officer")
    listed = client.get("/api/v1/tickets?status=open", headers=officer).get_json()["tickets"]
    assert [t["id"] for t in listed] == [ticket] and listed[0]["overdue"] is False
    assert "visit_id" not in listed[0]

    evidence = upload(client, officer)
    response_id = str(uuid.uuid4())
    body = {"text": "已整改", "photo_ids": [evidence]}
    first = client.put(f"/api/v1/tickets/{ticket}/responses/{response_id}", headers=officer, json=body)
    assert first.status_code == 201 and first.get_json()["status"] == "responded"
    for _ in range(3):
        replay = client.put(f"/api/v1/tickets/{ticket}/responses/{response_id}", headers=officer, json=body)
        assert replay.status_code == 200
    record = client.get(f"/api/v1/tickets/{ticket}", headers=officer).get_json()["record"]
    assert [r["kind"] for r in record] == ["opened", "responded"]
    assert record[0]["actor"] == "inspection_group" and "at" not in record[0] and "date" in record[0]
    different = client.put(f"/api/v1/tickets/{ticket}/responses/{response_id}", headers=officer,
                           json={"text": "改了", "photo_ids": []})
    assert different.status_code == 409

    # The school cannot verify, over the API either.
    refused = client.put(f"/api/v1/tickets/{ticket}/verifications/{uuid.uuid4()}", headers=officer,
                         json={"outcome": "close", "photo_ids": [evidence]})
    assert refused.status_code == 403

    other = make_user("inspector")
    token = client.post("/api/v1/auth/token", json={"username": other.username,
                                                     "password": "correct-horse-1"}).get_json()["token"]
    verifier = {"Authorization": f"Bearer {token}"}
    after = upload(client, verifier, colour=(7, 7, 7))
    verification = str(uuid.uuid4())
    closed = client.put(f"/api/v1/tickets/{ticket}/verifications/{verification}", headers=verifier,
                        json={"outcome": "close", "note": "复查属实", "photo_ids": [after]})
    assert closed.status_code == 201 and closed.get_json()["status"] == "closed"
    assert client.put(f"/api/v1/tickets/{ticket}/verifications/{verification}", headers=verifier,
                      json={"outcome": "close", "note": "复查属实", "photo_ids": [after]}).status_code == 200
    late = client.put(f"/api/v1/tickets/{ticket}/verifications/{uuid.uuid4()}", headers=verifier,
                      json={"outcome": "reopen", "new_deadline": "2099-01-01T00:00:00+08:00"})
    assert late.status_code == 409
    bureau = client.get(f"/api/v1/tickets/{ticket}", headers=verifier).get_json()
    assert bureau["record"][-1]["self_verified"] is False and bureau["record"][-1]["at"]


def test_reopen_over_the_api_needs_a_future_deadline(client, api_token, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    headers = api_token("leader")
    url = f"/api/v1/tickets/{done.tickets[0]}/verifications/"
    assert client.put(url + str(uuid.uuid4()), headers=headers, json={"outcome": "reopen"}).status_code == 422
    assert client.put(url + str(uuid.uuid4()), headers=headers,
                      json={"outcome": "reopen", "new_deadline": "tomorrow"}).status_code == 422
    future = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    reopened = client.put(url + str(uuid.uuid4()), headers=headers, json={"outcome": "reopen", "new_deadline": future})
    assert reopened.status_code == 201 and reopened.get_json()["status"] == "reopened"


@pytest.mark.parametrize("body, status", [
    ({"outcome": "maybe"}, 422),
    ({"outcome": "close", "photo_ids": "abc"}, 400),
    ({"outcome": "close", "photo_ids": [str(uuid.uuid4())]}, 422),  # not an upload of theirs
    ({"outcome": "close"}, 422),                                      # closing needs a photo
    ({"outcome": "close", "note": 5, "photo_ids": []}, 400),
])
def test_bad_verifications_are_refused_with_a_message(client, api_token, world, templates, make_visit, body, status):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    response = client.put(f"/api/v1/tickets/{done.tickets[0]}/verifications/{uuid.uuid4()}",
                          headers=api_token("leader"), json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_someone_elses_photos_cannot_be_named_as_evidence(client, api_token, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    leader_photo = upload(client, api_token("leader"))
    response = client.put(f"/api/v1/tickets/{done.tickets[0]}/responses/{uuid.uuid4()}",
                          headers=api_token("officer"), json={"text": "已整改", "photo_ids": [leader_photo]})
    assert response.status_code == 422


def test_unknown_status_filter_is_400(client, api_token):
    assert client.get("/api/v1/tickets?status=lost", headers=api_token("leader")).status_code == 400


def test_volunteers_see_no_tickets(client, api_token, world, templates, make_visit):
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    assert client.get("/api/v1/tickets", headers=api_token("volunteer")).get_json()["tickets"] == []
    assert client.get(f"/api/v1/tickets/{done.tickets[0]}", headers=api_token("volunteer")).status_code == 404

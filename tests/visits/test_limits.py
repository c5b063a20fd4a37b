"""Bounded work per request (issue 9 §3, docs/limits.md): over a limit is refused fast, with a message
in Chinese, before anything is looked up or stored; at the limit is accepted."""
import io
import json
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from inspect_app.extensions import db
from inspect_app.visits.models import Finding, Visit
from tests.conftest import jpeg_bytes
from tests.conftest import counted


@pytest.fixture
def limits(app):
    """Change limits for one test; the app is shared by the whole run, so they are put back after."""
    @contextmanager
    def change(**values):
        saved = {key: app.config[key] for key in values}
        app.config.update(values)
        try:
            yield
        finally:
            app.config.update(saved)
    return change


def visit_body(world, templates, findings=(), answers=None, **changes):
    started = datetime.now(timezone.utc) - timedelta(minutes=30)
    data = {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": started.isoformat(), "submitted_at": None,
            "answers": answers if answers is not None else
            [{"code": c, "result": "pass"} for c in templates["onsite"].codes],
            "findings": list(findings)}
    data.update(changes)
    return data


def free_findings(n, description="楼梯扶手松动"):
    return [{"id": str(uuid.uuid4()), "code": None, "description": description, "severity": "minor"}
            for _ in range(n)]


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def refused(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_json()["error"]["message"]


def test_a_visit_with_more_findings_than_the_limit_is_refused_before_any_is_read(
        app, api_token, world, templates):
    """The count is checked before a single finding is validated or anything is looked up: 5,000 findings
    that are each malformed still get the count's 413, not 5,000 validation errors, and the request sends
    no SQL beyond the one that checks the token. (What this costs in time is a benchmark's business.)"""
    limit = app.config["VISIT_MAX_FINDINGS"]
    assert limit == 200  # the documented default (docs/limits.md)
    headers = api_token("inspector")
    malformed = [{"id": "not-a-uuid", "severity": "catastrophic", "description": 7} for _ in range(5000)]
    sent = visit_body(world, templates, findings=malformed)
    client = app.test_client()
    client.get("/api/v1/me", headers=headers)  # what is cached per process, not per request, is warm
    with counted() as statements:
        response = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, json=sent)
    message = refused(response, 413)
    assert "最多记录 200 条问题" in message and "5000" in message
    work = [s for s in statements if "SAVEPOINT" not in s]  # the test's own transaction around the request
    assert len(work) == 1 and "FROM auth_sessions" in work[0], work
    assert count(app, Visit) == 0


def test_a_visit_at_the_findings_limit_with_the_longest_texts_is_stored(app, api_token, world, templates):
    limit, longest = app.config["VISIT_MAX_FINDINGS"], app.config["DESCRIPTION_MAX_CHARS"]
    sent = visit_body(world, templates, findings=free_findings(limit, "扶" * longest))
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"), json=sent)
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert count(app, Finding) == limit


def test_more_answers_than_the_limit_are_refused(app, api_token, world, templates):
    answers = [{"code": f"X{n}", "result": "pass"} for n in range(app.config["VISIT_MAX_ANSWERS"] + 1)]
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=visit_body(world, templates, answers=answers))
    assert "最多" in refused(response, 413)


@pytest.mark.parametrize("where, make", [
    ("description", lambda world, templates, n: visit_body(world, templates, findings=free_findings(1, "扶" * n))),
    ("note", lambda world, templates, n: visit_body(world, templates, answers=[
        {"code": c, "result": "pass", "note": "注" * n} for c in templates["onsite"].codes])),
])
def test_text_over_its_length_is_refused_not_cut(app, api_token, world, templates, where, make):
    limit = app.config["DESCRIPTION_MAX_CHARS" if where == "description" else "NOTE_MAX_CHARS"]
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=make(world, templates, limit + 1))
    message = refused(response, 422)
    assert f"最多 {limit} 个字" in message
    assert count(app, Visit) == 0


def test_a_json_body_over_the_size_limit_is_refused_before_it_is_parsed(app, api_token, limits):
    """Past the size the body is not read, let alone parsed: a broken body over the limit is 413, not 400."""
    with limits(JSON_MAX_BYTES=64 * 1024):
        broken = "{" + "x" * 100_000  # not JSON: parsing it would be a 400
        response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                         data=broken, content_type="application/json")
    assert "64 KB" in refused(response, 413)


def test_json_nested_past_the_depth_limit_is_refused(app, api_token, world, templates):
    depth = app.config["JSON_MAX_DEPTH"]
    nested = {}
    for _ in range(depth):
        nested = {"a": nested}
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=visit_body(world, templates, extra=nested))
    assert f"最多 {depth} 层" in refused(response, 413)


def test_a_finding_holds_at_most_its_photo_limit(app, api_token, world, templates, limits):
    client = app.test_client()
    headers = api_token("inspector")
    finding = free_findings(1)
    assert client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers,
                      json=visit_body(world, templates, findings=finding)).status_code == 201

    def upload(colour):
        return client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(jpeg_bytes(color=colour)), "p.jpg"),
                                "finding_id": finding[0]["id"]})
    with limits(FINDING_MAX_PHOTOS=2):
        assert upload((1, 2, 3)).status_code == 201
        assert upload((4, 5, 6)).status_code == 201
        assert "2 张照片" in refused(upload((7, 8, 9)), 422)


def test_a_ticket_step_with_more_photos_than_the_limit_is_refused(app, api_token, login_as, world, make_visit):
    ticket = make_visit(world.inspector, world.a).tickets[0]
    limit = app.config["TICKET_STEP_MAX_PHOTOS"]
    ids = [str(uuid.uuid4()) for _ in range(limit + 1)]
    response = app.test_client().put(f"/api/v1/tickets/{ticket}/responses/{uuid.uuid4()}",
                                     headers=api_token("officer"), json={"text": "已整改", "photo_ids": ids})
    assert f"最多 {limit} 张" in refused(response, 413)

    files = [(io.BytesIO(jpeg_bytes(color=(i, 9, 9))), f"{i}.jpg") for i in range(limit + 1)]
    page = login_as("officer").form_post(f"/tickets/{ticket}/respond", {"text": "已整改", "photos": files},
                                         content_type="multipart/form-data")
    assert page.status_code == 413
    assert f"最多 {limit} 张" in page.get_data(as_text=True)


def test_the_page_refuses_a_problem_past_the_findings_limit(app, login_as, world, make_visit, limits):
    visit = make_visit(world.inspector, world.a, submit=False, photo=False, fail=("G1", "G2"))
    browser = login_as("inspector")
    with limits(VISIT_MAX_FINDINGS=3):
        assert browser.form_post(f"/visits/{visit.id}/findings").status_code == 302
        page = browser.form_post(f"/visits/{visit.id}/findings")
    assert page.status_code == 413
    assert "最多记录 3 条问题" in page.get_data(as_text=True)

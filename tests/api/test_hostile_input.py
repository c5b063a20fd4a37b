"""No input is a 500 (issue 9 §4): huge ids, calendar edges, deep JSON, NUL and lone surrogates, CR/LF in
redirects, a 413 on a page form. Each is a 4xx in the API's error shape, or a page in Chinese."""
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from inspect_app.extensions import db
from inspect_app.visits.models import Visit

HUGE = "54906388216714430978719744"  # beyond 64 bits
PAST_INT32 = "2147483648"  # ids are INTEGER columns: 32 bits on PostgreSQL


def body(world, templates, **changes):
    started = datetime.now(timezone.utc) - timedelta(minutes=30)
    data = {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": started.isoformat(), "submitted_at": (started + timedelta(minutes=20)).isoformat(),
            "answers": [{"code": c, "result": "pass"} for c in templates["onsite"].codes], "findings": []}
    data.update(changes)
    return data


def assert_api_error(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["code"] and error["message"]


def visits(app) -> int:
    with app.app_context():
        return db.session.query(Visit).count()


@pytest.mark.parametrize("path", [f"/api/v1/tickets/{HUGE}", f"/api/v1/tickets/{HUGE}/responses/{uuid.UUID(int=1)}",
                                  f"/api/v1/tickets/{PAST_INT32}"])
def test_an_id_past_its_column_in_an_api_path_is_not_found(app, api_token, path):
    client = app.test_client()
    method = client.get if path.count("/") == 4 else client.put
    response = method(path, headers=api_token("admin"), json={"text": "x"})
    assert_api_error(response, 404)


@pytest.mark.parametrize("path", [f"/tickets/{HUGE}", f"/schools/{HUGE}", f"/visits/pack/{HUGE}",
                                  f"/checklists/{HUGE}/edit", f"/schools/{HUGE}/poster", f"/schools/{PAST_INT32}"])
def test_an_id_past_its_column_in_a_page_path_is_a_friendly_404(login_as, path):
    response = login_as("admin").get(path)
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize("change", [
    {"school_id": int(HUGE)}, {"version_id": int(HUGE)}, {"version_id": int(PAST_INT32)},
    {"school_id": True}, {"version_id": False},
    {"school_id": -1}, {"school_id": 0},
])
def test_impossible_ids_in_a_visit_body_are_refused(app, api_token, world, templates, change):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=body(world, templates, **change))
    assert_api_error(response, 400, 422)
    assert visits(app) == 0


@pytest.mark.parametrize("query", [f"school_id={HUGE}", f"school_id={PAST_INT32}", "school_id=-3", "school_id=abc",
                                   "school_id=" + "9" * 5000])  # past Python's int() digit limit
def test_impossible_ids_in_a_query_string_are_refused(app, api_token, query):
    response = app.test_client().get(f"/api/v1/checklists?mode=overt&{query}", headers=api_token("inspector"))
    assert_api_error(response, 400, 404)


@pytest.mark.parametrize("query", [f"school_id={HUGE}&mode=overt&template_id=1",
                                   f"school_id=1&mode=overt&template_id={HUGE}"])
def test_impossible_ids_in_a_page_query_are_refused(login_as, query):
    # An id that cannot exist is treated as absent: no such school (403, as any school one may not
    # visit: ids reveal nothing) or checklist (422).
    assert login_as("inspector").get(f"/visits/new?{query}").status_code in (403, 422)


@pytest.mark.parametrize("path", [f"/schools/?page={HUGE}", f"/audit/?page={HUGE}"])
def test_an_impossible_page_number_reads_as_the_first_page(login_as, path):
    assert login_as("admin").get(path).status_code == 200


def test_a_page_form_with_an_id_past_its_column_is_refused(login_as, world, templates):
    browser = login_as("inspector")
    response = browser.form_post("/visits/start", {"school_id": HUGE, "mode": "overt",
                                                   "template_id": str(templates["onsite"].id)})
    assert response.status_code == 400


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00",
                                    "1970-01-01T00:00:00Z", "2100-01-01T00:00:00+00:00"])
@pytest.mark.parametrize("field", ["started_at", "submitted_at"])
def test_times_at_the_edge_of_the_calendar_are_refused(app, api_token, world, templates, field, moment):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=body(world, templates, **{field: moment}))
    assert_api_error(response, 422)
    assert visits(app) == 0


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_edge_times_in_photo_fields_and_headers_are_refused_or_ignored(app, api_token, moment):
    from tests.conftest import jpeg_bytes
    client = app.test_client()
    response = client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=api_token("inspector"),
                          data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "captured_at": moment})
    assert_api_error(response, 422)
    # The clock header only measures skew: a nonsense one is ignored, not a 500.
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector") | {"X-Client-Time": moment},
                          json={})
    assert_api_error(response, 400, 422)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_a_daily_report_at_the_edge_of_the_calendar_is_not_found(app, api_token, login_as, day):
    assert_api_error(app.test_client().get(f"/api/v1/reports/daily/{day}", headers=api_token("leader")), 404)
    browser = login_as("leader")
    for path in (f"/reports/daily/{day}", f"/reports/daily/{day}.pdf", f"/reports/daily/{day}.xlsx"):
        assert browser.get(path).status_code == 404


def test_export_filters_at_the_edge_of_the_calendar_are_refused(login_as):
    response = login_as("leader").get("/reports/exports/visits.csv?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 400


def test_a_submission_in_the_future_or_before_its_start_is_refused(app, api_token, world, templates):
    client = app.test_client()
    headers = api_token("inspector")
    started = datetime.now(timezone.utc) - timedelta(hours=1)
    for submitted in (datetime.now(timezone.utc) + timedelta(days=30), started - timedelta(minutes=1)):
        response = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, json=body(
            world, templates, started_at=started.isoformat(), submitted_at=submitted.isoformat()))
        assert_api_error(response, 422)
    future_start = datetime.now(timezone.utc) + timedelta(days=30)
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, json=body(
        world, templates, started_at=future_start.isoformat(), submitted_at=None))
    assert_api_error(response, 422)
    assert visits(app) == 0


def test_deeply_nested_json_is_refused_quickly(app, api_token, world, templates):
    client = app.test_client()
    headers = api_token("inspector") | {"Content-Type": "application/json"}
    for depth in (50, 100_000):
        nested = "[" * depth + "]" * depth
        data = json.dumps(body(world, templates))[:-1] + f', "extra": {nested}}}'
        response = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, data=data)
        assert_api_error(response, 413)
    assert visits(app) == 0


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
def test_unstorable_characters_in_any_json_text_are_refused(app, api_token, world, templates, bad):
    client = app.test_client()
    finding = {"id": str(uuid.uuid4()), "code": None, "description": f"地面湿滑{bad}", "severity": "minor"}
    for sent in (body(world, templates, qr_token=bad), body(world, templates, findings=[finding]),
                 body(world, templates, answers=[{"code": "G1", "result": "pass", "note": bad}]),
                 {**body(world, templates), bad: 1}):
        raw = json.dumps(sent)  # ensure_ascii: "\ud800" travels as the escape a hostile client sends
        response = client.put(f"/api/v1/visits/{uuid.uuid4()}", data=raw, headers=api_token("inspector")
                              | {"Content-Type": "application/json"})
        assert_api_error(response, 400, 422)
    assert visits(app) == 0
    response = client.post("/api/v1/auth/token", data=json.dumps({"username": bad, "password": bad}),
                           headers={"Content-Type": "application/json"})
    assert_api_error(response, 400)
    # Bytes that are not UTF-8 at all go the same way.
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", data=b'{"mode": "\xff"}',
                          headers=api_token("inspector") | {"Content-Type": "application/json"})
    assert_api_error(response, 400)


@pytest.mark.parametrize("raw", [
    '{"a": ["\\u0000"]}'.encode(),  # an escaped NUL
    '{"a": {"b": "\\ud800"}}'.encode(),  # an escaped lone surrogate
    b'{"a": "\xed\xa0\x80"}',  # a surrogate written in UTF-8: json.loads lets it through
    '{"a": "\ud800"}'.encode("utf-16", "surrogatepass"),  # a UTF-16 body: no escape, no 0xED
    '{"a": "\udfff"}'.encode("utf-16-be", "surrogatepass"),  # without a byte order mark
    '{"a": "\ud800"}'.encode("utf-32", "surrogatepass"),
    b'\xef\xbb\xbf{"a": "\xed\xa0\x80"}',  # UTF-8 with its byte order mark
    '{"\\u0000": 1}'.encode(),  # in a key
])
def test_unstorable_text_is_found_whichever_way_it_is_written(app, raw):
    from inspect_app.parsing import FieldError, load_json
    with app.test_request_context(), pytest.raises(FieldError) as refused:
        load_json(raw, 8)
    assert "无法保存" in str(refused.value)  # this check's refusal, not the parser's


def test_plain_text_skips_the_string_check_but_never_the_depth(app):
    # Hangul is written with 0xED bytes too (U+D000–U+D7FF): read, and stored as it is.
    from inspect_app.parsing import BodyTooLarge, load_json
    with app.test_request_context():
        assert load_json('{"note": "휴지 없음", "n": [1, {"a": "洗手液"}]}'.encode(), 8)["note"] == "휴지 없음"
        assert load_json(b'{"a": [{"b": [[1]]}]}', 5) == {"a": [{"b": [[1]]}]}
        with pytest.raises(BodyTooLarge):
            load_json(b'{"a": [{"b": [[1]]}]}', 4)
        with pytest.raises(BodyTooLarge):
            load_json(b'{"a": "x", "b": {"c": {"d": {"e": {}}}}}', 4)


@pytest.mark.parametrize("path", ["/schools/?q=%00", "/accounts/sign-in?next=%00"])
def test_a_nul_byte_in_a_query_string_is_a_400(login_as, path):
    response = login_as("admin").get(path)
    assert response.status_code == 400
    assert "无法保存" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_page_form_is_a_400(login_as, make_visit, world):
    visit = make_visit(world.inspector, world.a, submit=False, photo=False)
    browser = login_as("inspector")
    response = browser.form_post(f"/visits/{visit.id}/findings/{visit.findings['G1']}",
                                 {"description": "门卫\x00未登记", "severity": "minor"})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["/schools/%0d%0aSet-Cookie:%20a=b", "/%0d%0aLocation:%20http://evil.example",
                                    "/\\evil.example", "/ok\x7f"])
def test_control_characters_in_next_never_reach_the_location_header(login_as, world, target):
    from tests.conftest import PASSWORD
    browser = login_as(None)
    response = browser.form_post(f"/accounts/sign-in?next={target}", {"username": world.admin.username,
                                                                       "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Signed in already: the same link bounces home too.
    assert browser.get(f"/accounts/sign-in?next={target}").headers["Location"] == "/"


def test_a_413_on_a_page_form_is_a_friendly_page(app, login_as):
    browser = login_as("admin")
    token = browser.csrf()
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        response = browser.post("/schools/import", content_type="multipart/form-data",
                                data={"csrf_token": token, "file": (io.BytesIO(b"x" * 5000), "schools.csv")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True)


def test_a_405_names_the_allowed_methods(app):
    response = app.test_client().post("/api/v1/me")
    assert_api_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_write_without_any_credential_is_401_not_a_csrf_400(app):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json={})
    assert_api_error(response, 401)


@pytest.mark.parametrize("change, status", [({"started_at": ""}, 422), ({"corrects": ""}, 201)])
def test_empty_and_odd_values_found_by_schemathesis_are_answered(app, api_token, world, templates, change, status):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=body(world, templates, **change))
    assert response.status_code == status, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("query", ["/api/v1/tickets?status=", "/api/v1/checklists?mode=overt&school_id="])
def test_an_empty_filter_is_refused_not_ignored(app, api_token, query):
    assert_api_error(app.test_client().get(query, headers=api_token("inspector")), 400)

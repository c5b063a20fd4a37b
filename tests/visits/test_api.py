"""The visit over the API exactly as API.md fixes it: idempotent PUTs, photos before or after."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.photos.models import Photo
from inspect_app.visits.models import Answer, Finding, Visit
from tests.conftest import jpeg_bytes



# The test's "now": taken when each test starts, so a replay within a test sends the same times, and
# never at import — a time taken then goes stale once the suite has run past the server's clock-skew
# limit (300 s), and the skew test would fail for no reason of its own.
_started: datetime | None = None


@pytest.fixture(autouse=True)
def _fresh_clock():
    global _started
    _started = datetime.now(timezone.utc)
    yield
    _started = None


def now() -> datetime:
    assert _started is not None, "now() is the test's clock: call it inside a test"
    return _started


@pytest.fixture
def client(app):
    return app.test_client()


def body(world, templates, fail=None, findings=None, submitted=True, template="onsite", mode="overt",
         school=None, location=(31.9011, 120.2811)):
    fail = fail or {}
    codes = templates[template].codes
    data = {
        "school_id": (school or world.a).id, "version_id": templates[template].version_id, "mode": mode,
        "started_at": (now() - timedelta(minutes=30)).isoformat(),
        "submitted_at": now().isoformat() if submitted else None,
        "location": {"lat": location[0], "lon": location[1], "accuracy_m": 15} if location else None,
        "answers": [{"code": c, "result": "fail" if c in fail else "pass", "note": ""} for c in codes],
        "findings": findings if findings is not None else [
            {"id": fid, "code": code, "description": f"问题 {code}", "severity": "major",
             "fixed_on_site": False, "location": None, "captured_at": now().isoformat()}
            for code, fid in fail.items()],
    }
    return data


def put_photo(client, headers, finding_id=None, content=None, photo_id=None, **fields):
    photo_id = photo_id or str(uuid.uuid4())
    data = {"file": (io.BytesIO(content or jpeg_bytes()), "photo.jpg"),
            "captured_at": now().isoformat(), "lat": "31.9", "lon": "120.28", "accuracy_m": "9", **fields}
    if finding_id:
        data["finding_id"] = finding_id
    return photo_id, client.put(f"/api/v1/photos/{photo_id}", data=data, headers=headers,
                                content_type="multipart/form-data")


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_first_put_creates_a_replay_changes_nothing_and_a_different_body_conflicts(
        client, api_token, world, templates, app):
    headers = api_token("inspector")
    finding = str(uuid.uuid4())
    visit_id = str(uuid.uuid4())
    sent = body(world, templates, fail={"G2": finding})
    first = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers)
    assert first.status_code == 201, first.get_json()
    rows = (count(app, Visit), count(app, Answer), count(app, Finding))
    for _ in range(3):
        replay = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers)
        assert replay.status_code == 200
        assert replay.get_json() == first.get_json()
    assert (count(app, Visit), count(app, Answer), count(app, Finding)) == rows
    changed = dict(sent, answers=[dict(a, note="改了") for a in sent["answers"]])
    conflict = client.put(f"/api/v1/visits/{visit_id}", json=changed, headers=headers)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "visit_submitted"


def test_a_whole_visit_costs_the_same_statements_whatever_it_holds(client, api_token, world, templates, db):
    """The phone's PUT writes a visit in one flush and answers from what it wrote (issue 18): one failed
    item or six (six findings, six tickets, their events and audit entries) cost the same number of
    SQL statements, and the answer never reads the visit back after its commit."""
    from tests.conftest import counted
    headers = api_token("inspector")
    codes = templates["onsite"].codes

    def statements(failed: int) -> list[str]:
        sent = body(world, templates, fail={code: str(uuid.uuid4()) for code in codes[:failed]})
        with counted() as seen:
            response = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=headers)
        assert response.status_code == 201, response.get_json()
        assert len(response.get_json()["findings"]) == failed
        return seen

    statements(1)  # what a process caches once (the token's first use, the checklist) is not the visit's cost
    one, six = statements(1), statements(6)
    dialect = db.engine.dialect.name

    def reads(seen):
        return [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads(one)) == len(reads(six)), (reads(one), reads(six))
    if dialect == "postgresql":
        # Rows of a kind go in one INSERT there; SQLite's RETURNING keeps no order, so SQLAlchemy
        # inserts tickets and their events one by one on it.
        assert len(one) == len(six), (one, six)
    after_insert = six[next(n for n, s in enumerate(six) if s.lstrip().upper().startswith("INSERT")):]
    # Nothing reads this visit or its answers back once written. The question 一案双查 asks (did anyone
    # pass these items here lately?) reads other visits, after the visit is stored as before it.
    assert not [s for s in after_insert if ("FROM answers" in s or "FROM visits" in s) and "visits.id !=" not in s], \
        after_insert


def test_a_versions_items_are_read_once_and_in_order(app, templates, db):
    """checklists.services.items_of reads a version's items into its collection, as the relationship's
    lazy load would, and a second ask reads nothing."""
    from inspect_app.checklists.models import TemplateVersion
    from inspect_app.checklists.services import items_of
    from tests.conftest import counted
    db.session.expire_all()
    version = db.session.get(TemplateVersion, templates["onsite"].version_id)
    with counted() as seen:
        items = items_of(version)
        again = items_of(version)
        assert version.items is again
    assert len(seen) == 1
    assert [item.code for item in items] == templates["onsite"].codes == [item.code for item in again]
    assert [item.position for item in items] == sorted(item.position for item in items)


def test_an_added_problem_whose_id_another_visit_holds_is_refused_and_nothing_is_kept(
        client, api_token, world, templates, app):
    """The first try does not ask whether another visit holds a problem's id: the findings' key refuses
    it at the flush, and the try after it names the id (409). Nothing of the second visit is kept, the
    first visit's problem is untouched, and the phone can send the second visit again with a new id."""
    def added(fid, text):
        return [{"id": fid, "code": None, "description": text, "severity": "minor", "fixed_on_site": False,
                 "location": None, "captured_at": now().isoformat()}]
    taken = str(uuid.uuid4())
    first = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=body(world, templates, findings=added(taken, "楼道堆物")),
                       headers=api_token("inspector"))
    assert first.status_code == 201, first.get_json()
    rows = (count(app, Visit), count(app, Answer), count(app, Finding))
    for who in ("inspector", "leader"):
        for draft in (False, True):
            sent = body(world, templates, findings=added(taken, "别的问题"), submitted=not draft)
            refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=api_token(who))
            assert refused.status_code == 409, refused.get_json()
            assert "findings[0]" in refused.get_json()["error"]["message"]
            # The same id sent for a failed item's problem (the phone's id wins over the item's own).
            sent = body(world, templates, fail={"G2": taken}, submitted=not draft)
            refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=api_token(who))
            assert refused.status_code == 409, refused.get_json()
            assert "findings[0]" in refused.get_json()["error"]["message"]
    assert (count(app, Visit), count(app, Answer), count(app, Finding)) == rows
    with app.app_context():
        assert db.session.get(Finding, taken).description == "楼道堆物"
    fresh = body(world, templates, findings=added(str(uuid.uuid4()), "别的问题"))
    assert client.put(f"/api/v1/visits/{uuid.uuid4()}", json=fresh, headers=api_token("inspector")).status_code == 201


def test_prefer_return_minimal_answers_the_same_status_without_a_body(client, api_token, world, templates, app):
    """The phone's outbox reads nothing back from a PUT: with Prefer: return=minimal (RFC 7240) the
    visit is stored exactly as without it, the status still tells created (201) from replayed (200),
    and no body is sent over the phone's one bar. A refusal keeps its JSON error."""
    headers = dict(api_token("inspector"), Prefer="return=minimal")
    visit_id = str(uuid.uuid4())
    sent = body(world, templates, fail={"G2": str(uuid.uuid4())})
    created = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers)
    assert created.status_code == 201 and created.get_data() == b""
    assert created.headers["Preference-Applied"] == "return=minimal"
    replay = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers)
    assert replay.status_code == 200 and replay.get_data() == b""
    stored = client.get(f"/api/v1/visits/{visit_id}", headers=api_token("inspector")).get_json()
    assert stored["status"] == "submitted" and [f["code"] for f in stored["findings"]] == ["G2"]
    # Without the preference (or with another one) the whole visit comes back, as before.
    for prefer in (None, "return=representation", "respond-async"):
        other = dict(api_token("inspector"), **({"Prefer": prefer} if prefer else {}))
        full = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=other)
        assert full.status_code == 200 and full.get_json()["id"] == visit_id
        assert "Preference-Applied" not in full.headers
    # Parsed as RFC 7240 writes it: several preferences, spaces, a quoted value, any case.
    for prefer in ('wait=5, return="minimal"', "Return=Minimal; x=1"):
        assert client.put(f"/api/v1/visits/{visit_id}", json=sent,
                          headers=dict(api_token("inspector"), Prefer=prefer)).get_data() == b""
    # A preference's first instance is the one that counts (RFC 7240 §2).
    first_wins = client.put(f"/api/v1/visits/{visit_id}", json=sent,
                            headers=dict(api_token("inspector"), Prefer="return=representation, return=minimal"))
    assert first_wins.get_json()["id"] == visit_id
    changed = dict(sent, answers=[dict(a, note="改了") for a in sent["answers"]])
    conflict = client.put(f"/api/v1/visits/{visit_id}", json=changed, headers=headers)
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == "visit_submitted"


def test_an_existing_id_is_found_even_when_the_body_names_no_school(client, api_token, world, templates):
    """The visit under an id is read with the school a body names (one round trip); a body naming no
    school still meets the visit first: another's id is 409, one's own submitted visit is 409 too."""
    visit_id = str(uuid.uuid4())
    sent = body(world, templates)
    assert client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=api_token("inspector")).status_code == 201
    nowhere = dict(sent, school_id=2_000_000_000)
    theirs = client.put(f"/api/v1/visits/{visit_id}", json=nowhere, headers=api_token("leader"))
    assert theirs.status_code == 409 and theirs.get_json()["error"]["code"] != "visit_submitted"
    mine = client.put(f"/api/v1/visits/{visit_id}", json=nowhere, headers=api_token("inspector"))
    assert mine.status_code == 409 and mine.get_json()["error"]["code"] == "visit_submitted"
    # A new id naming no school: refused as a school this user may not visit.
    assert client.put(f"/api/v1/visits/{uuid.uuid4()}", json=nowhere, headers=api_token("inspector")).status_code == 403


def test_a_visit_in_progress_can_be_replaced_until_it_is_submitted(client, api_token, world, templates, app):
    headers = api_token("inspector")
    visit_id = str(uuid.uuid4())
    draft = body(world, templates, submitted=False)
    draft["answers"] = draft["answers"][:3]
    assert client.put(f"/api/v1/visits/{visit_id}", json=draft, headers=headers).status_code == 201
    # Submitting with unanswered items is refused and saves nothing of the attempt.
    half = dict(draft, submitted_at=now().isoformat())
    refused = client.put(f"/api/v1/visits/{visit_id}", json=half, headers=headers)
    assert refused.status_code == 422 and "G4" in refused.get_json()["error"]["message"]
    whole = body(world, templates)
    done = client.put(f"/api/v1/visits/{visit_id}", json=whole, headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "submitted"


def test_photos_may_arrive_before_or_after_their_visit(client, api_token, world, templates):
    headers = api_token("inspector")
    before, after = str(uuid.uuid4()), str(uuid.uuid4())
    early_id, early = put_photo(client, headers, finding_id=before)
    assert early.status_code == 201
    visit_id = str(uuid.uuid4())
    sent = body(world, templates, fail={"G1": before, "I1": after})  # both need photos
    visit = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers).get_json()
    assert visit["flags"]["incomplete"] is True and visit["flags"]["missing_photos"] == ["I1"]
    late_id, late = put_photo(client, headers, finding_id=after, content=jpeg_bytes(color=(1, 2, 3)))
    assert late.status_code == 201
    visit = client.get(f"/api/v1/visits/{visit_id}", headers=headers).get_json()
    assert visit["flags"]["incomplete"] is False
    photos = {f["code"]: [p["id"] for p in f["photos"]] for f in visit["findings"]}
    assert photos == {"G1": [early_id], "I1": [late_id]}
    served = client.get(visit["findings"][0]["photos"][0]["url"], headers=headers)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_a_photo_replay_is_one_photo_and_different_content_conflicts(client, api_token, world, app):
    headers = api_token("inspector")
    finding = str(uuid.uuid4())
    photo_id, first = put_photo(client, headers, finding_id=finding)
    for _ in range(3):
        _, again = put_photo(client, headers, finding_id=finding, photo_id=photo_id)
        assert again.status_code == 200
    assert count(app, Photo) == 1
    _, other = put_photo(client, headers, finding_id=finding, photo_id=photo_id, content=jpeg_bytes(color=(0, 0, 9)))
    assert other.status_code == 409


def test_only_the_author_attaches_photos_to_a_finding(client, api_token, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, photo=False)
    finding = done.findings["G1"]
    _, stranger = put_photo(client, api_token("leader"), finding_id=finding)
    assert stranger.status_code == 404
    # A stranger who uploads first, naming a finding that does not exist yet, never gets attached.
    future = str(uuid.uuid4())
    put_photo(client, api_token("leader"), finding_id=future)
    headers = api_token("inspector")
    visit_id = str(uuid.uuid4())
    visit = client.put(f"/api/v1/visits/{visit_id}", json=body(world, templates, fail={"G1": future}),
                       headers=headers).get_json()
    assert visit["findings"][0]["photos"] == [] and visit["flags"]["incomplete"] is True


def test_a_photo_used_in_two_visits_is_flagged(client, api_token, world, templates):
    headers = api_token("inspector")
    same = jpeg_bytes(color=(9, 9, 9))
    ids = []
    for _ in range(2):
        finding = str(uuid.uuid4())
        put_photo(client, headers, finding_id=finding, content=same)
        visit_id = str(uuid.uuid4())
        client.put(f"/api/v1/visits/{visit_id}", json=body(world, templates, fail={"G2": finding}), headers=headers)
        ids.append(visit_id)
    flags = client.get(f"/api/v1/visits/{ids[1]}", headers=headers).get_json()["flags"]
    assert len(flags["reused_photos"]) == 1


def test_distance_on_site_and_clock_skew_flags(client, api_token, world, templates, db):
    headers = api_token("inspector")
    from inspect_app.schools.models import School
    school = db.session.get(School, world.a.id)
    here = (school.lat, school.lon)
    near = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=body(world, templates, location=here),
                      headers={**headers, "X-Client-Time": now().isoformat()}).get_json()["flags"]
    assert near["on_site"] is True and near["distance_m"] < 1 and near["clock_skew_flag"] is False
    far = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=body(world, templates, location=(31.5, 120.0)),
                     headers={**headers, "X-Client-Time": (now() - timedelta(hours=2)).isoformat()}).get_json()["flags"]
    assert far["on_site"] is False and far["distance_m"] > 10_000
    assert far["clock_skew_flag"] is True and far["clock_skew_s"] > 7000
    nowhere = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=body(world, templates, location=None),
                         headers=headers).get_json()["flags"]
    assert nowhere["no_location"] is True and nowhere["on_site"] is None


@pytest.mark.parametrize("change, status", [
    (lambda b: b.update(mode="teleport"), 422),
    (lambda b: b.update(school_id="1"), 400),
    (lambda b: b.pop("started_at"), 422),
    (lambda b: b.update(started_at="yesterday"), 422),
    (lambda b: b.update(started_at="2026-11-23T10:00:00"), 422),  # no offset
    (lambda b: b.update(answers=[{"code": "ZZ9", "result": "pass"}]), 422),
    (lambda b: b.update(answers=[{"code": "G1", "result": "maybe"}]), 422),
    (lambda b: b.update(answers="all good"), 400),
    (lambda b: b.update(location={"lat": "NaN", "lon": 1}), 422),
    (lambda b: b.update(location={"lat": 91, "lon": 1}), 422),
    (lambda b: b.update(findings=[{"id": "not-a-uuid", "code": None, "description": "x"}]), 422),
    (lambda b: b.update(findings=[{"id": str(uuid.uuid4()), "code": "G1", "description": "x"}]), 422),
    (lambda b: b.update(findings=[{"id": str(uuid.uuid4()), "code": None, "description": ""}]), 422),
    (lambda b: b.update(version_id=999999), 422),
    (lambda b: b.update(school_id=999999), 403),
    (lambda b: b.update(mode="follow_up", ticket_results=[{"ticket_id": 999999, "outcome": "close"}]), 422),
    (lambda b: b.update(ticket_results=[{"ticket_id": 1, "outcome": "close"}]), 422),  # not a follow-up
    (lambda b: b.update(mode="follow_up", ticket_results=[{"ticket_id": "1", "outcome": "close"}]), 400),
])
def test_bad_visits_get_a_4xx_and_a_message_never_a_500(client, api_token, world, templates, change, status, app):
    sent = body(world, templates)
    change(sent)
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=api_token("inspector"))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["message"]
    assert count(app, Visit) == 0


def test_roles_over_the_api(client, api_token, world, templates):
    officer = api_token("officer")
    for mode, template in (("overt", "onsite"), ("covert", "covert")):
        refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=officer,
                             json=body(world, templates, mode=mode, template=template))
        assert refused.status_code == 403
    other_school = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=officer,
                              json=body(world, templates, mode="self_check", template="selfcheck", school=world.b))
    assert other_school.status_code == 403
    own = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=officer,
                     json=body(world, templates, mode="self_check", template="selfcheck"))
    assert own.status_code == 201
    listed = client.get(f"/api/v1/checklists?mode=self_check&school_id={world.a.id}", headers=officer).get_json()
    assert [c["code"] for c in listed["checklists"]] == ["selfcheck"]
    volunteer = client.get("/api/v1/checklists?mode=covert", headers=api_token("volunteer")).get_json()
    assert [c["code"] for c in volunteer["checklists"]] == ["covert"]
    # Overtly (明查), a volunteer answers the parents' own checklist, and only that one.
    overt = client.get("/api/v1/checklists?mode=overt", headers=api_token("volunteer")).get_json()["checklists"]
    assert [c["code"] for c in overt] == ["parent_overt"]


def test_the_school_sees_no_source_no_time_and_no_metadata(client, api_token, world, templates, make_visit, app):
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    seen = client.get(f"/api/v1/visits/{done.id}", headers=api_token("officer")).get_json()
    assert seen["source"] == "inspection_group"
    for hidden in ("author_id", "started_at", "submitted_at", "location", "flags", "template"):
        assert hidden not in seen
    photo = seen["findings"][0]["photos"][0]
    assert set(photo) == {"id", "url", "thumb_url"}
    image = client.get(photo["url"], headers=api_token("officer"))
    assert image.status_code == 200 and b"Exif\x00\x00" not in image.data
    assert client.get(f"/photos/{photo['id']}/original", headers=api_token("officer")).status_code == 404
    other = client.get(f"/api/v1/visits/{done.id}", headers=api_token("officer_b"))
    assert other.status_code == 404
    assert client.get(photo["url"], headers=api_token("officer_b")).status_code == 404


@pytest.mark.parametrize("content, status", [
    (b"", 422), (b"<svg onload=alert(1)>", 415), (b"GIF89a....", 415),
])
def test_bad_photo_uploads_over_the_api(client, api_token, content, status, app):
    _, response = put_photo(client, api_token("inspector"), content=content or None) if content else (
        None, client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=api_token("inspector"),
                         data={"file": (io.BytesIO(b""), "x.jpg")}, content_type="multipart/form-data"))
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert count(app, Photo) == 0


def test_a_huge_photo_is_413(client, api_token, app, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 1000)
    _, response = put_photo(client, api_token("inspector"), content=jpeg_bytes(size=(400, 400)) + b"\0" * 2000)
    assert response.status_code == 413
    assert "照片太大" in response.get_json()["error"]["message"]
    # Past MAX_CONTENT_LENGTH the body is refused before it is read (raw bytes: no spooled file).
    raw = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n\r\n"
           + b"\xff" * (21 * 1024 * 1024) + b"\r\n--B--\r\n")
    request_too_big = client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=api_token("inspector"),
                                 data=raw, content_type="multipart/form-data; boundary=B")
    assert request_too_big.status_code == 413


def test_malformed_photo_fields_are_422(client, api_token):
    _, response = put_photo(client, api_token("inspector"), lat="NaN")
    assert response.status_code == 422
    _, response = put_photo(client, api_token("inspector"), captured_at="noon")
    assert response.status_code == 422
    response = client.put("/api/v1/photos/not-a-uuid", headers=api_token("inspector"),
                          data={"file": (io.BytesIO(jpeg_bytes()), "x.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 422


def test_a_correction_is_a_new_visit_naming_the_old(client, api_token, world, templates):
    headers = api_token("inspector")
    first = str(uuid.uuid4())
    client.put(f"/api/v1/visits/{first}", json=body(world, templates), headers=headers)
    fix = dict(body(world, templates), corrects=first)
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=fix, headers=headers)
    assert response.status_code == 201 and response.get_json()["corrects"] == first
    stranger = dict(body(world, templates), corrects=first)
    refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=stranger, headers=api_token("leader"))
    assert refused.status_code == 422

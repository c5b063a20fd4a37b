"""What the audit chain records of a visit's answers, however they are written (issue 18 moved them off
the ORM's unit of work): one "create" entry per new answer with every column as stored, one "update"
entry per changed answer with the changed columns only, beside the visit's other entries of the same
transaction (in no order the chain promises), and the chain still verifies."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.audit.services import verify
from inspect_app.extensions import db
from inspect_app.visits.models import Answer, Finding, Visit
from tests.visits.test_flow import _answer, _start


# Quotes, a backslash and a character outside the BMP: on PostgreSQL the answers travel as one JSON
# document (visits.services._write_answers), and what is stored must be what was sent.
NOTE = '备注 "G3" \\ 🧼'


def _last_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0


def _entries_since(last_id: int) -> list[tuple[str, str, str, dict]]:
    return [(e.object_type, e.object_id, e.action, json.loads(e.data)) for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id))]


def _stored(answer: Answer) -> dict:
    """An answer's row as the chain records it: every column, times in UTC ISO 8601, enums by value."""
    return {"id": answer.id, "visit_id": answer.visit_id, "code": answer.code, "result": answer.result.value,
            "note": answer.note, "answered_at": answer.answered_at.astimezone(timezone.utc).isoformat()}


def _answers_of(visit_id: str) -> list[dict]:
    return [_stored(a) for a in db.session.scalars(sa.select(Answer).where(Answer.visit_id == visit_id)
                                                   .order_by(Answer.id))]


def _whole_visit(world, templates, fail: dict[str, str], answers: list[str], submitted: bool) -> dict:
    now = datetime.now(timezone.utc)
    return {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": (now - timedelta(minutes=30)).isoformat(),
            "submitted_at": now.isoformat() if submitted else None,
            "location": {"lat": 31.9011, "lon": 120.2811, "accuracy_m": 15},
            "answers": [{"code": c, "result": "fail" if c in fail else "pass", "note": NOTE if c == "G3" else ""}
                        for c in answers],
            "findings": [{"id": fid, "code": code, "description": f"问题 {code}", "severity": "major",
                          "fixed_on_site": False, "location": None, "captured_at": now.isoformat()}
                         for code, fid in fail.items()]}


@pytest.fixture
def put(app, api_token):
    """PUT a whole visit as the inspector; the answer."""
    headers, client = api_token("inspector"), app.test_client()
    return lambda visit_id, body: client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers)


def test_a_whole_visit_put_records_every_answer_as_stored(db, put, world, templates):
    codes = templates["onsite"].codes
    fail = {code: str(uuid.uuid4()) for code in codes[1:4]}
    visit_id = str(uuid.uuid4())
    before = _last_id()
    response = put(visit_id, _whole_visit(world, templates, fail, codes, True))
    assert response.status_code == 201, response.get_json()
    entries = _entries_since(before)
    answers = list(db.session.scalars(sa.select(Answer).where(Answer.visit_id == visit_id).order_by(Answer.id)))
    assert [a.code for a in answers] == codes
    kinds = [(object_type, action) for object_type, _id, action, _data in entries]
    assert kinds.count(("visits", "create")) == 1 and kinds.count(("findings", "create")) == len(fail)
    assert [e for e in entries if e[0] == "answers"] == [("answers", str(a.id), "create", _stored(a))
                                                          for a in answers]
    assert answers[2].note == NOTE
    assert {object_id for object_type, object_id, _a, _d in entries if object_type == "findings"} \
        == set(fail.values())
    assert ("tickets", "create") in kinds
    assert not [kind for kind in kinds if kind[0] == "answers" and kind[1] != "create"]
    assert verify().ok


def test_replacing_a_draft_records_what_changed_and_what_went(db, put, world, templates):
    codes = templates["onsite"].codes
    visit_id = str(uuid.uuid4())
    draft = _whole_visit(world, templates, {}, codes[:5], False)
    assert put(visit_id, draft).status_code == 201
    before = _last_id()
    kept = {a.code: _stored(a) for a in db.session.scalars(sa.select(Answer).where(Answer.visit_id == visit_id))}
    finding = str(uuid.uuid4())
    # G1 changes its mind, G2 is sent again unchanged, G4 and G5 are no longer sent, two are new.
    again = _whole_visit(world, templates, {codes[0]: finding}, codes[:3] + codes[5:7], False)
    response = put(visit_id, again)
    assert response.status_code == 200, response.get_json()
    assert [a["code"] for a in response.get_json()["answers"]] == codes[:3] + codes[5:7]
    entries = _entries_since(before)
    answers = {a.code: a for a in db.session.scalars(sa.select(Answer).where(Answer.visit_id == visit_id))}
    about_answers = [e for e in entries if e[0] == "answers"]
    when = answers[codes[0]].answered_at.astimezone(timezone.utc).isoformat()
    expected = ([("answers", str(answers[c].id), "update",
                  {"answered_at": when} | ({"result": "fail"} if c == codes[0] else {}))
                 for c in codes[:3]]
                + [("answers", str(answers[c].id), "create", _stored(answers[c])) for c in codes[5:7]])
    # The answers no longer sent go as orphans of the visit: recorded as deleted, with what they held.
    expected += [("answers", str(kept[c]["id"]), "delete", kept[c]) for c in codes[3:5]]
    assert sorted(about_answers, key=repr) == sorted(expected, key=repr)
    assert codes[3] not in answers and codes[4] not in answers and kept[codes[1]]["id"] == answers[codes[1]].id
    assert ("findings", finding, "create") in [e[:3] for e in entries]
    assert verify().ok


def test_a_tap_that_changes_an_answer_records_the_change(db, login_as, world, templates):
    browser = login_as("inspector")
    visit_id = _start(browser, world.a, templates).headers["Location"].rsplit("/", 1)[1]
    code = templates["onsite"].codes[0]
    token = browser.csrf()
    before = _last_id()
    assert _answer(browser, visit_id, code, "pass", token).status_code == 302
    answer = db.session.scalar(sa.select(Answer).where(Answer.visit_id == visit_id))
    assert _entries_since(before) == [("answers", str(answer.id), "create", _stored(answer))]
    first = _stored(answer)
    before = _last_id()
    assert _answer(browser, visit_id, code, "fail", token).status_code == 302
    answer = db.session.get(Answer, first["id"])
    finding_id = db.session.scalar(sa.select(Finding.id).where(Finding.visit_id == visit_id))
    entries = sorted(_entries_since(before))
    assert entries[0] == ("answers", str(answer.id), "update",
                          {"result": "fail", "answered_at": _stored(answer)["answered_at"]})
    assert [e[:3] for e in entries[1:]] == [("findings", finding_id, "create")]
    before = _last_id()
    assert _answer(browser, visit_id, code, "pass", token).status_code == 302
    entries = _entries_since(before)
    # The finding goes as an orphan of the visit, and is recorded as deleted.
    assert [e[:3] for e in entries if e[0] == "answers"] == [("answers", str(answer.id), "update")]
    assert [e[:3] for e in entries if e[0] == "findings"] == [("findings", finding_id, "delete")]
    assert db.session.get(Finding, finding_id) is None
    assert db.session.get(Visit, visit_id).answers[0].result.value == "pass"
    assert verify().ok


def test_a_refused_replacement_keeps_no_answer_and_records_nothing(db, put, world, templates):
    codes = templates["onsite"].codes
    visit_id = str(uuid.uuid4())
    assert put(visit_id, _whole_visit(world, templates, {}, codes[:3], False)).status_code == 201
    before = _last_id()
    stored = _answers_of(visit_id)
    # Changed answers and new ones, then a submission the unanswered items refuse: none of it stays.
    refused = _whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes[:5], True)
    response = put(visit_id, refused)
    assert response.status_code == 422, response.get_json()
    assert _answers_of(visit_id) == stored
    assert _entries_since(before) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)
                             .where(Finding.visit_id == visit_id)) == 0


@pytest.mark.parametrize("microsecond", [0, 999_999])
def test_an_answers_time_is_stored_to_the_microsecond_whatever_its_zone(db, put, world, templates, monkeypatch,
                                                                       microsecond):
    """On PostgreSQL the answers travel as one JSON document with their times as text: a time in
    another zone, on a whole second (isoformat then drops the fraction) or just before the next one,
    is stored as the same instant, and the chain records what was stored."""
    import inspect_app.visits.services as services
    zone = timezone(timedelta(hours=8))
    when = datetime.now(zone).replace(microsecond=microsecond) - timedelta(seconds=1)
    monkeypatch.setattr(services, "utcnow", lambda: when)
    visit_id, codes = str(uuid.uuid4()), templates["onsite"].codes
    before = _last_id()
    assert put(visit_id, _whole_visit(world, templates, {}, codes, False)).status_code == 201
    stored = _answers_of(visit_id)
    assert {a["answered_at"] for a in stored} == {when.astimezone(timezone.utc).isoformat()}
    assert [data for object_type, _id, _action, data in _entries_since(before) if object_type == "answers"] == stored

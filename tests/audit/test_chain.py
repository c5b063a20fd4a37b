"""The audit chain: every state change recorded, and any tampering named by `flask audit verify`."""
import json

import pytest
import sqlalchemy as sa
from flask import has_app_context

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db

# raw() edits rows behind the app's back on a connection of its own.
pytestmark = pytest.mark.real_commits


def entries(app):
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.id, AuditEntry.action, AuditEntry.object_type,
                                            AuditEntry.data, AuditEntry.actor_id)
                                  .order_by(AuditEntry.id)).all()


def verify(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def raw(app, sql: str, **params):
    """Change audit rows behind the app's back, as an attacker with database access would."""
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # past the trigger
        conn.execute(sa.text(sql), params)
    if has_app_context():
        db.session.expire_all()  # a test's held session (the db fixture's) reads the changed rows afresh


def test_state_changes_of_every_domain_are_recorded(app, login_as, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    login_as("officer").form_post(f"/tickets/{done.tickets[0]}/respond", {"text": "已整改"})
    recorded = {(action, kind) for _, action, kind, _, _ in entries(app)}
    for expected in [("create", "users"), ("create", "schools"), ("create", "visits"), ("update", "visits"),
                     ("create", "findings"), ("create", "photos"), ("create", "tickets"),
                     ("create", "ticket_events"), ("update", "tickets"), ("create", "auth_sessions"),
                     ("create", "signin_attempts"), ("create", "checklist_templates")]:
        assert expected in recorded, expected
    assert verify(app)[0] == 0


def test_secrets_are_never_written_into_the_record(app, world):
    for _, _, kind, data, _ in entries(app):
        values = json.loads(data)
        for key in ("password_hash", "key_hash", "qr_token"):
            assert values.get(key, "(changed)") == "(changed)"
        assert "$argon2" not in data


def test_the_actor_is_the_signed_in_user(app, login_as, world):
    login_as("admin").form_post(f"/schools/{world.a.id}/rotate-qr")
    rotations = [e for e in entries(app) if e.object_type == "schools" and e.action == "update"]
    assert rotations and rotations[-1].actor_id == world.admin.id


def test_an_intact_chain_verifies(app, world):
    code, output = verify(app)
    assert code == 0 and "intact" in output


def test_a_tampered_row_is_named(app, world):
    target = entries(app)[3].id
    raw(app, "UPDATE audit_entries SET data = '{\"role\": \"admin\"}' WHERE id = :id", id=target)
    code, output = verify(app)
    assert code == 1 and f"entry {target}" in output and "altered" in output


def test_a_deleted_row_is_named(app, world):
    rows = entries(app)
    raw(app, "DELETE FROM audit_entries WHERE id = :id", id=rows[2].id)
    code, output = verify(app)
    assert code == 1 and f"entry {rows[3].id}" in output and "missing" in output


def test_two_reordered_rows_are_named(app, world):
    rows = entries(app)
    a, b = rows[1].id, rows[2].id
    # Swap the contents of two entries (ids keep their order): the links no longer line up.
    raw(app, "UPDATE audit_entries SET id = -1 WHERE id = :a", a=a)
    raw(app, "UPDATE audit_entries SET id = :a WHERE id = :b", a=a, b=b)
    raw(app, "UPDATE audit_entries SET id = :b WHERE id = -1", b=b)
    code, output = verify(app)
    assert code == 1 and f"entry {a}" in output


def test_concurrent_appenders_cannot_fork_the_chain(app, db, world):
    """Two transactions that both read the same head: the second cannot append after it."""
    from inspect_app.audit.keys import keyring
    head = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    forged = AuditEntry(id=head.id + 100, at=head.at, actor_id=None, action="create", object_type="x",
                        object_id="1", data="{}", prev_hash=head.prev_hash, key_id=head.key_id)
    forged.hash = forged.compute_hash(keyring().secret(head.key_id))
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.insert(AuditEntry), [{c.name: getattr(forged, c.key)
                                                  for c in AuditEntry.__table__.columns}])
    assert verify(app)[0] == 0


def test_on_postgresql_an_appender_reads_the_head_after_the_lock_is_granted(app, db, world):
    """The lock and the head are one statement (audit_chain_head): an appender that waited for the lock
    still reads the entry the holder committed meanwhile, so it chains after it, not after the old head."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the appenders' lock is PostgreSQL's; SQLite's one writer serialises them")
    import threading
    from inspect_app.audit.keys import keyring
    from inspect_app.audit.services import _chain_head
    db.session.commit()  # what the fixture wrote is the chain both appenders start from
    with db.engine.connect() as first, db.engine.connect() as second:
        first.begin()
        last_id, last_hash = _chain_head(first)  # holds the lock until `first` commits
        entry = AuditEntry(id=last_id + 1, at=db.session.scalar(sa.select(sa.func.now())), actor_id=None,
                           action="create", object_type="x", object_id="1", data="{}", prev_hash=last_hash,
                           key_id=keyring().current)
        entry.hash = entry.compute_hash(keyring().secret(entry.key_id))
        first.execute(sa.insert(AuditEntry), [{c.name: getattr(entry, c.key) for c in AuditEntry.__table__.columns}])
        seen = []
        second.begin()
        waiter = threading.Thread(target=lambda: seen.append(_chain_head(second)))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and not seen  # waiting for the lock
        first.commit()
        waiter.join(10)
        second.rollback()
    assert seen == [(entry.id, entry.hash)]
    assert verify(app)[0] == 0


def test_on_postgresql_the_app_cannot_update_or_delete_audit_rows(db, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite is the single-machine default)")
    for statement in ("UPDATE audit_entries SET data = '{}'", "DELETE FROM audit_entries"):
        with pytest.raises(sa.exc.DBAPIError) as refused:
            with db.engine.begin() as conn:
                conn.execute(sa.text(statement))
        assert "append-only" in str(refused.value)


def test_admins_and_leaders_read_and_verify_the_trail(login_as, world):
    page = login_as("leader").get("/audit/?verify=1").get_data(as_text=True)
    assert "记录链完整" in page


def test_an_entry_hash_is_the_same_bytes_as_every_chain_already_written():
    """Chains written before stay verifiable: the HMAC is over json.dumps of the columns in a fixed order
    (compact, not ASCII-escaped), whatever the code that computes it now."""
    import hashlib
    import hmac
    from datetime import datetime, timezone

    from inspect_app.audit.models import entry_hash
    at = datetime(2026, 11, 26, 23, 30, 1, 250, tzinfo=timezone.utc)
    columns = [7, "2026-11-26T23:30:01.000250+00:00", None, "create", "answers", "42",
               '{"note": "备注 \\"G3\\"", "result": "pass"}', "0" * 64, "k2026"]
    expected = hmac.new(b"secret", json.dumps(columns, ensure_ascii=False, separators=(",", ":")).encode(),
                        hashlib.sha256).hexdigest()
    assert entry_hash(b"secret", 7, at, None, "create", "answers", "42", columns[6], "0" * 64, "k2026") == expected

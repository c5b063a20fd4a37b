"""Upgrading a database whose chain was written with plain SHA-256: the migration re-chains it with the
key after checking it, and refuses to launder a chain that is already broken."""
import hashlib
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from inspect_app.audit.models import GENESIS, AuditEntry
from inspect_app.audit.services import verify
from inspect_app.extensions import db

# Downgrades and upgrades the schema itself.
pytestmark = pytest.mark.real_commits

BEFORE = "7ebd8f6197a8"


def plain_rows(count: int, break_at: int | None = None) -> list[dict]:
    """Entries as the release before the keyed chain wrote them."""
    rows, previous = [], GENESIS
    for n in range(1, count + 1):
        at = datetime(2026, 11, 20, 8, 0, n, 123456, tzinfo=UTC)
        data = json.dumps({"name": f"学校{n}"}, ensure_ascii=False)
        payload = json.dumps([n, at.isoformat(timespec="microseconds"), None, "create", "schools", str(n), data,
                              previous], ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode()).hexdigest()
        if n == break_at:
            data = '{"name": "改过"}'  # edited after hashing
        rows.append({"id": n, "at": at.replace(tzinfo=None), "actor_id": None, "action": "create",
                     "object_type": "schools", "object_id": str(n), "data": data, "prev_hash": previous,
                     "hash": digest})
        previous = digest
    return rows


def insert(rows):
    table = sa.table("audit_entries", *[sa.column(name) for name in rows[0]])
    with db.engine.begin() as conn:
        conn.execute(sa.insert(table), rows)


def forget_chain():
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # past the trigger
        conn.execute(sa.text("DELETE FROM audit_entries"))


@pytest.fixture
def old_schema(app):
    with app.app_context():
        db.session.remove()
        forget_chain()  # the chain the tests' installation wrote (shipped templates): these write their own
        downgrade(revision=BEFORE)
        yield
        db.session.remove()
        forget_chain()
        upgrade()


def test_the_plain_chain_is_rechained_with_the_key(app, old_schema):
    insert(plain_rows(5))
    upgrade()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.key_id for e in entries] == ["test"] * 5
    assert verify().ok and verify().checked == 5
    assert entries[-1].hash != plain_rows(5)[-1]["hash"]


def test_a_broken_plain_chain_is_not_laundered(app, old_schema, caplog):
    insert(plain_rows(4, break_at=3))
    with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
        upgrade()
    assert "broken at entry 3" in caplog.text
    with db.engine.connect() as conn:  # nothing was changed
        assert "key_id" not in {c["name"] for c in sa.inspect(conn).get_columns("audit_entries")}

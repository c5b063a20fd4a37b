"""What a plain hash chain missed: a rewrite with every later hash recomputed, the newest entries cut
off, the key. The chain is keyed (HMAC, the key outside the database) and anchored outside the table."""
import hashlib
import io
import json
import re
from datetime import UTC, date, datetime, timezone

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from tests.audit.test_chain import raw, verify

# raw() edits rows behind the app's back on a connection of its own.
pytestmark = pytest.mark.real_commits


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.output


def head(app) -> str:
    code, output = cli(app, "head")
    assert code == 0, output
    return output.strip()


def rows(app):
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


def test_cutting_off_the_newest_entries_is_caught_by_the_anchor(app, login_as, world):
    anchor = head(app)  # e.g. printed on yesterday's signed report
    login_as("admin").form_post(f"/schools/{world.a.id}/rotate-qr")
    assert cli(app, "verify", "--anchor", anchor)[0] == 0  # the chain grew: it still extends the anchor
    count = int(anchor.split(":")[0])
    raw(app, "DELETE FROM audit_entries WHERE id >= :id", id=count)  # the anchored entry and all after it
    assert verify(app)[0] == 0  # what is left is a consistent chain: only the anchor tells
    code, output = cli(app, "verify", "--anchor", anchor)
    assert code == 1 and f"vouches for {count}" in output and "removed" in output


def test_an_anchor_the_chain_does_not_pass_through_is_refused(app, world):
    count, _ = head(app).split(":")
    code, output = cli(app, "verify", "--anchor", f"{count}:{'ab' * 32}")
    assert code == 1 and "anchor" in output
    assert cli(app, "verify", "--anchor", "not-an-anchor")[0] == 2  # a usage error, not a verdict


def test_an_edit_with_every_later_hash_recomputed_is_caught(app, world):
    """The attacker edits one entry and recomputes the plain SHA-256 of it and of every later entry."""
    entries = rows(app)
    target = entries[3].id
    previous = entries[2].hash
    for entry in entries[3:]:
        data = '{"role": "admin"}' if entry.id == target else entry.data
        at = entry.at.astimezone(timezone.utc).isoformat(timespec="microseconds")
        payload = json.dumps([entry.id, at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
                              data, previous], ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode()).hexdigest()
        raw(app, "UPDATE audit_entries SET data = :data, prev_hash = :prev, hash = :hash WHERE id = :id",
            data=data, prev=previous, hash=digest, id=entry.id)
        previous = digest
    code, output = verify(app)
    assert code == 1 and f"entry {target}" in output and "altered" in output


def test_a_wrong_key_fails(app, world, monkeypatch):
    assert verify(app)[0] == 0
    # The same key id with another secret (a guessed or stale key), then a key list that lacks it.
    monkeypatch.setitem(app.config, "AUDIT_KEYS", "test:another-secret-of-at-least-32-characters!!")
    code, output = verify(app)
    assert code == 1 and "altered" in output
    monkeypatch.setitem(app.config, "AUDIT_KEYS", "other:another-secret-of-at-least-32-characters!!")
    code, output = verify(app)
    assert code == 1 and "'test'" in output and "AUDIT_KEYS" in output


def test_a_rotated_key_signs_new_entries_and_the_old_one_still_verifies(app, db, login_as, world, monkeypatch):
    old = app.config["AUDIT_KEYS"]
    monkeypatch.setitem(app.config, "AUDIT_KEYS", "k2:the-next-key-at-least-32-characters-long,\n" + old)
    login_as("admin").form_post(f"/schools/{world.a.id}/rotate-qr")
    assert {e.key_id for e in rows(app)} == {"test", "k2"} and rows(app)[-1].key_id == "k2"
    assert verify(app)[0] == 0
    # An entry under the old key after the new one took over (someone holding a retired key) fails.
    newest = rows(app)[-1]
    raw(app, "UPDATE audit_entries SET key_id = 'test' WHERE id = :id", id=newest.id)
    forged = db.session.get(AuditEntry, newest.id)
    from inspect_app.audit.keys import keyring
    digest = forged.compute_hash(keyring().secret("test"))
    raw(app, "UPDATE audit_entries SET hash = :hash WHERE id = :id", hash=digest, id=newest.id)
    code, output = verify(app)
    assert code == 1 and "older key" in output


def test_the_signed_report_carries_the_anchor(app, db, login_as, world, templates, make_visit):
    from inspect_app.reports.models import DailyReport
    from inspect_app.visits.models import Visit
    day = date(2026, 3, 10)
    done = make_visit(world.inspector, world.a, fail=("G2",))
    visit = db.session.get(Visit, done.id)
    visit.server_submitted_at = visit.submitted_at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    db.session.commit()
    before = head(app)
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{day}/sign").status_code == 302
    report = db.session.scalar(sa.select(DailyReport))
    stored = json.loads(report.content)
    anchor = stored["audit_anchor"]
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", anchor) and report.intact()
    assert int(anchor.split(":")[0]) >= int(before.split(":")[0])
    pdf = leader.get(f"/reports/daily/{day}.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert anchor in re.sub(r"\s", "", text)
    assert anchor in leader.get(f"/reports/daily/{day}").get_data(as_text=True)
    assert cli(app, "verify", "--anchor", anchor)[0] == 0


def test_without_a_valid_audit_key_the_app_refuses_to_start(tmp_path):
    import pytest

    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with pytest.raises(ValueError, match="AUDIT_KEYS"):
        create_app(TestConfig, AUDIT_KEYS="k1:short", STORAGE_DIR=str(tmp_path))

"""History written before the identity escrow (issue 13): audit entries that recorded a volunteer's
plain real name, phone and e-mail are redacted in place; the chain still verifies through the anchors
signed reports printed; a redacted entry cannot be altered or forged without the key; and neither an
audit view nor the database file holds the plain values any more."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from inspect_app.accounts.models import Role, User
from inspect_app.audit.models import AuditEntry
from inspect_app.audit.services import head, verify
from inspect_app.extensions import db
from tests.conftest import PASSWORD, Browser
from tests.volunteers import app_on_file

REAL_NAME, PHONE, EMAIL = "上官旧明文", "13755550123", "shangguan.old@example.cn"
BEFORE = "a4e1c07b9d32"  # the revision before the redaction


def _write_the_old_way(pseudonym="志愿者41") -> int:
    """A volunteer as accounts were made before the escrow (real name in display_name, phone and e-mail
    in the clear: the chain records them), then sealed as the escrow's migration did it (raw SQL, so the
    chain keeps only the old values), then edited once more in the clear. Returns the volunteer's id."""
    from inspect_app.accounts.escrow import Identity, seal
    user = User(username="old.parent", display_name=REAL_NAME, role=Role.VOLUNTEER, pseudonym=pseudonym,
                phone=PHONE, email=EMAIL)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    user.phone = PHONE[:-1] + "9"  # an update entry with a plain phone
    db.session.commit()
    db.session.execute(sa.text("UPDATE users SET identity_sealed = :s, display_name = :p, phone = NULL, email = NULL "
                               "WHERE id = :id"), {"s": seal(Identity(REAL_NAME, PHONE)), "p": pseudonym, "id": user.id})
    db.session.commit()
    return user.id


def _plain_in_entries() -> list[int]:
    rows = db.session.execute(sa.select(AuditEntry.id, AuditEntry.data)).all()
    return [r.id for r in rows if any(v in r.data for v in (REAL_NAME, PHONE, PHONE[:-1] + "9", EMAIL))]


def _stored(directory) -> bytes:
    return b"".join(p.read_bytes() for p in directory.iterdir() if p.name.startswith("inspect.db"))


def _leaks(stored: bytes) -> list[str]:
    return [v for v in (REAL_NAME, PHONE, EMAIL) if v.encode() in stored or v.encode("utf-16-le") in stored]


def test_the_upgrade_redacts_old_history_the_chain_verifies_and_the_file_no_longer_holds_it(tmp_path,
                                                                                         tmp_path_factory):
    app = app_on_file(tmp_path, tmp_path_factory.mktemp("storage"))
    with app.app_context():
        volunteer_id = _write_the_old_way()
        assert _plain_in_entries()  # the old way did record them
        downgrade(revision=BEFORE)  # the database as it was before this release
        anchor = head()  # printed on a daily report signed before the upgrade
        db.session.remove()
        db.engine.dispose()
    assert _leaks(_stored(tmp_path))  # the grep below can find them: they are there now

    with app.app_context():
        upgrade()  # the release: the migration redacts
        assert _plain_in_entries() == []
        redacted = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.redacted_at.is_not(None))).all()
        assert {e.object_id for e in redacted} == {str(volunteer_id)} and len(redacted) == 2
        created = json.loads(redacted[0].data)
        assert created["display_name"] == "(redacted)" and created["username"] == "old.parent"
        assert created["role"] == "volunteer"  # what is not personal is kept
        verdict = verify([anchor])
        assert verdict.ok and verdict.checked == anchor[0] == 3, verdict.reason  # through the old anchor
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["volunteers", "scrub-history"])
    assert result.exit_code == 0 and "0 audit entries redacted" in result.output and "vacuumed" in result.output
    # No audit view carries the values (the admin's raw record included).
    browser = Browser(app)
    browser.sign_in("coordinator")
    for url in ("/audit/", "/audit/?type=users"):
        page = browser.get(url)
        assert page.status_code == 200 and not _leaks(page.get_data()), url
    with app.app_context():
        assert verify([anchor]).ok
        db.session.remove()
        db.engine.dispose()
    assert b"old.parent" in _stored(tmp_path)  # the right file, readable
    assert _leaks(_stored(tmp_path)) == []


@pytest.mark.real_commits  # edits audit rows behind the app's back, as an attacker with the database would
def test_a_redacted_entry_cannot_be_altered_forged_or_made_from_an_altered_one(app, db):
    from tests.audit.test_chain import raw
    _write_the_old_way()
    db.session.add(User(username="an.inspector", display_name="孙督学", role=Role.INSPECTOR, password_hash="x"))
    db.session.commit()  # an entry about someone else: never redacted
    result = app.test_cli_runner().invoke(args=["volunteers", "scrub-history"])
    assert result.exit_code == 0 and "2 audit entries redacted" in result.output, result.output
    assert verify().ok
    assert db.session.scalar(sa.select(AuditEntry.redacted_at).where(AuditEntry.data.contains("孙督学"))) is None
    redacted = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.redacted_at.is_not(None)).limit(1))
    entry_id, data = redacted.id, redacted.data
    # Put the name back into a redacted entry: its seal no longer matches.
    raw(app, "UPDATE audit_entries SET data = :d WHERE id = :id",
        d=data.replace("(redacted)", REAL_NAME, 1), id=entry_id)
    verdict = verify()
    assert not verdict.ok and verdict.broken_id == entry_id and "redaction seal" in verdict.reason
    raw(app, "UPDATE audit_entries SET data = :d WHERE id = :id", d=data, id=entry_id)
    # "Redact" an entry that was never redacted, without the key: refused by verify.
    other = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.redacted_at.is_(None))
                              .order_by(AuditEntry.id.desc()).limit(1))
    other_id, other_data = other.id, other.data
    raw(app, "UPDATE audit_entries SET data = '{}', redacted_at = :at, redaction = :r WHERE id = :id",
        at="2026-11-26 00:00:00", r="k1:" + "0" * 64, id=other_id)
    verdict = verify()
    assert not verdict.ok and verdict.broken_id == other_id, verdict.reason
    raw(app, "UPDATE audit_entries SET data = :d, redacted_at = NULL, redaction = NULL WHERE id = :id",
        d=other_data, id=other_id)
    assert verify().ok
    # An entry altered before any redaction is never sealed: the scrub refuses and writes nothing.
    db.session.add(User(username="older.parent", display_name="另一位家长", role=Role.VOLUNTEER,
                        pseudonym="志愿者42", password_hash="x"))
    db.session.commit()
    victim = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.data.contains("另一位家长")))
    raw(app, "UPDATE audit_entries SET data = replace(data, '另一位家长', '改过的家长') WHERE id = :id", id=victim)
    refused = app.test_cli_runner().invoke(args=["volunteers", "scrub-history"])
    assert refused.exit_code != 0 and f"audit entry {victim}" in refused.output and "nothing was redacted" in refused.output
    assert db.session.scalar(sa.select(AuditEntry.redacted_at).where(AuditEntry.id == victim)) is None

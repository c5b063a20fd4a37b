"""Upgrading a database whose volunteers' real names sit in the clear: the migration seals them."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from inspect_app.accounts.escrow import Identity, unseal
from inspect_app.extensions import db

BEFORE, AFTER = "d38023a84c8a", "a1c0e5d27b94"  # the revision before it, and it

# Migrations run DDL on connections of their own: this test commits for real (tests/conftest.py).
pytestmark = pytest.mark.real_commits


def test_existing_volunteers_are_sealed_and_the_plain_columns_emptied(app):
    with app.app_context():
        downgrade(revision=BEFORE)
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO users (id, username, display_name, pseudonym, role, password_hash, phone, active, "
                    "manages_volunteers, created_at, must_change_password) VALUES "
                    "(1, 'old.parent', '旧明文家长', '志愿者5', 'volunteer', 'x', '13700000000', true, false, "
                    "'2026-11-01 00:00:00', false), "
                    "(2, 'old.inspector', '孙督学', NULL, 'inspector', 'x', '13600000000', true, false, "
                    "'2026-11-01 00:00:00', false)"))
            upgrade(revision=AFTER)
            with db.engine.connect() as conn:
                rows = {r.username: r for r in conn.execute(sa.text(
                    "SELECT username, display_name, phone, identity_sealed FROM users"))}
            parent, inspector = rows["old.parent"], rows["old.inspector"]
            assert (parent.display_name, parent.phone) == ("志愿者5", None)
            assert unseal(parent.identity_sealed) == Identity("旧明文家长", "13700000000")
            assert (inspector.display_name, inspector.phone, inspector.identity_sealed) == ("孙督学", "13600000000", None)
        finally:
            upgrade()

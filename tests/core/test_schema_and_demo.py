"""The migrations build exactly the models' schema, and the demo city loads idempotently."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from inspect_app.accounts.models import User
from inspect_app.extensions import db
from inspect_app.schools.models import School
from tests.conftest import Browser


@pytest.mark.real_commits  # reads the schema on a connection of its own
def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        # APScheduler's job store table is migrated but laid out by APScheduler, not a model (env.py).
        ours = lambda obj, name, type_, *_: not (type_ == "table" and name == "apscheduler_jobs")  # noqa: E731
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                         "include_object": ours})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_demo_loads_the_city_and_the_accounts_once(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo-pass-1" in first.output and "officer2" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(School)) == 30
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert set(users) == {"admin", "leader", "inspector", "inspector2", "volunteer", "officer", "officer2"}
    schools = db.session.scalars(sa.select(School)).all()
    assert all(s.responsible_inspectors for s in schools)
    assert all(31.5 < s.lat < 32.2 and 119.9 < s.lon < 120.7 for s in schools)

    Browser(app).sign_in("officer", "demo-pass-1")
    client = app.test_client()
    token = client.post("/api/v1/auth/token",
                        json={"username": "admin", "password": "demo-pass-1"}).get_json()["token"]
    listed = client.get("/api/v1/schools", headers={"Authorization": f"Bearer {token}"}).get_json()["schools"]
    # API.md: officer and officer2 run the first and the second school in the list.
    assert users["officer"].school_id == listed[0]["id"]
    assert users["officer2"].school_id == listed[1]["id"]

"""The suite's own promise (tests/conftest.py): the app commits as it always does, and what a test
wrote is gone before the next one starts; a module's world built once stays for all its tests.
The tests run in file order, each checking what the one before it left."""
import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind
from tests.conftest import Browser, Factories


def school_names(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(School.name)))


@pytest.mark.real_commits
def test_real_commits_reach_a_connection_of_its_own(app, make_school):
    make_school(name="真提交")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.scalar(sa.select(School.name)) == "真提交"


def test_and_are_emptied_after(app):
    assert school_names(app) == set()


def test_a_committed_write(app, db, make_school):
    make_school(name="写过的学校")
    db.session.add(School(district="澄江街道", name="另一所", address="路1号",
                          kind=SchoolKind.PRIMARY, lat=31.9, lon=120.3))
    db.session.commit()
    assert school_names(app) == {"写过的学校", "另一所"}


def test_is_gone_after_the_test(app):
    assert school_names(app) == set()


def test_a_failed_write_undoes_only_itself(db, make_school):
    make_school(name="甲")
    db.session.add(School(district="澄江街道", name="甲", address="路2号",
                          kind=SchoolKind.PRIMARY, lat=31.9, lon=120.3))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert set(db.session.scalars(sa.select(School.name))) == {"甲"}


def test_a_request_runs_in_a_context_of_its_own_while_the_test_holds_one(world, make_visit, login_as, db):
    """The db fixture holds an application context for the whole test; a request made meanwhile gets its
    own (tests/conftest.py, IsolatedClient): no g, no session shared with the test, and what the test
    reads after the request is what the request left, not what its own session had loaded before."""
    from flask import g

    from inspect_app.accounts.models import Role
    from inspect_app.tickets.models import Ticket, TicketStatus
    g.seen_by_the_request = "the test's"
    ticket = db.session.get(Ticket, make_visit(world.inspector, world.a, fail=("G1",)).tickets[0])
    assert ticket.status is TicketStatus.OPEN
    officer = login_as("officer")
    assert officer.form_post(f"/tickets/{ticket.id}/respond", {"text": "已整改"}).status_code == 302
    assert ticket.status is TicketStatus.RESPONDED  # read afresh: the request committed it
    # The request's g was its own: the officer it signed in never reached the test's.
    assert g.seen_by_the_request == "the test's"
    assert getattr(g.get("_login_user"), "role", None) is not Role.DUTY_OFFICER


# From here on the module's world exists (module fixtures live until the module ends).

@pytest.fixture(scope="module")
def signed_in(app, module_db):
    make = Factories(app)
    make.school(name="模块学校")
    admin = make.user("admin")
    browser = Browser(app)
    browser.sign_in(admin.username)
    return browser.cookies()


def test_a_world_built_once_stays_and_a_test_adds_to_it_alone(app, signed_in, make_school):
    make_school(name="本测试的学校")
    assert school_names(app) == {"模块学校", "本测试的学校"}
    browser = Browser(app).restore(signed_in)
    assert browser.get("/accounts/users").status_code == 200
    browser.form_post("/accounts/sign-out")
    assert browser.get("/accounts/users").status_code == 302


def test_the_next_test_has_the_world_as_built_and_still_signed_in(app, signed_in):
    assert school_names(app) == {"模块学校"}
    assert Browser(app).restore(signed_in).get("/accounts/users").status_code == 200


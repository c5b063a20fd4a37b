"""The audit trail keeps a volunteer pseudonymous: the real name only through the logged reveal (issue 9 §6)."""
import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.extensions import db
from tests.conftest import PASSWORD

REAL_NAME, NEW_REAL_NAME, PSEUDONYM = "钱真名家长", "钱改名家长", "志愿者丙丁"


@pytest.fixture
def recorded_volunteer(app, login_as, world, make_browser):
    """A volunteer created on the admin's page, signed in once, renamed later: each step is in the chain."""
    created = login_as("admin").form_post("/accounts/users/new", {
        "username": "qian.parent", "display_name": REAL_NAME, "role": "volunteer", "pseudonym": PSEUDONYM,
        "school_id": "0", "password": PASSWORD})
    assert created.status_code == 302
    make_browser().sign_in("qian.parent")
    with app.app_context():
        volunteer = db.session.scalar(sa.select(User).where(User.username == "qian.parent"))
        volunteer.seal_identity(NEW_REAL_NAME, None)  # a rename: only the sealed identity changes
        volunteer.email = "qian@example.com"  # no role in this entry
        db.session.commit()


@pytest.mark.parametrize("who", ["admin", "leader"])
def test_the_audit_trail_shows_a_volunteer_by_pseudonym_only(login_as, recorded_volunteer, who):
    viewer = login_as(who)
    for url in ("/audit/", "/audit/?type=users", "/audit/?type=signin_attempts", "/audit/?type=users&verify=1",
                "/audit/?page=1"):
        page = viewer.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        for personal in (REAL_NAME, NEW_REAL_NAME, "qian@example.com"):
            assert personal not in text, (url, personal)
        if who == "leader":  # the sign-in name is the admin's tool, as on the account list
            assert "qian.parent" not in text, url
    users = viewer.get("/audit/?type=users").get_data(as_text=True)
    assert PSEUDONYM in users and "已隐藏：家长志愿者的个人信息" in users


def test_other_accounts_stay_readable_in_the_record(login_as, world, make_user):
    make_user("inspector", display_name="孙督学")
    assert "孙督学" in login_as("leader").get("/audit/?type=users").get_data(as_text=True)


def test_the_real_name_comes_only_through_the_logged_reveal(db, login_as, recorded_volunteer):
    admin = login_as("admin")
    volunteer_id = db.session.scalar(sa.select(User.id).where(User.username == "qian.parent"))
    revealed = admin.form_post(f"/accounts/users/{volunteer_id}/reveal", {"reason": "家长投诉核实身份"})
    assert NEW_REAL_NAME in revealed.get_data(as_text=True)
    assert NEW_REAL_NAME not in admin.get("/audit/").get_data(as_text=True)

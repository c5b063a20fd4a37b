"""Everyone sets the e-mail and phone their notices reach them at, on their own account page."""
from inspect_app.accounts.models import User
from inspect_app.extensions import db
from tests.conftest import form_fields


def _user(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_an_officer_sets_their_own_email_and_phone(app, world, login_as):
    officer = login_as("officer")
    page = officer.get("/accounts/me").get_data(as_text=True)
    assert "我的账号" in page and 'href="/accounts/me"' in page and 'href="/accounts/password"' in page
    fields = form_fields(page)
    saved = officer.form_post("/accounts/me",
                              {**fields, "email": " officer@school.example ", "phone": "+86 138-0000-0000"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/accounts/me")
    user = _user(app, world.officer.id)
    assert (user.email, user.phone) == ("officer@school.example", "+86 138-0000-0000")
    assert 'value="officer@school.example"' in officer.get("/accounts/me").get_data(as_text=True)


def test_a_malformed_address_is_refused_under_its_field_and_nothing_changes(app, world, login_as):
    inspector = login_as("inspector")
    refused = inspector.form_post("/accounts/me", {"email": "not an address", "phone": "12345678"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "这不是电子邮箱地址" in page
    assert 'value="not an address"' in page  # what was typed is kept
    user = _user(app, world.inspector.id)
    assert user.email is None and user.phone is None


def test_blank_clears_the_contact(app, db, world, login_as):
    db.session.get(User, world.leader.id).email = "leader@bureau.example"
    db.session.commit()
    assert login_as("leader").form_post("/accounts/me", {"email": "", "phone": ""}).status_code == 302
    assert _user(app, world.leader.id).email is None


def test_a_volunteers_phone_stays_sealed_and_is_not_changed_here(app, world, login_as):
    volunteer = login_as("volunteer")
    page = volunteer.get("/accounts/me").get_data(as_text=True)
    assert 'name="phone"' not in page and "志愿者项目负责人" in page
    assert volunteer.form_post("/accounts/me", {"email": "me@home.example", "phone": "13800000000"}).status_code == 403
    user = _user(app, world.volunteer.id)
    assert user.email is None and user.phone is None

"""Issue 11, accounts: an admin runs every account chore from the pages; passwords follow NIST 800-63B;
someone else's password (a new account, a reset) is changed at the next sign-in, on the web and the API."""
import re

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import AuthSession, Role, User
from inspect_app.accounts.services import password_problem, temporary_password
from inspect_app.audit.models import AuditEntry
from tests.conftest import CSRF_RE, PASSWORD, form_fields


@pytest.mark.parametrize("password", [
    "short1",  # under the length floor
    "password123", "qwertyuiop", "1qaz2wsx3edc", "iloveyou12",  # on the breached/common list
    "aaaaaaaaaaaa", "1234567890", "abcdefghijkl", "abcabcabcabc", "9876543210",  # repetitive, sequential
    "inspector7-2024", "zhangsan2024!",  # the account's own names with a little added
    "safecampus2026",  # the service's name
    "x" * 257,
])
def test_weak_passwords_are_refused_with_a_reason(app, password):
    with app.test_request_context():
        assert password_problem(password, username="inspector7", display_name="zhangsan")


@pytest.mark.parametrize("password", [
    "correct horse battery staple",  # no composition rules: words and spaces are fine
    "tulips in the school yard", "我家门口有三棵大槐树", "Gate-closes-at-1730",
])
def test_long_unusual_passwords_pass_without_composition_rules(app, password):
    with app.test_request_context():
        assert password_problem(password, username="inspector7", display_name="zhangsan") is None


def test_temporary_passwords_pass_the_rules_and_differ(app):
    with app.test_request_context():
        made = {temporary_password() for _ in range(20)}
        assert len(made) == 20 and all(password_problem(p) is None for p in made)


def _create(admin, **extra):
    data = {"username": "newcomer", "display_name": "新同事", "role": "inspector", "school_id": "0",
            "password": "gingko trees by the gate"}
    data.update(extra)
    return admin.form_post("/accounts/users/new", data)


def test_a_new_account_changes_its_password_at_first_sign_in_on_the_web_and_is_told_on_the_api(
        login_as, make_browser, app, db, world):
    admin = login_as("admin")
    assert _create(admin).status_code == 302
    client = app.test_client()
    refused = client.post("/api/v1/auth/token", json={"username": "newcomer", "password": "gingko trees by the gate"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "password_change_required"
    assert "网页" in refused.get_json()["error"]["message"]

    person = make_browser()
    person.sign_in("newcomer", "gingko trees by the gate")
    for path in ("/", "/schools/", f"/schools/{world.a.id}", "/visits/mine"):
        response = person.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/accounts/password"), path
    page = person.get("/accounts/password").get_data(as_text=True)
    assert "管理员设置" in page
    # The only page this browser may open carries the form's token (Browser.csrf looks elsewhere).
    person.csrf = lambda: next(g for g in CSRF_RE.search(page).groups() if g)
    assert person.get("/api/v1/me").status_code == 403  # the cookie session's API calls too

    # A common password is refused, under its field, with nothing changed.
    weak = person.form_post("/accounts/password", {"current": "gingko trees by the gate",
                                                   "new": "password123", "confirm": "password123"})
    assert weak.status_code == 422 and "常见密码" in weak.get_data(as_text=True)
    ok = person.form_post("/accounts/password", {"current": "gingko trees by the gate",
                                                 "new": "my own long passphrase", "confirm": "my own long passphrase"})
    assert ok.status_code == 302
    assert person.get("/schools/").status_code == 200
    token = client.post("/api/v1/auth/token", json={"username": "newcomer", "password": "my own long passphrase"})
    assert token.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.username == "newcomer"))
    assert not user.must_change_password and user.password_changed_at is not None


def test_changing_ones_own_password_checks_the_current_one_and_ends_other_sessions(login_as, api_token, world, app):
    laptop = login_as("inspector")
    phone = login_as("inspector")
    token = api_token("inspector")
    wrong = laptop.form_post("/accounts/password", {"current": "not-it-at-all", "new": "a brand new passphrase",
                                                    "confirm": "a brand new passphrase"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    mismatch = laptop.form_post("/accounts/password", {"current": PASSWORD, "new": "a brand new passphrase",
                                                       "confirm": "a brand new passphrasf"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)
    same = laptop.form_post("/accounts/password", {"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 422
    assert laptop.form_post("/accounts/password", {"current": PASSWORD, "new": "a brand new passphrase",
                                                   "confirm": "a brand new passphrase"}).status_code == 302
    assert laptop.get("/schools/").status_code == 200  # this browser stays signed in
    assert phone.get("/schools/").status_code == 302  # the others sign in again
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401


def test_changing_a_password_needs_the_csrf_token(login_as):
    browser = login_as("inspector")
    response = browser.post("/accounts/password", data={"current": PASSWORD, "new": "a brand new passphrase",
                                                        "confirm": "a brand new passphrase"})
    assert response.status_code == 400


def test_an_admin_resets_a_password_the_user_is_signed_out_and_must_change_it(login_as, make_browser, world, app, db):
    victim = login_as("inspector")
    admin = login_as("admin")
    response = admin.form_post(f"/accounts/users/{world.inspector.id}/reset-password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = re.search(r"data-temporary-password>([a-z0-9]+)<", response.get_data(as_text=True)).group(1)
    assert victim.get("/schools/").status_code == 302  # signed out everywhere
    assert app.test_client().post("/api/v1/auth/token", json={
        "username": world.inspector.username, "password": temporary}).status_code == 403
    again = make_browser()
    again.sign_in(world.inspector.username, temporary)
    assert again.get("/").headers["Location"].endswith("/accounts/password")
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "users",
                                                          AuditEntry.object_id == str(world.inspector.id))
                               .order_by(AuditEntry.id.desc())).first()
    assert '"password_hash": "(changed)"' in entry.data and '"must_change_password": true' in entry.data
    assert temporary not in entry.data
    # An admin does not reset their own password this way (they know it: "My password").
    assert admin.form_post(f"/accounts/users/{world.admin.id}/reset-password").status_code == 409


def test_an_admin_edits_name_contact_and_role_and_each_change_is_audited(login_as, world, db):
    admin = login_as("admin")
    page = admin.get(f"/accounts/users/{world.inspector.id}/edit").get_data(as_text=True)
    data = form_fields(page, action=None)
    assert data["display_name"] == "inspector 3" and data["role"] == "inspector"  # the form starts filled in
    data.update(display_name="王督学", email="wang@example.cn", phone="138 0000 1234", role="leader")
    response = admin.form_post(f"/accounts/users/{world.inspector.id}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    user = db.session.get(User, world.inspector.id)
    assert (user.display_name, user.email, user.phone, user.role) == ("王督学", "wang@example.cn",
                                                                      "138 0000 1234", Role.LEADER)
    audit = admin.get("/audit/?type=users").get_data(as_text=True)
    assert f"账号 #{world.inspector.id} · 修改" in audit
    assert "角色：督学 → 局领导" in audit
    assert "电话：— → 138 0000 1234" in audit
    assert "<details" in audit  # the raw record, one tap away


@pytest.mark.parametrize("change, field_message", [
    ({"email": "not-an-address"}, "这不是电子邮箱地址"),
    ({"phone": "call me maybe"}, "电话号码只含数字"),
    ({"role": "duty_officer"}, "学校值班人员必须属于一所学校"),
    ({"display_name": ""}, "必填"),
])
def test_edits_the_rules_refuse_stay_on_the_form_with_the_reason(login_as, world, db, change, field_message):
    admin = login_as("admin")
    data = form_fields(admin.get(f"/accounts/users/{world.inspector.id}/edit").get_data(as_text=True), action=None)
    data.update(change)
    response = admin.form_post(f"/accounts/users/{world.inspector.id}/edit", data)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert db.session.get(User, world.inspector.id).role is Role.INSPECTOR


def test_a_volunteer_keeps_their_role_and_an_admin_keeps_their_own(login_as, world, db):
    admin = login_as("admin")
    data = form_fields(admin.get(f"/accounts/users/{world.volunteer.id}/edit").get_data(as_text=True), action=None)
    data["role"] = "inspector"
    assert admin.form_post(f"/accounts/users/{world.volunteer.id}/edit", data).status_code == 422
    own = form_fields(admin.get(f"/accounts/users/{world.admin.id}/edit").get_data(as_text=True), action=None)
    own["role"] = "inspector"
    response = admin.form_post(f"/accounts/users/{world.admin.id}/edit", own)
    assert response.status_code == 422 and "不能修改自己的角色" in response.get_data(as_text=True)
    assert db.session.get(User, world.volunteer.id).role is Role.VOLUNTEER
    assert db.session.get(User, world.admin.id).role is Role.ADMIN


def test_a_child_school_is_never_one_the_volunteer_is_assigned_to_check(login_as, world, db):
    """The volunteer is assigned to school A: naming A as their child's school is refused (the same rule
    that refuses assigning a parent to their child's school); B is fine and hides B from them."""
    admin = login_as("admin")
    data = form_fields(admin.get(f"/accounts/users/{world.volunteer.id}/edit").get_data(as_text=True), action=None)
    data["child_school_ids"] = [str(world.a.id)]
    response = admin.form_post(f"/accounts/users/{world.volunteer.id}/edit", data)
    assert response.status_code == 422 and "甲校" in response.get_data(as_text=True)
    data["child_school_ids"] = [str(world.b.id)]
    assert admin.form_post(f"/accounts/users/{world.volunteer.id}/edit", data).status_code == 302
    assert [s.id for s in db.session.get(User, world.volunteer.id).child_schools] == [world.b.id]
    # And from the other side: assigning them to B now is refused.
    refused = admin.form_post(f"/schools/{world.b.id}/assignments", {"user_ids": [str(world.volunteer.id)]})
    assert refused.status_code == 409


def test_disable_and_enable_again(login_as, world, app):
    admin = login_as("admin")
    victim = login_as("inspector")
    assert admin.form_post(f"/accounts/users/{world.inspector.id}/disable").status_code == 302
    assert victim.get("/schools/").status_code == 302
    assert admin.form_post(f"/accounts/users/{world.inspector.id}/enable").status_code == 302
    login_as("inspector")  # signs in again


def test_the_first_admin_from_the_command_line_is_not_forced_to_change(app, db, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a long admin passphrase")
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "chief"])
    assert result.exit_code == 0, result.output
    assert not db.session.scalar(sa.select(User).where(User.username == "chief")).must_change_password
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "password123")
    refused = app.test_cli_runner().invoke(args=["users", "create-admin", "chief2"])
    assert refused.exit_code != 0 and "password" in refused.output


def test_a_leader_starts_on_the_dashboard(login_as):
    response = login_as("leader").get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/")
    assert login_as("inspector").get("/").status_code == 200


def test_the_checklist_editor_puts_errors_under_their_fields_and_lands_on_the_first(login_as, world, templates, db):
    from inspect_app.checklists.models import ChecklistTemplate
    admin = login_as("admin")
    template_id = templates["onsite"].id
    data = form_fields(admin.get(f"/checklists/{template_id}/edit").get_data(as_text=True), action=None)
    data["note"] = "改第二项"
    data["items-1-text_zh"] = ""  # the second item's requirement emptied
    data["items-2-code"] = data["items-0-code"]  # and a code used twice
    response = admin.form_post(f"/checklists/{template_id}/edit", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    requirement = page.split('id="item-2"')[1].split("</fieldset>")[0]
    assert 'name="items-1-text_zh"' in requirement and "必填" in requirement and "autofocus" in requirement
    duplicate = page.split('id="item-3"')[1].split("</fieldset>")[0]
    assert "重复使用" in duplicate and "autofocus" not in duplicate
    assert page.count("autofocus") == 1
    assert db.session.get(ChecklistTemplate, template_id).current_version.number == 1


def test_the_checklist_list_says_who_changed_each_and_when(login_as, world, templates):
    admin = login_as("admin")
    template_id = templates["onsite"].id
    data = form_fields(admin.get(f"/checklists/{template_id}/edit").get_data(as_text=True), action=None)
    data["note"] = "改写第一项"
    assert admin.form_post(f"/checklists/{template_id}/edit", data).status_code == 302
    page = admin.get("/checklists/").get_data(as_text=True)
    assert "修改人：admin 1" in page  # (the world's admin is the first user made)
    assert "修改说明：改写第一项" in page
    assert "shipped" not in page and "内置" in page  # the untouched templates say they came with the app

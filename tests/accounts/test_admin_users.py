"""The admin's account pages: create, disable, and volunteers known only by pseudonym."""
import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import Role, User
from inspect_app.extensions import db


def _user(app, username):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


def test_admin_creates_a_duty_officer_bound_to_a_school(login_as, world, app):
    admin = login_as("admin")
    response = admin.form_post("/accounts/users/new", {
        "username": "zhou", "display_name": "周老师", "role": "duty_officer",
        "school_id": str(world.b.id), "password": "a-long-password"})
    assert response.status_code == 302
    user = _user(app, "zhou")
    assert user.role is Role.DUTY_OFFICER and user.school_id == world.b.id
    login_as(None).sign_in("zhou", "a-long-password")


@pytest.mark.parametrize("form, message", [
    ({"role": "duty_officer", "school_id": "0"}, "学校值班人员必须属于一所学校"),
    ({"role": "inspector", "school_id": "{a}"}, "只有学校值班人员属于某所学校"),
    ({"role": "volunteer", "pseudonym": ""}, "家长志愿者需要化名"),
    ({"role": "inspector", "password": "short"}, "至少 10 个字符"),
    ({"role": "inspector", "username": "Bad Name!"}, "请使用小写字母"),
    ({"role": "inspector", "manages_volunteers": "y"}, "只有管理员可以负责家长志愿者工作"),
    ({"role": "superuser"}, "不是有效的选择"),
])
def test_invalid_accounts_are_refused_with_a_reason(login_as, world, app, form, message):
    admin = login_as("admin")
    data = {"username": "newbie", "display_name": "新人", "school_id": "0", "password": "a-long-password"}
    data.update({k: v.format(a=world.a.id) for k, v in form.items()})
    response = admin.form_post("/accounts/users/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _user(app, "newbie") is None


def test_a_taken_username_is_refused(login_as, world):
    admin = login_as("admin")
    response = admin.form_post("/accounts/users/new", {
        "username": world.leader.username, "display_name": "x", "role": "leader", "school_id": "0",
        "password": "a-long-password"})
    assert response.status_code == 422
    assert "该用户名已被使用" in response.get_data(as_text=True)


def test_volunteers_are_known_by_pseudonym_even_to_admins(login_as, make_user, world):
    volunteer = make_user("volunteer", real_name="真名张三", pseudonym="志愿者99")
    plain_admin = make_user("admin")
    browser = login_as(None)
    browser.sign_in(plain_admin.username)
    page = browser.get("/accounts/users").get_data(as_text=True)
    assert "志愿者99" in page and "真名张三" not in page and "reveal" not in page
    assert browser.get(f"/accounts/users/{volunteer.id}/reveal").status_code == 403

    programme_admin = login_as("admin").get("/accounts/users").get_data(as_text=True)
    assert "志愿者99" in programme_admin and "真名张三" not in programme_admin

    # The volunteer sees the username they chose: their screen must not say 志愿者 at the gate, and the
    # real name is sealed even from the pages they see.
    self_view = login_as(None)
    self_view.sign_in(volunteer.username)
    home = self_view.get("/").get_data(as_text=True)
    assert volunteer.username in home and "真名张三" not in home and "志愿者99" not in home


def test_the_programme_admin_reveals_a_name_with_a_reason_and_it_is_recorded(db, login_as, make_user, world):
    import sqlalchemy as sa

    from inspect_app.accounts.models import IdentityReveal
    from inspect_app.audit.models import AuditEntry
    volunteer = make_user("volunteer", real_name="真名李四", phone="13900001111", pseudonym="志愿者42")
    admin = login_as("admin")
    refused = admin.form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": ""})
    assert refused.status_code == 422 and "真名李四" not in refused.get_data(as_text=True)
    shown = admin.form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": "核实家长投诉"})
    assert shown.status_code == 200 and "真名李四" in shown.get_data(as_text=True)
    assert "13900001111" in shown.get_data(as_text=True) and shown.headers["Cache-Control"] == "no-store"
    reveal = db.session.scalars(sa.select(IdentityReveal)).one()
    assert (reveal.volunteer_id, reveal.revealed_by_id, reveal.reason) == (volunteer.id, world.admin.id, "核实家长投诉")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.object_type == "identity_reveals")) == 1
    assert admin.get(f"/accounts/users/{world.leader.id}/reveal").status_code == 404


def test_a_disabled_account_can_be_enabled_again(login_as, world, app):
    admin = login_as("admin")
    admin.form_post(f"/accounts/users/{world.leader.id}/disable")
    assert not _user(app, world.leader.username).active
    again = admin.form_post(f"/accounts/users/{world.leader.id}/disable")
    assert again.status_code == 409 and "该账号已经停用" in again.get_data(as_text=True)
    assert admin.form_post(f"/accounts/users/{world.leader.id}/enable").status_code == 302
    login_as(None).sign_in(world.leader.username)


def test_unknown_user_is_404(login_as):
    assert login_as("admin").form_post("/accounts/users/99999/disable").status_code == 404


def test_the_command_line_makes_accounts_by_the_same_rules(app, db, world, monkeypatch):
    """`flask users create-admin` goes through accounts.services.create_account like the admin's form."""
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-long-password")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "  Chief  "])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "chief"))
    assert user.role is Role.ADMIN and user.manages_volunteers and user.check_password("a-long-password")
    taken = runner.invoke(args=["users", "create-admin", world.leader.username])
    assert taken.exit_code != 0 and "username" in taken.output
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    short = runner.invoke(args=["users", "create-admin", "another"])
    assert short.exit_code != 0 and "password" in short.output and _user(app, "another") is None

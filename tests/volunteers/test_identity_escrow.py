"""Identity escrow (issue 13): a volunteer's real name and phone are sealed with a key outside the
database, opened only by the programme coordinator's recorded reveal, and found in no response and
not in the database file itself."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from inspect_app import create_app
from inspect_app.accounts import escrow
from inspect_app.accounts.models import IdentityReveal, User
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from tests.conftest import PASSWORD
from tests.core.test_zh_everywhere import crawl  # noqa: F401 - every page, as a fixture
from tests.volunteers import app_on_file

REAL_NAME, PHONE = "欧阳秘密家长", "13912345678"


def _join(browser, code: str, **overrides):
    data = {"username": "ouyang.parent", "password": PASSWORD, "real_name": REAL_NAME, "phone": PHONE,
            "agreement": "y"}
    data.update(overrides)
    return browser.form_post(f"/programme/join/{code}", data)


def _invite(app, world) -> str:
    from inspect_app.volunteers.services import issue_invitations
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        [(_, code)] = issue_invitations(admin, 7)
        db.session.commit()
    return code


def test_a_registered_volunteers_identity_is_sealed_and_the_pseudonym_is_shown(app, db, world, make_browser):
    response = _join(make_browser(), _invite(app, world))
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    user = db.session.scalar(sa.select(User).where(User.username == "ouyang.parent"))
    assert user.display_name == user.pseudonym and user.pseudonym.startswith("志愿者")
    assert user.phone is None and REAL_NAME not in user.identity_sealed
    assert user.identity() == escrow.Identity(REAL_NAME, PHONE)


def test_no_page_api_answer_export_or_audit_view_carries_the_real_name_or_phone(
        app, db, world, login_as, crawl, api_token):  # noqa: F811
    volunteer = db.session.get(User, world.volunteer.id)
    volunteer.seal_identity(REAL_NAME, PHONE)  # the volunteer who did the crawl's covert check
    db.session.commit()
    coordinator = login_as("admin")
    assert coordinator.form_post(f"/accounts/users/{world.volunteer.id}/reveal",
                                 {"reason": "核实家长投诉"}).status_code == 200  # the reveal list has a row
    api = ["/api/v1/me", "/api/v1/schools", "/api/v1/tickets", "/api/v1/tasks", "/api/v1/complaints",
           "/api/v1/self-reports", f"/api/v1/reports/daily/{date.today().isoformat()}", "/api/v1/openapi.json"]
    api += [f"/api/v1/visits/{u.split('/')[-1]}" for u in crawl if u.startswith("/visits/") and u.count("/") == 2]
    api += [f"/api/v1/tickets/{u.split('/')[-1]}" for u in crawl if u.startswith("/tickets/") and u.split("/")[-1].isdigit()]
    exports = [f"/reports/exports/{kind}.{fmt}" for kind in ("visits", "findings", "tickets") for fmt in ("csv", "xlsx")]
    leaks = []
    for who in ("admin", "leader", "inspector", "volunteer", "officer", "officer_b"):
        browser = login_as(who)
        for url in [*crawl, *exports, "/programme/", "/programme/reveals", "/programme/invitations",
                    f"/programme/{world.volunteer.id}", "/audit/?type=users", "/audit/?type=identity_reveals"]:
            body = browser.get(url).get_data()
            leaks += [f"{who} {url}" for secret in (REAL_NAME, PHONE) if secret.encode() in body]
        headers = api_token(who)
        for url in api:
            body = app.test_client().get(url, headers=headers).get_data()
            leaks += [f"{who} {url}" for secret in (REAL_NAME, PHONE) if secret.encode() in body]
    assert not leaks, leaks


def test_the_database_file_never_holds_the_plain_real_name(tmp_path, tmp_path_factory, make_browser):
    """A file-based SQLite database (the one the suite uses lives in memory): after a parent registers
    through the invitation page, neither the file nor its journal contains the name or phone."""
    from inspect_app.volunteers.services import issue_invitations
    app = app_on_file(tmp_path, tmp_path_factory.mktemp("storage"))
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
        [(_, code)] = issue_invitations(admin, 7)
        db.session.commit()
    from tests.conftest import Browser
    response = _join(Browser(app), code)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.identity_sealed).where(User.username == "ouyang.parent"))
        db.session.remove()
        db.engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("inspect.db"))
    assert b"ouyang.parent" in stored  # the file is the right one, and readable
    for secret in (REAL_NAME, PHONE):
        assert secret.encode() not in stored and secret.encode("utf-16-le") not in stored


def test_only_the_coordinator_reveals_with_a_reason_and_the_leader_sees_the_list(db, world, login_as, make_user):
    volunteer = make_user("volunteer", real_name=REAL_NAME, phone=PHONE, pseudonym="志愿者77")
    plain_admin = make_user("admin")
    for who in ("leader", "inspector", "volunteer", "officer"):
        assert login_as(who).form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": "好奇"}).status_code == 403
    browser = login_as(None)
    browser.sign_in(plain_admin.username)
    assert browser.form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": "核实身份"}).status_code == 403
    coordinator = login_as("admin")
    silent = coordinator.form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": " "})
    assert silent.status_code == 422 and REAL_NAME.encode() not in silent.get_data()
    shown = coordinator.form_post(f"/accounts/users/{volunteer.id}/reveal", {"reason": "家长在校门口与保安争执，需联系本人"})
    assert REAL_NAME in shown.get_data(as_text=True) and PHONE in shown.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityReveal)) == 1
    reveals = login_as("leader").get("/programme/reveals")
    page = reveals.get_data(as_text=True)
    assert reveals.status_code == 200 and "志愿者77" in page and "家长在校门口与保安争执" in page
    assert REAL_NAME not in page and PHONE not in page
    for who in ("inspector", "volunteer", "officer"):
        assert login_as(who).get("/programme/reveals").status_code == 403


def test_an_admins_edit_of_a_volunteer_keeps_the_sealed_identity_unless_retyped(db, world, login_as, make_user):
    volunteer = make_user("volunteer", real_name=REAL_NAME, phone=PHONE, pseudonym="志愿者78")
    admin = login_as("admin")
    form = admin.get(f"/accounts/users/{volunteer.id}/edit").get_data(as_text=True)
    assert REAL_NAME not in form and PHONE not in form
    saved = admin.form_post(f"/accounts/users/{volunteer.id}/edit", {
        "display_name": "", "role": "volunteer", "school_id": "0", "pseudonym": "志愿者78", "phone": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:300]
    assert db.session.get(User, volunteer.id).identity() == escrow.Identity(REAL_NAME, PHONE)
    admin.form_post(f"/accounts/users/{volunteer.id}/edit", {
        "display_name": "欧阳改名", "role": "volunteer", "school_id": "0", "pseudonym": "志愿者78", "phone": ""})
    user = db.session.get(User, volunteer.id)
    assert user.identity() == escrow.Identity("欧阳改名", PHONE) and user.display_name == "志愿者78"


def test_rekey_reseals_with_the_newest_key_and_the_old_key_can_go(app, db, make_user):
    volunteer = make_user("volunteer", real_name=REAL_NAME, phone=PHONE)
    old = app.config["VOLUNTEER_IDENTITY_KEYS"]
    new = escrow.new_key()
    try:
        app.config["VOLUNTEER_IDENTITY_KEYS"] = f"{new},{old}"
        result = app.test_cli_runner().invoke(args=["volunteers", "rekey"])
        assert result.exit_code == 0 and "1 identities" in result.output
        app.config["VOLUNTEER_IDENTITY_KEYS"] = new  # the old key dropped
        assert db.session.get(User, volunteer.id).identity() == escrow.Identity(REAL_NAME, PHONE)
        app.config["VOLUNTEER_IDENTITY_KEYS"] = escrow.new_key()  # a key that never sealed it
        with app.app_context(), pytest.raises(escrow.IdentityKeyError):
            db.session.get(User, volunteer.id).identity()
    finally:
        app.config["VOLUNTEER_IDENTITY_KEYS"] = old


@pytest.mark.parametrize("keys", ["", "not-a-key", "short,keys"])
def test_the_app_refuses_to_start_on_keys_that_are_not_fernet_keys(keys):
    with pytest.raises(escrow.IdentityKeyError) as refused:
        create_app(TestConfig, VOLUNTEER_IDENTITY_KEYS=keys or None) if keys else escrow.parse(keys)
    assert "not-a-key" not in str(refused.value)  # a secret is never echoed into a log


def test_the_instance_key_is_made_once_on_first_start(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    create_app(TestConfig, VOLUNTEER_IDENTITY_KEYS=None)
    key = (tmp_path / "volunteer_identity_keys").read_text().strip()
    assert escrow.parse(key) and oct((tmp_path / "volunteer_identity_keys").stat().st_mode)[-3:] == "600"
    assert create_app(TestConfig, VOLUNTEER_IDENTITY_KEYS=None).config["VOLUNTEER_IDENTITY_KEYS"] == key


def test_new_key_goes_in_front_of_the_instance_file(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("VOLUNTEER_IDENTITY_KEYS", raising=False)
    app = create_app(TestConfig, VOLUNTEER_IDENTITY_KEYS=None)
    first = (tmp_path / "volunteer_identity_keys").read_text().strip()
    result = app.test_cli_runner().invoke(args=["volunteers", "new-key"])
    assert result.exit_code == 0 and "volunteers rekey" in result.output
    keys = (tmp_path / "volunteer_identity_keys").read_text().split()
    assert len(keys) == 2 and keys[1] == first and escrow.parse("\n".join(keys))

"""A visit already under way is continued from the school page, or discarded on purpose — never
doubled by a second tap on 开始检查 — and the labels a new user reads say what the buttons do."""
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.visits.models import Answer, Finding, Visit


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_visit_in_progress_is_continued_not_started_again(login_as, world, make_visit, app):
    draft = make_visit(world.inspector, world.a, submit=False, answer_all=False)
    browser = login_as("inspector")
    page = browser.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "检查进行中" in page and "继续检查" in page and "放弃草稿" in page
    assert f'href="/visits/{draft.id}"' in page
    assert "开始检查" not in page  # no second overt visit by accident


def test_discarding_a_draft_deletes_it_and_offers_the_start_again(login_as, world, make_visit, app):
    draft = make_visit(world.inspector, world.a, submit=False, fail=("G1",), photo=False)
    assert _count(app, Finding) == 1
    browser = login_as("inspector")
    response = browser.form_post(f"/visits/{draft.id}/discard")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/schools/{world.a.id}")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "草稿已放弃" in page and "开始检查" in page and "继续检查" not in page
    assert _count(app, Visit) == _count(app, Answer) == _count(app, Finding) == 0
    assert browser.get(f"/visits/{draft.id}").status_code == 404


def test_only_the_author_discards_and_only_a_draft(login_as, world, make_visit, make_user, app):
    from inspect_app.accounts.models import Role
    draft = make_visit(world.inspector, world.a, submit=False, answer_all=False)
    colleague = make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id])
    other = login_as(None)
    other.sign_in(colleague.username)
    assert other.form_post(f"/visits/{draft.id}/discard").status_code == 403
    submitted = make_visit(world.inspector, world.a)
    assert login_as("inspector").form_post(f"/visits/{submitted.id}/discard").status_code == 409
    assert _count(app, Visit) == 2


def test_the_volunteers_start_button_says_start(login_as, world, templates):
    page = login_as("volunteer").get(f"/schools/{world.a.id}").get_data(as_text=True)
    button = page.split('class="button primary block big"', 1)[1].split("</button>", 1)[0]
    assert button.strip(" >\n") == "开始"
    assert "首页" not in button

"""An error is always a Chinese page with a way back (issue 10, Chinese copy): never Flask's English
"Internal Server Error", not even when the failure broke the database session or the page layout."""
from __future__ import annotations

import sqlalchemy as sa
from flask_login import login_user

from inspect_app.accounts.models import User
from inspect_app.errors import handle_unexpected
from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind


def test_a_crash_that_broke_the_session_still_answers_in_chinese(app, world):
    with app.test_request_context("/tickets/"):
        login_user(db.session.get(User, world.leader.id))  # the layout reads their unread notices
        db.session.add(School(district="澄江街道", name="坏数据", kind=SchoolKind.PRIMARY, address="-",
                              lat=999, lon=120.0, radius_m=200))
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            pass  # the view died here; the session is now unusable until rolled back
        response = handle_unexpected(RuntimeError("boom"))
        body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "出错了" in body and "返回首页" in body and "Internal Server Error" not in body


def test_when_the_error_page_itself_fails_a_plain_chinese_page_answers(app, login_as, monkeypatch):
    import inspect_app.errors as errors

    def broken(*args, **kwargs):
        raise RuntimeError("the layout failed")
    monkeypatch.setattr(errors, "render_template", broken)
    for status, url in ((404, "/no/such/page"), (413, None)):
        with app.test_request_context(url or "/"):
            response = errors.error_page(status)
            body = response.get_data(as_text=True)
        assert response.status_code == status
        assert 'lang="zh-Hans"' in body and "返回首页" in body
        assert ("该页面或内容不存在" if status == 404 else "上传的文件太大") in body

"""Issue 11: the register's empty sheet to download, the words people use in it ("中学", 街道/镇), and
assigning who checks a school with ticks a phone can search."""
import csv
import io

import pytest
import sqlalchemy as sa

from inspect_app.schools.models import School
from tests.schools.test_import import _schools, _upload


def test_the_empty_sheet_downloads_and_imports_back_once_filled_in(login_as, world, app):
    admin = login_as("admin")
    response = admin.get("/schools/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith("\ufeff".encode())  # Excel reads the Chinese headers as UTF-8
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:2] == ["区县/街道", "学校名称"]
    filled = body + "周庄镇,周庄中学,中学,周庄镇中心路1号,31.85,120.40,200,\n".encode()
    assert _upload(admin, filled).status_code == 302
    assert _schools(app)["周庄中学"][:2] == ("周庄镇", "junior_high")
    assert "下载空白模板" in admin.get("/schools/import").get_data(as_text=True)


@pytest.mark.parametrize("district_header", ["街道/镇", "镇", "乡镇（街道）", "所属镇街", "*区县", "区县(必填)"])
def test_town_level_and_marked_headers_are_read_as_the_district(login_as, world, app, district_header):
    admin = login_as("admin")
    data = (f"{district_header},学校名称,类型,纬度,经度\n"
            "华士镇,华士实验中学,中学,31.83,120.45\n"
            "澄江街道,城中高中,普通高中,31.90,120.28\n").encode("gbk")
    response = _upload(admin, data)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    schools = _schools(app)
    assert schools["华士实验中学"][:2] == ("华士镇", "junior_high")
    assert schools["城中高中"][:2] == ("澄江街道", "senior_high")


def test_assignments_are_searchable_ticks_not_a_multiple_select(login_as, world, db):
    admin = login_as("admin")
    page = admin.get(f"/schools/{world.a.id}").get_data(as_text=True)
    section = page.split("schools/%d/assignments" % world.a.id)[1].split("</form>")[0]
    assert "<select" not in section and "data-filter-list" in section and 'type="search"' in section
    assert f'name="user_ids" value="{world.inspector.id}" checked' in section
    assert f'name="user_ids" value="{world.volunteer.id}" checked' in section
    response = admin.form_post(f"/schools/{world.a.id}/assignments", {"user_ids": [str(world.inspector.id)]})
    assert response.status_code == 302
    assert [u.id for u in db.session.get(School, world.a.id).assigned_users] == [world.inspector.id]
    # Only inspectors and volunteers are assignable: a leader's id is refused, nothing changes.
    refused = admin.form_post(f"/schools/{world.a.id}/assignments", {"user_ids": [str(world.leader.id)]})
    assert refused.status_code == 422
    assert [u.id for u in db.session.get(School, world.a.id).assigned_users] == [world.inspector.id]

"""A visit's pages say each thing once, and in words people use (issue 10, Chinese copy)."""
from __future__ import annotations

import re


def test_a_title_never_says_the_kind_of_visit_twice(login_as, world, make_visit, templates):
    covert = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=())
    own = make_visit(world.officer, world.a, template="selfcheck", mode="self_check", fail=())
    overt = make_visit(world.inspector, world.a, fail=())
    admin = login_as("admin")
    covert_page = admin.get(f"/visits/{covert.id}").get_data(as_text=True)
    assert "家长志愿者暗访" in covert_page and "暗访 · 暗访" not in covert_page
    own_page = login_as("officer").get(f"/visits/{own.id}").get_data(as_text=True)
    assert "学校每日自查" in own_page and "自查 · 每日自查" not in own_page
    # Where the name does not say it, the kind is still given.
    assert re.search(r"· 明查</p>", admin.get(f"/visits/{overt.id}").get_data(as_text=True))


def test_the_schools_own_self_check_is_not_blamed_for_an_unscanned_poster(login_as, world, make_visit):
    own = make_visit(world.officer, world.a, template="selfcheck", mode="self_check", fail=())
    page = login_as("leader").get(f"/visits/{own.id}").get_data(as_text=True)
    assert "二维码" not in page.split("<main")[1]
    overt = make_visit(world.inspector, world.a, fail=())
    assert "开始时未扫描学校二维码" in login_as("leader").get(f"/visits/{overt.id}").get_data(as_text=True)


def test_missing_photos_are_named_by_item_number_not_code(login_as, world, make_visit, templates):
    code = templates["onsite"].photo_codes[0]
    visit = make_visit(world.inspector, world.a, fail=(code,), photo=False)
    page = login_as("leader").get(f"/visits/{visit.id}").get_data(as_text=True)
    position = templates["onsite"].codes.index(code) + 1
    assert f"第 {position} 项仍缺照片" in page
    assert not re.search(rf"仍缺照片[^<]*{code}", page)


def test_a_tickets_deadline_has_a_chinese_colon(login_as, world, make_visit):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    page = login_as("officer").get(f"/tickets/{visit.tickets[0]}").get_data(as_text=True)
    assert "整改期限：" in page and "整改期限:" not in page

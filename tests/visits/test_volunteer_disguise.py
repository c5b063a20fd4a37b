"""A volunteer's phone gives nothing away at a glance (issue 10, volunteer): every screen of a covert
check wears the neutral note-taking app's name, icon and words, while the volunteer is told the
truth in plain, neutral words. And a volunteer with no school yet is told what happens next."""
from __future__ import annotations

import re

# What a bystander at the gate must not read on the screen (or hear from a screen reader).
GIVEAWAYS = ("暗访", "督查", "督学", "志愿者", "检查", "SafeCampus", "Inspect")


def _pages(world, templates, draft, done):
    a = world.a
    return {
        "home": "/", "schools": "/schools/", "school": f"/schools/{a.id}", "scan": f"/s/{a.qr_token}",
        "scanner": "/scan", "mine": "/visits/", "draft": f"/visits/{draft.id}", "summary": f"/visits/{done.id}",
        "new": f"/visits/new?school_id={a.id}&mode=covert&template_id={templates['covert'].id}",
    }


def test_nothing_on_a_volunteers_screens_reads_as_an_inspection(login_as, world, templates, make_visit):
    draft = make_visit(world.volunteer, world.a, template="covert", mode="covert", submit=False, fail=("V1",))
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    volunteer = login_as("volunteer")
    found = []
    for name, url in _pages(world, templates, draft, done).items():
        response = volunteer.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        # The whole page, attributes and the checklist's own labels included: a dialog or an
        # aria-label read aloud is on the screen too.
        found += [f"{name}: {word}" for word in GIVEAWAYS if word in page]
        assert re.search(r"<title>\s*随手记\s*</title>", page), name
        assert "img/notes" in page and "img/icon" not in page, name
    assert not found, found


def test_a_volunteers_home_screen_icon_is_the_notes_app(login_as, world):
    page = login_as("volunteer").get("/").get_data(as_text=True)
    manifest_url = re.search(r'rel="manifest" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    manifest = login_as(None).get(manifest_url).get_json()  # the same bytes whoever asks for this URL
    assert manifest["name"] == manifest["short_name"] == "随手记"
    assert all("/img/notes-" in icon["src"] for icon in manifest["icons"])
    # Everyone else keeps the app's own name.
    assert login_as("inspector").get("/").get_data(as_text=True).count('href="/manifest.webmanifest"') == 1


def test_the_volunteer_still_knows_where_they_are_and_what_they_sent(login_as, world, templates, make_visit):
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    page = login_as("volunteer").get(f"/visits/{done.id}").get_data(as_text=True)
    assert "甲校" in page and "已提交" in page and "校门口无明显人员聚集" in page


def test_a_volunteer_without_schools_is_told_who_gives_them_one(login_as, make_user, make_browser):
    lonely = make_user("volunteer")
    browser = make_browser()
    browser.sign_in(lonely.username)
    page = browser.get("/").get_data(as_text=True)
    assert "还没有为您安排学校" in page and "项目负责人" in page
    assert "分配给您的学校" not in page  # not a tile that counts 0

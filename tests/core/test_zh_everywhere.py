"""Every page and fragment, as every role, reads as Chinese (issue 10, Chinese copy), and every button
on them says what it does (tests/core/test_button_labels.py's list): one crawl, rendered once for both.

The crawl takes every GET route the app has (a new route with an unknown argument fails it), with
values that reach real data: visits of every kind, tickets, photos, a report day. It renders each in
zh as a full page and as an htmx fragment, keeps what a person sees or hears (text, and the
attributes a browser shows or reads aloud) and fails on any Latin word not in the allow-list.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tests.conftest import Browser, Factories
from tests.core.test_button_labels import GIVEAWAYS, LABELS, labels_on
from tests.core.test_i18n import ALLOWED_LATIN as ALLOWED
from tests.core.test_i18n import URL, _Text

ROLES = ("anon", "admin", "leader", "inspector", "volunteer", "officer")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _Shown(_Text):
    """_Text, less what is data rather than copy: a recorded value (<code>), a form's current text."""

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "textarea"):
            self._skip += 1
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in ("code", "textarea"):
            self._skip -= 1
        super().handle_endtag(tag)


def visible_words(html: str) -> set[str]:
    parser = _Shown()
    parser.feed(html)
    text = URL.sub(" ", " ".join(parser.chunks))
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


@pytest.fixture
def crawl(app, world, make_visit, templates):
    """Every GET URL with values that reach data (tests/volunteers/test_identity_escrow.py crawls it too)."""
    return crawl_urls(app, world, make_visit, templates)


def crawl_urls(app, world, make_visit, templates) -> list[str]:
    covert = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V1", "V3"))
    overt = make_visit(world.inspector, world.a, fail=("G1",))
    draft = make_visit(world.inspector, world.a, submit=False)
    own = make_visit(world.officer, world.a, template="selfcheck", mode="self_check", fail=())
    shanghai = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    complaint = app.test_client().post("/api/v1/complaints", json={"school_id": world.a.id, "text": "门卫不在岗"})
    from tests.test_covert_source import _issue_hand_overs
    plan_id = _plan_id(app, world, shanghai)
    values = {
        "hand_over_id": _issue_hand_overs(app, world, covert, overt),
        "plan_id": [plan_id],
        "code": [complaint.get_json()["tracking_code"]], "complaint_id": [_complaint_id(app)],
        "school_id": [world.a.id], "ticket_id": covert.tickets + overt.tickets,
        "visit_id": [covert.id, overt.id, draft.id, own.id], "photo_id": [], "size": [],
        "token": [world.a.qr_token, "no-such-code"], "day": sorted({date.today().isoformat(), shanghai}),
        "template_id": [templates["covert"].id, templates["onsite"].id], "user_id": [world.volunteer.id],
        "kind": ["visits", "findings", "tickets"], "fmt": ["csv"], "filename": [],
    }
    urls = set()
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in (
                    "core.service_worker", "core.manifest", "core.healthz"):
                continue
            combos = [{}]
            for arg in sorted(rule.arguments):
                assert arg in values, f"the crawl has no values for <{arg}> of {rule.rule}: add them"
                combos = [dict(c, **{arg: v}) for c in combos for v in values[arg]]
            urls |= {url_for(rule.endpoint, **c) for c in combos}
    a = world.a.id
    urls |= {f"/visits/new?school_id={a}&mode={m}&template_id={templates[t].id}"
             for m, t in (("overt", "onsite"), ("covert", "covert"), ("self_check", "selfcheck"))}
    urls |= {f"/tickets/?status={s}" for s in ("open", "responded", "closed", "reopened")}
    urls |= {"/schools/?q=甲", "/schools/?q=无此学校", "/no/such/page"}
    return sorted(urls)


@pytest.fixture(scope="module")
def site(app, module_db):
    """One world for the module's two crawls, built once (module_db rolls it back after the module)."""
    make = Factories(app)
    world, templates = make.world(), make.templates()
    urls = crawl_urls(app, world, lambda author, school, **kwargs: make.visit(templates, author, school, **kwargs),
                      templates)
    return SimpleNamespace(world=world, urls=urls)


@pytest.fixture(scope="module")
def pages(app, site):
    """Every crawled URL as every role, rendered once for both tests: `shown`, what the Chinese check
    reads (each page and its htmx fragment; a download once, for the first role it is one for), and
    `full`, every full page as every role (the button check: a 403 page has buttons too)."""
    shown, full, documents = [], {}, set()
    for who in ROLES:
        browser = Browser(app)
        if who != "anon":
            browser.sign_in(getattr(site.world, who).username)
        for url in site.urls:
            for fragment in (False, True):
                if fragment and url in documents:
                    continue
                response = browser.get(url, headers={"HX-Request": "true"} if fragment else {})
                html = response.get_data().decode("utf-8", "replace")  # drains a streamed export, too
                response.close()
                page = SimpleNamespace(who=who, url=url, fragment=fragment, status=response.status_code,
                                       mimetype=response.mimetype,
                                       html=html if response.mimetype == "text/html" else None)
                if not fragment:
                    full[who, url] = page
                if url not in documents:
                    shown.append(page)
                if response.status_code == 200 and response.mimetype != "text/html":
                    documents.add(url)
    return SimpleNamespace(shown=shown, full=full)


def test_every_page_and_fragment_is_chinese(site, pages):
    world = site.world
    names = {u.username for u in vars(world).values() if hasattr(u, "username")}
    names |= {u.role.value for u in vars(world).values() if hasattr(u, "role")}
    found, seen = [], 0
    for page in pages.shown:
        if page.mimetype != "text/html" or 300 <= page.status < 400:
            continue  # a redirect's body is never shown
        seen += 1
        html = page.html
        for name in names:  # test users' Latin names are data, not copy
            html = html.replace(name, "")
        if page.url.startswith("/audit/"):  # the record names each row by its id; nowhere else
            html = UUID.sub(" ", html)
        words = visible_words(html)
        if words:
            found.append(f"{page.who} {page.url}{' (htmx)' if page.fragment else ''} {page.status}: "
                         f"{sorted(words)}")
    assert seen > 200
    assert not found, "\n".join(found)


def test_every_button_says_what_it_does(pages):
    """tests/core/test_button_labels.py: every label on a button is one written down with what it does,
    and a volunteer's never gives the disguise away."""
    unknown, giveaways = {}, {}
    for (role, url), page in pages.full.items():
        if page.mimetype != "text/html":
            continue
        for label in labels_on(page.html):
            if label not in LABELS:
                unknown.setdefault(label, (role, url))
            if role == "volunteer" and any(word in label for word in GIVEAWAYS):
                giveaways.setdefault(label, url)
    assert len(pages.full) > 200
    assert not unknown, f"buttons whose label is not in LABELS (what does each do?): {unknown}"
    assert not giveaways, f"a volunteer's buttons give the disguise away: {giveaways}"


def _plan_id(app, world, day: str) -> int:
    """A risk plan for today naming the inspector's school (its pages show scores, reasons, tasks)."""
    from inspect_app.accounts.models import User
    from inspect_app.checklists.models import VisitMode
    from inspect_app.extensions import db
    from inspect_app.plans.models import Weighting
    from inspect_app.plans.planning import PlanRequest, create_plan
    with app.test_request_context():
        today = date.fromisoformat(day)
        plan = create_plan(PlanRequest(today, today, 2, [VisitMode.OVERT, VisitMode.COVERT], None, Weighting.RISK),
                           db.session.get(User, world.leader.id))
        db.session.commit()
        return plan.id


def _complaint_id(app) -> int:
    import sqlalchemy as sa

    from inspect_app.complaints.models import Complaint
    from inspect_app.extensions import db
    with app.app_context():
        return db.session.scalar(sa.select(Complaint.id))

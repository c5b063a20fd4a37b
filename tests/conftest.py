"""Fixtures: one migrated database per run (SQLite, or PostgreSQL with TEST_DB=postgresql),
emptied after every test; callable factories; a browser-like client that signs in for real."""
from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from inspect_app import create_app
from inspect_app.accounts.models import Role, User
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind

PASSWORD = "correct-horse-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _database_url() -> str:
    if os.environ.get("TEST_DB") == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("TEST_DB=postgresql needs TEST_DATABASE_URL", returncode=2)
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return "sqlite://"


def _scratch_database(url: str):
    """A database of this run's own next to TEST_DATABASE_URL's, so two runs never share tables."""
    base = sa.engine.make_url(url)
    name = f"{base.database}_run{os.getpid()}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), admin, name


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url()
    scratch = None
    if url.startswith("postgresql"):
        url, admin, name = _scratch_database(url)
        scratch = (admin, name)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url,
                     STORAGE_DIR=str(tmp_path_factory.mktemp("storage")))
    with app.app_context():
        upgrade()  # the schema is built by the same migrations production runs
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if scratch:
        admin, name = scratch
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _empty_database(app):
    yield
    with app.app_context():
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            # TRUNCATE: the audit table refuses row deletes (a trigger), as it must in production.
            names = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        db.session.commit()


class Browser:
    """The test client with the manners of a real browser form: it sends the page's CSRF token."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token: str | None = None

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf(self) -> str:
        page = self.client.get("/accounts/sign-in")
        if page.status_code == 302:  # signed in: any page with a form carries the token
            page = self.client.get("/schools/")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        self.token = match.group(1) or match.group(2)
        return self.token

    def form_post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=data, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD):
        response = self.form_post("/accounts/sign-in", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def make_browser(app):
    return lambda: Browser(app)


@pytest.fixture
def make_school(app):
    counter = iter(range(1, 10_000))

    def factory(**kwargs) -> SimpleNamespace:
        n = next(counter)
        values = dict(district="澄江街道", name=f"测试学校{n}", kind=SchoolKind.PRIMARY,
                      address=f"测试路{n}号", lat=31.9 + n / 1000, lon=120.28, radius_m=200)
        values.update(kwargs)
        with app.app_context():
            school = School(**values)
            db.session.add(school)
            db.session.commit()
            return SimpleNamespace(id=school.id, name=school.name, qr_token=school.qr_token)
    return factory


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def factory(role: Role | str = Role.INSPECTOR, school_id: int | None = None,
                assigned_school_ids=(), **kwargs) -> SimpleNamespace:
        role = Role(role)
        n = next(counter)
        values = dict(username=f"{role.value}{n}", display_name=f"{role.value} {n}",
                      pseudonym=f"志愿者{n}" if role is Role.VOLUNTEER else None)
        real_name = kwargs.pop("real_name", None)  # a volunteer's, sealed as the app seals it
        values.update(kwargs)
        with app.app_context():
            user = User(role=role, school_id=school_id, **values)
            if real_name is not None:
                user.seal_identity(real_name, values.get("phone"))
            user.set_password(PASSWORD)
            db.session.add(user)
            schools = [db.session.get(School, sid) for sid in assigned_school_ids]
            for school in schools:
                school.assigned_users.append(user)
            db.session.commit()
            return SimpleNamespace(id=user.id, username=user.username, role=role, school_id=school_id)
    return factory


@pytest.fixture
def world(make_school, make_user):
    """Two schools and one user of every role: the officer and the volunteer belong to school A."""
    a = make_school(name="甲校")
    b = make_school(name="乙校")
    users = {
        "admin": make_user(Role.ADMIN, manages_volunteers=True),
        "leader": make_user(Role.LEADER),
        "inspector": make_user(Role.INSPECTOR, assigned_school_ids=[a.id]),
        "volunteer": make_user(Role.VOLUNTEER, assigned_school_ids=[a.id]),
        "officer": make_user(Role.DUTY_OFFICER, school_id=a.id),
        "officer_b": make_user(Role.DUTY_OFFICER, school_id=b.id),
    }
    return SimpleNamespace(a=a, b=b, **users)


@pytest.fixture
def login_as(world, make_browser):
    """A browser signed in as one of the world's users ("admin", "officer", … or None for anonymous)."""
    def factory(who: str | None) -> Browser:
        browser = make_browser()
        if who is not None:
            browser.sign_in(getattr(world, who).username)
        return browser
    return factory


@pytest.fixture
def api_token(app, world):
    def factory(who: str) -> dict[str, str]:
        client = app.test_client()
        response = client.post("/api/v1/auth/token",
                               json={"username": getattr(world, who).username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}
    return factory


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None) -> bytes:
    """A small real JPEG; a different colour gives different content (and hash)."""
    import io

    from PIL import Image
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


@pytest.fixture
def templates(app):
    from inspect_app.checklists.services import install_builtin_templates
    with app.app_context():
        install_builtin_templates()
        db.session.commit()
        from inspect_app.checklists.models import ChecklistTemplate
        return {t.code: SimpleNamespace(id=t.id, version_id=t.current_version.id,
                                        codes=[i.code for i in t.current_version.items],
                                        photo_codes=[i.code for i in t.current_version.items if i.photo_required])
                for t in db.session.scalars(sa.select(ChecklistTemplate))}


@pytest.fixture
def make_visit(app, templates):
    """A visit by `author` at `school`: every item passed except `fail` (with a photo unless photo=False)."""
    import uuid
    from datetime import timezone

    from inspect_app.checklists.models import TemplateVersion, VisitMode
    from inspect_app.dbtypes import utcnow
    from inspect_app.photos.services import PhotoFields, receive_photo
    from inspect_app.visits import services
    from inspect_app.visits.models import Result

    colours = iter(range(1, 250))

    def factory(author, school, template="onsite", mode=VisitMode.OVERT, submit=True, fail=("G1",),
                photo=True, answer_all=True) -> SimpleNamespace:
        with app.test_request_context("/"):
            user = db.session.get(User, author.id)
            version = db.session.get(TemplateVersion, templates[template].version_id)
            visit = services.start_visit(user, db.session.get(School, school.id), VisitMode(mode), version,
                                         started_at=utcnow(), location=services.Location(31.9, 120.28, 10),
                                         qr_token=None, client_time=None)
            for item in version.items if answer_all else []:
                services.record_answer(visit, item, Result.FAIL if item.code in fail else Result.PASS)
            db.session.commit()
            visit_id = visit.id
            findings = {f.item_code: f.id for f in visit.findings}
            photo_ids = []
            if photo:
                for code, finding_id in findings.items():
                    photo_id = str(uuid.uuid4())
                    receive_photo(photo_id, user, jpeg_bytes(color=(next(colours), 40, 40)),
                                  PhotoFields(captured_at=utcnow().astimezone(timezone.utc), finding_id=finding_id))
                    photo_ids.append(photo_id)
            tickets = []
            if submit:
                from inspect_app.tickets.models import Ticket
                from inspect_app.visits.models import Visit
                visit = db.session.get(Visit, visit_id)
                services.submit(visit, utcnow(), None)
                db.session.commit()
                tickets = list(db.session.scalars(sa.select(Ticket.id).where(Ticket.visit_id == visit_id)
                                                  .order_by(Ticket.id)))
            return SimpleNamespace(id=visit_id, findings=findings, photos=photo_ids, tickets=tickets)
    return factory


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """What a browser would send for the form (the first, or the one posting to `action`)."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields, self.active, self.done = {}, False, False
            self.textarea = self.select = None
            self.first_option = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and not self.done and (action is None or a.get("action") == action):
                self.active = True
            if not self.active:
                return
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                if a.get("type") in ("submit", "file"):
                    return
                self.fields[a["name"]] = a.get("value", "")
            elif tag == "textarea":
                self.textarea = a.get("name")
                self.fields[self.textarea] = ""
            elif tag == "select":
                self.select, self.first_option = a.get("name"), None
            elif tag == "option" and self.select:
                if self.first_option is None:
                    self.first_option = a.get("value", "")
                    self.fields.setdefault(self.select, self.first_option)
                if "selected" in a:
                    self.fields[self.select] = a.get("value", "")

        def handle_endtag(self, tag):
            if tag == "form" and self.active:
                self.active, self.done = False, True
            elif tag == "textarea":
                # Browsers drop the newline that follows <textarea>.
                value = self.fields[self.textarea]
                self.fields[self.textarea] = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
                self.textarea = None
            elif tag == "select":
                self.select = None

        def handle_data(self, data):
            if self.active and self.textarea:
                self.fields[self.textarea] += data

    parser = Parser()
    parser.feed(html)
    return parser.fields

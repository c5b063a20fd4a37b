"""Fixtures: one migrated database per run (SQLite, or PostgreSQL with TEST_DB=postgresql); each test
runs inside a transaction that is rolled back (tests marked real_commits commit for real and the tables
are emptied after them); callable factories; a browser-like client that signs in for real."""
from __future__ import annotations

import collections
import contextlib
import contextvars
import itertools
import os
import re
import threading
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from inspect_app import create_app
from inspect_app.accounts.models import Role, User
from inspect_app.config import TestConfig
from inspect_app.extensions import db as _db
from inspect_app.schools.models import School, SchoolKind

PASSWORD = "correct-horse-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class IsolatedClient(FlaskClient):
    """Each request in a context of its own, as a server runs it: never inside an application context
    the test holds (the `db` fixture's), whose g and session Flask would otherwise reuse for the request.
    What the test's session holds is committed first, as a test writes before it asks; the commit
    expires it, so what the test reads afterwards is read afresh, as the request left it."""

    def open(self, *args, **kwargs):
        if has_app_context() and current_app._get_current_object() is self.application:
            _db.session.commit()
        # Buffered: a streamed answer (the exports) is read to its end in the request's own context.
        return contextvars.Context().run(super().open, *args, **{**kwargs, "buffered": True})


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


def _let_pysqlite_nest(engine) -> None:
    """pysqlite begins transactions on its own schedule and never for SAVEPOINT, so a rolled-back test
    would keep what it wrote. While a Rollback holds the connection it turns pysqlite's transaction
    handling off and SQLAlchemy says BEGIN itself (SQLAlchemy's recipe: "Serializable isolation /
    Savepoints / Transactional DDL" in its SQLite notes); the rest of the time (migrations,
    real_commits tests) pysqlite behaves as in production."""
    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        if connection.connection.dbapi_connection.isolation_level is None:
            connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """The S3 server the run's uploads go to with TEST_STORAGE=s3 (as TEST_DB=postgresql picks the
    database): the one TEST_S3_ENDPOINT names (.ci/run starts SeaweedFS as it starts PostgreSQL), else
    one started for this process. None: the uploads go to a local folder, as on a laptop."""
    if os.environ.get("TEST_STORAGE", "local") != "s3":
        yield None
        return
    if endpoint := os.environ.get("TEST_S3_ENDPOINT"):
        yield endpoint
        return
    from tests.storage_server import SeaweedServer
    server = SeaweedServer(tmp_path_factory.mktemp("seaweedfs")).start()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory, worker_id):
    """The demo instance the served tests copy (tests/live.py): built once per run, shared by xdist's
    workers through the run's own folder (above the workers' popen-gwN)."""
    from tests.live import build_demo_instance
    root = tmp_path_factory.getbasetemp()
    return build_demo_instance(root if worker_id == "master" else root.parent)


@pytest.fixture(scope="session")
def app(tmp_path_factory, s3_server):
    url = _database_url()
    scratch = None
    if url.startswith("postgresql"):
        url, admin, name = _scratch_database(url)
        scratch = (admin, name)
    store = {"STORAGE_DIR": str(tmp_path_factory.mktemp("storage"))}
    if s3_server:
        from tests.storage_server import storage_config
        # A prefix of this process's own: xdist's workers (and two runs) share one server, never keys.
        store |= storage_config(s3_server, f"run{os.getpid()}")
    if os.environ.get("TEST_LIMITS") == "redis":
        # TEST_LIMITS=redis (the third pass of `make test`): rate limits count in Redis, as with REDIS_URL
        # on a province's servers; a key prefix of this process's own, emptied after each test below.
        redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        store |= {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **store)
    app.test_client_class = IsolatedClient
    # A session given a connection that is already in a transaction works in a savepoint of it: the
    # app's commits release savepoints and the test's rollback takes everything back.
    _db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    with app.app_context():
        if _db.engine.dialect.name == "sqlite":
            _let_pysqlite_nest(_db.engine)
        upgrade()  # the schema is built by the same migrations production runs
    _install_shipped(app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if scratch:
        admin, name = scratch
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _close_sessions() -> None:
    """Every session the app left open gives its connection back (Flask-SQLAlchemy keeps one per
    application context in the scoped session's registry)."""
    for session in list(_db.session.registry.registry.values()):
        session.close()
    _db.session.registry.registry.clear()


class Rollback:
    """The app's database, for as long as this lasts, is one connection inside a transaction that is
    rolled back at the end: every session of the app (each request's, each test's app context) works
    in a savepoint of it, so the app commits as it always does and nothing outlives the test. Inside
    another Rollback (a module's world, module_db) it is a savepoint of that one's transaction."""

    def __init__(self, app):
        with app.app_context():
            self.engines = _db.engines  # the app's own bind key → engine mapping
        bind = self.engines[None]
        self.engine = bind if isinstance(bind, sa.Engine) else None
        self.connection = self.engine.connect() if self.engine else bind
        self.pysqlite = self.engine is not None and self.connection.dialect.name == "sqlite"
        if self.pysqlite:
            dbapi_connection = self.connection.connection.dbapi_connection
            self.pysqlite_level = dbapi_connection.isolation_level
            dbapi_connection.isolation_level = None  # see _let_pysqlite_nest
        self.transaction = self.connection.begin() if self.engine else self.connection.begin_nested()
        self.engines[None] = self.connection

    def close(self) -> None:
        _close_sessions()
        if self.transaction.is_active:
            self.transaction.rollback()
        if self.pysqlite:
            self.connection.connection.dbapi_connection.isolation_level = self.pysqlite_level
        if self.engine:
            self.engines[None] = self.engine
            self.connection.close()


def threaded_app(app, tmp_path_factory, name: str):
    """For a module whose threads race on the database (real_commits): on PostgreSQL the session's app;
    on SQLite an app of its own on a file, since an in-memory database is one connection and threads
    would not race at all. A generator for a module-scoped `app` fixture to yield from."""
    if os.environ.get("TEST_DB") == "postgresql":
        yield app
        return
    folder = tmp_path_factory.mktemp(name)
    served = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / (name + '.db')}",
                        STORAGE_DIR=str(folder / "storage"))
    served.test_client_class = IsolatedClient
    with served.app_context():
        upgrade()
    yield served
    with served.app_context():
        _db.session.remove()
        _db.engine.dispose()


@contextlib.contextmanager
def counted():
    """The SQL statements sent while the block runs (on any engine or connection of the app)."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(sa.Engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", note)


def at_once(count: int, work, failed, timeout: float = 120) -> list:
    """work(n) for n in range(count) in real threads released together by a barrier (a race is won by
    whoever gets there first); each result, or failed(error) for one that raised, so that it surfaces
    in the caller's assertion instead of dying with its thread."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(n):
        barrier.wait()
        try:
            outcomes[n] = work(n)
        except Exception as error:  # noqa: BLE001 - reported through the outcome
            outcomes[n] = failed(error)
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes


def _install_shipped(app) -> None:
    """What every installation has before anyone signs in (`flask checklists install` in `make db`):
    the shipped checklist templates. Committed once under every test's rollback, so the tests that use
    them do not each write ~200 items and their audit entries again."""
    from inspect_app.checklists.services import install_builtin_templates
    with app.app_context():
        install_builtin_templates()
        _db.session.commit()


def _empty_tables(app) -> None:
    with app.app_context():
        _db.session.rollback()
        if _db.engine.dialect.name == "postgresql":
            # TRUNCATE: the audit table refuses row deletes (a trigger), as it must in production.
            names = ", ".join(t.name for t in _db.metadata.sorted_tables)
            _db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(_db.metadata.sorted_tables):
                _db.session.execute(table.delete())
        _db.session.commit()
    _install_shipped(app)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "database_clock: the test moves the rate limits' clock (the database store's); left out "
                   "of the Redis pass, whose clock is real time")
    config.addinivalue_line(
        "markers", "real_commits: the test's writes are committed for real (seen by other connections, "
                   "threads or processes, or it changes the schema); the tables are emptied after it")


@pytest.fixture(autouse=True)
def _database(request, app):
    """Each test's writes are rolled back; in a module that built its world once (module_db) the world
    stays. Tests marked real_commits commit for real and the tables are emptied after them."""
    if request.node.get_closest_marker("real_commits"):
        with app.app_context():
            assert isinstance(_db.engine, sa.Engine), "real_commits tests cannot share a module with module_db"
        yield
        _empty_tables(app)
        _forget_counts(app)
        return
    rollback = Rollback(app)
    try:
        yield
    finally:
        rollback.close()
        _forget_counts(app)


def _forget_counts(app) -> None:
    """Counts kept outside the database (Redis) are not rolled back with it: each test starts with none."""
    if app.config.get("REDIS_URL"):
        from inspect_app import ratelimit
        with app.app_context():
            ratelimit.storage().reset()


def pytest_collection_modifyitems(config, items):
    """Two tests with one id are refused: pytest-xdist schedules by id and runs one of them, silently
    (pytest 9.2 gave schemathesis's thirty operation tests one id; it is pinned below 9.2 for that).

    Tests that drive the rate limits' clock through the database's store have no such clock on Redis
    (it keeps real time): on the Redis pass they are left out, and run in the other passes."""
    repeated = [nodeid for nodeid, n in collections.Counter(item.nodeid for item in items).items() if n > 1]
    if repeated:
        raise pytest.UsageError(f"{len(repeated)} test ids are not unique, e.g. {repeated[0]}: a parallel run "
                                "would run only one test of each")
    if os.environ.get("TEST_LIMITS") != "redis":
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("database_clock") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="module")
def module_db(app):
    """For a module whose tests share a world built once (module-scoped fixtures that ask for this);
    pytest sets module fixtures up before a test's own, so each test runs in a savepoint after the world."""
    rollback = Rollback(app)
    yield rollback
    rollback.close()


@pytest.fixture
def db(app):
    """The database extension inside an application context held for the whole test: the test works
    with models and services directly, with no `with app.app_context()` around each look. A request the
    test makes meanwhile runs in a context of its own (IsolatedClient), after the test's session is
    committed, and what the test reads after it is read afresh."""
    with app.app_context():
        yield _db


class Browser:
    """The test client with the manners of a real browser form: it sends the page's CSRF token."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token: str | None = None
        self._token_for: str | None = None  # the session cookie the token was read under

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
        if "csrf_token" not in data:
            # A browser posts the token of the page it is on; reading a page for it before every post
            # doubled what a form test costs. The token is tied to the session, so it is read again
            # when the cookies change (signing in or out gives a new session).
            if self.token is None or self._session() != self._token_for:
                self.token = self.csrf()
                self._token_for = self._session()
            data["csrf_token"] = self.token
        return self.client.post(url, data=data, **kwargs)

    def _session(self) -> str | None:
        cookie = self.client.get_cookie(self.client.application.config["SESSION_COOKIE_NAME"])
        return cookie.value if cookie else None

    def sign_in(self, username: str, password: str = PASSWORD):
        response = self.form_post("/accounts/sign-in", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def cookies(self) -> dict[str, str]:
        """What a signed-in browser holds (the session and the recognised-device cookie)."""
        from inspect_app.accounts.throttle import DEVICE_COOKIE
        names = (self.client.application.config["SESSION_COOKIE_NAME"], DEVICE_COOKIE)
        return {name: cookie.value for name in names if (cookie := self.client.get_cookie(name))}

    def restore(self, cookies: dict[str, str]) -> Browser:
        """This browser as the one whose cookies these were: signed in without hashing a password."""
        for name, value in cookies.items():
            self.client.set_cookie(name, value)
        return self


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None) -> bytes:
    """A small real JPEG; a different colour gives different content (and hash)."""
    import io

    from PIL import Image
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


class Factories:
    """Rows made through the app's own models and services, each committed; the fixtures below hand
    these out per test, and a module building its world once (module_db) uses them directly."""

    def __init__(self, app):
        self.app = app
        self._schools = itertools.count(1)
        self._users = itertools.count(1)
        self._colours = itertools.count(1)

    def school(self, **kwargs) -> SimpleNamespace:
        with self.app.app_context():
            school = self._school(**kwargs)
            _db.session.commit()
            return self._school_seen(school)

    def _school(self, **kwargs) -> School:
        n = next(self._schools)
        values = dict(district="澄江街道", name=f"测试学校{n}", kind=SchoolKind.PRIMARY,
                      address=f"测试路{n}号", lat=31.9 + n / 1000, lon=120.28, radius_m=200)
        values.update(kwargs)
        school = School(**values)
        _db.session.add(school)
        return school

    @staticmethod
    def _school_seen(school: School) -> SimpleNamespace:
        return SimpleNamespace(id=school.id, name=school.name, qr_token=school.qr_token)

    def user(self, role: Role | str = Role.INSPECTOR, school_id: int | None = None,
             assigned_school_ids=(), **kwargs) -> SimpleNamespace:
        with self.app.app_context():
            user = self._user(role, school_id, assigned_school_ids, **kwargs)
            _db.session.commit()
            return self._user_seen(user)

    def _user(self, role: Role | str = Role.INSPECTOR, school_id: int | None = None,
              assigned_school_ids=(), **kwargs) -> User:
        role = Role(role)
        n = next(self._users)
        values = dict(username=f"{role.value}{n}", display_name=f"{role.value} {n}",
                      pseudonym=f"志愿者{n}" if role is Role.VOLUNTEER else None)
        real_name = kwargs.pop("real_name", None)  # a volunteer's, sealed as the app seals it
        values.update(kwargs)
        user = User(role=role, school_id=school_id, **values)
        if real_name is not None:
            user.seal_identity(real_name, values.get("phone"))
        user.set_password(PASSWORD)
        _db.session.add(user)
        schools = [_db.session.get(School, sid) for sid in assigned_school_ids]
        for school in schools:
            school.assigned_users.append(user)
        return user

    @staticmethod
    def _user_seen(user: User) -> SimpleNamespace:
        return SimpleNamespace(id=user.id, username=user.username, role=user.role, school_id=user.school_id)

    def world(self) -> SimpleNamespace:
        """Two schools and one user of every role: the officer and the volunteer belong to school A."""
        # In one transaction: nearly every test asks for this world, and a commit per row (each chained
        # by the audit) cost twice as much.
        with self.app.app_context():
            a, b = self._school(name="甲校"), self._school(name="乙校")
            _db.session.flush()
            users = {
                "admin": self._user(Role.ADMIN, manages_volunteers=True),
                "leader": self._user(Role.LEADER),
                "inspector": self._user(Role.INSPECTOR, assigned_school_ids=[a.id]),
                "volunteer": self._user(Role.VOLUNTEER, assigned_school_ids=[a.id]),
                "officer": self._user(Role.DUTY_OFFICER, school_id=a.id),
                "officer_b": self._user(Role.DUTY_OFFICER, school_id=b.id),
            }
            _db.session.commit()
            return SimpleNamespace(a=self._school_seen(a), b=self._school_seen(b),
                                   **{who: self._user_seen(user) for who, user in users.items()})

    def templates(self) -> dict[str, SimpleNamespace]:
        from inspect_app.checklists.models import ChecklistTemplate
        from inspect_app.checklists.services import install_builtin_templates
        with self.app.app_context():
            install_builtin_templates()
            _db.session.commit()
            return {t.code: SimpleNamespace(id=t.id, version_id=t.current_version.id,
                                            codes=[i.code for i in t.current_version.items],
                                            photo_codes=[i.code for i in t.current_version.items
                                                         if i.photo_required])
                    for t in _db.session.scalars(sa.select(ChecklistTemplate))}

    def visit(self, templates, author, school, template="onsite", mode=None, submit=True, fail=("G1",),
              photo=True, answer_all=True) -> SimpleNamespace:
        """A visit by `author` at `school`: every item passed except `fail` (with a photo unless photo=False)."""
        import uuid
        from datetime import timezone

        from inspect_app.checklists.models import TemplateVersion, VisitMode
        from inspect_app.dbtypes import utcnow
        from inspect_app.parsing import Location
        from inspect_app.photos.services import PhotoFields, receive_photo
        from inspect_app.tickets.models import Ticket
        from inspect_app.visits import services
        from inspect_app.visits.models import Result, Visit

        mode = VisitMode.OVERT if mode is None else VisitMode(mode)
        with self.app.test_request_context("/"):
            user = _db.session.get(User, author.id)
            version = _db.session.get(TemplateVersion, templates[template].version_id)
            visit = services.start_visit(user, _db.session.get(School, school.id), mode, version,
                                         started_at=utcnow(), location=Location(31.9, 120.28, 10),
                                         qr_token=None, client_time=None)
            for item in version.items if answer_all else []:
                services.record_answer(visit, item, Result.FAIL if item.code in fail else Result.PASS)
            _db.session.commit()
            visit_id = visit.id
            findings = {f.item_code: f.id for f in visit.findings}
            photo_ids = []
            if photo:
                for code, finding_id in findings.items():
                    photo_id = str(uuid.uuid4())
                    receive_photo(photo_id, user, jpeg_bytes(color=(next(self._colours), 40, 40)),
                                  PhotoFields(captured_at=utcnow().astimezone(timezone.utc), finding_id=finding_id))
                    photo_ids.append(photo_id)
            tickets = []
            if submit:
                visit = _db.session.get(Visit, visit_id)
                services.submit(visit, utcnow(), None)
                _db.session.commit()
                tickets = list(_db.session.scalars(sa.select(Ticket.id).where(Ticket.visit_id == visit_id)
                                                   .order_by(Ticket.id)))
            return SimpleNamespace(id=visit_id, findings=findings, photos=photo_ids, tickets=tickets)


@pytest.fixture
def factories(app):
    return Factories(app)


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def make_browser(app):
    return lambda: Browser(app)


@pytest.fixture
def make_school(factories):
    return factories.school


@pytest.fixture
def make_user(factories):
    return factories.user


@pytest.fixture
def world(factories):
    """Two schools and one user of every role: the officer and the volunteer belong to school A."""
    return factories.world()


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


@pytest.fixture
def templates(factories):
    return factories.templates()


@pytest.fixture
def make_visit(factories, templates):
    """A visit by `author` at `school`: every item passed except `fail` (with a photo unless photo=False)."""
    return lambda author, school, **kwargs: factories.visit(templates, author, school, **kwargs)


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

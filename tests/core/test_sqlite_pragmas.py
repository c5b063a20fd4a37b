"""SQLite, the embedded default, is set up on every connection for several workers sharing one file:
WAL (readers never wait for the writer) and a busy timeout (a writer waits for the lock instead of
failing at once with "database is locked"). PostgreSQL connections are left as they are."""
import sqlalchemy as sa

from inspect_app import create_app
from inspect_app.config import TestConfig
from inspect_app.extensions import db


def test_every_sqlite_connection_uses_wal_and_waits_for_the_lock(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'inspect.db'}",
                     STORAGE_DIR=str(tmp_path / "storage"))
    with app.app_context():
        engine = db.engine
        try:
            for _ in range(2):  # a fresh connection each time, not one the pool kept
                with engine.connect() as connection:
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                engine.dispose()
        finally:
            engine.dispose()


def test_the_pragmas_are_not_sent_to_other_databases():
    from inspect_app.extensions import _sqlite_pragmas

    class NotSqlite:
        def cursor(self):
            raise AssertionError("no statement may be sent")
    _sqlite_pragmas(NotSqlite(), None)
    assert sa.event.contains(sa.Engine, "connect", _sqlite_pragmas)

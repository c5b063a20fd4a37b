"""Extensions live at module level and are bound to an app in the factory (microblog style)."""
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect


class Base(so.DeclarativeBase):
    # Stable constraint names so Alembic migrations can alter them on SQLite and PostgreSQL alike.
    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)  # batch mode: SQLite cannot ALTER most things in place
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    import sqlite3
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Several gunicorn workers share one file: wait for a lock instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def enable_sqlite_pragmas() -> None:
    if not sa.event.contains(sa.Engine, "connect", _sqlite_pragmas):
        sa.event.listen(sa.Engine, "connect", _sqlite_pragmas)


# What a transaction read once and its later steps reuse (the people a ticket's notice goes to, what
# a whole-visit PUT learnt in its first query), by name in session.info: gone when the transaction
# commits or rolls back, so the next one reads afresh.
_KNOWN: set[str] = set()


def known(name: str) -> dict:
    """This transaction's facts under `name` (an empty dict at first), forgotten when it ends."""
    _KNOWN.add(name)
    return db.session.info.setdefault(name, {})


@sa.event.listens_for(so.Session, "after_commit")
def _forget_known(session) -> None:
    for name in tuple(_KNOWN):  # a copy: another thread may be adding a name
        session.info.pop(name, None)


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _forget_known_on_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        _forget_known(session)

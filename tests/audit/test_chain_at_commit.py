"""The chain is appended when a transaction commits, not at its first flush: the one-appender lock is
then held for the append alone, not through the request's work (issue 18). What a rollback undid,
a savepoint's included, is never recorded."""
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.audit.services import verify
from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind


def _entries_about(name: str) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.data.contains(name))))


def _school(name: str) -> School:
    return School(district="澄江街道", name=name, kind=SchoolKind.PRIMARY, address="测试路1号", lat=31.9, lon=120.28,
                  radius_m=200)


def test_a_flush_describes_and_the_commit_chains(db):
    db.session.add(_school("提交时入链学校"))
    db.session.flush()
    assert _entries_about("提交时入链学校") == []  # written, not yet chained: no lock held
    db.session.commit()
    assert _entries_about("提交时入链学校") == ["create"]
    assert verify().ok


def test_a_rolled_back_savepoint_and_transaction_leave_nothing_in_the_chain(db):
    db.session.add(_school("留下的学校"))
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.add(_school("撤回的学校"))
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert _entries_about("留下的学校") == ["create"]
    assert _entries_about("撤回的学校") == []

    db.session.add(_school("整笔回滚的学校"))
    db.session.flush()
    db.session.rollback()
    db.session.add(_school("之后提交的学校"))
    db.session.commit()
    assert _entries_about("整笔回滚的学校") == []
    assert _entries_about("之后提交的学校") == ["create"]
    assert verify().ok

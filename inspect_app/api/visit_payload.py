"""The whole-visit PUT of the API (the phone's outbox replays it): create, replay or replace a visit.

The body arrives validated against `schemas.VisitInput` (shape, types, limits: spectree refused anything
else before the view ran), so this module only applies it through the visit services, which hold the
rules the page obeys too. A replay of the same body is the same submission (200, nothing written); a
different body under a submitted visit's id is a conflict (409). A visit still in progress may be
replaced by its author.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from inspect_app.accounts.models import User
from inspect_app.api import schemas
from inspect_app.checklists.models import Severity, TemplateVersion, VisitMode
from inspect_app.checklists.services import items_of
from inspect_app.extensions import db
from inspect_app.parsing import Location, in_url, parse_uuid
from inspect_app.plans.services import has_open_task, remember_open_tasks
from inspect_app.schools.models import School, is_recused
from inspect_app.tickets.services import TicketResult, apply_follow_up, officers_at, remember_officers
from inspect_app.visits import services
from inspect_app.visits.models import Finding, Result, Visit
from inspect_app.visits.services import VisitError


@dataclass
class Outcome:
    visit: Visit
    created: bool


def _place(sent: schemas.Location | None) -> Location | None:
    return Location(sent.lat, sent.lon, sent.accuracy_m) if sent is not None else None


def apply(user: User, visit_id: str, sent: schemas.VisitInput, digest: str,
          client_time: datetime | None, look_first: bool = True) -> Outcome:
    """Create, replay or (while in progress) replace a visit; `digest` is the body's hash (a replay's key).

    `look_first=False` does not ask beforehand whether another visit holds an id sent for a problem:
    the findings' primary key refuses it at the flush (IntegrityError), and the caller tries again
    looking first (idempotency.first_writer_wins), which names the id in a 409. A body wrong in another
    way as well is refused for that first (422).

    Nothing is flushed while the body is applied: a query on the way (the checklist's items, the ids
    taken elsewhere, the school's people) would otherwise write the visit and its first answer early,
    then update them and load their collections back, and one visit cost three flushes instead of one.
    A new visit is stored as rows once complete (visits.services.store); a draft replaced, by the
    caller's flush or commit, all at once."""
    with db.session.no_autoflush:
        return _apply(user, visit_id, sent, digest, client_time, look_first)


def _apply(user: User, visit_id: str, sent: schemas.VisitInput, digest: str,
           client_time: datetime | None, look_first: bool) -> Outcome:
    visit_id = in_url(parse_uuid, visit_id)
    found = _lookups(user, visit_id, sent.school_id, sent.version_id)
    existing = found.visit
    if existing is not None:
        if existing.author_id != user.id:
            raise VisitError(_("This id belongs to another visit."), 409)
        if existing.body_hash == digest:
            return Outcome(existing, created=False)
        if existing.submitted:
            raise VisitError(_("This visit was submitted and cannot be changed. "
                               "Send a correction as a new visit that names it in “corrects”."),
                             409, code="visit_submitted")

    school, mode, version = services.start_target(user, found.school, sent.mode, found.version,
                                                  recused=found.recused)
    if sent.ticket_results and mode not in VisitMode.MAY_CLOSE_TICKETS:
        raise VisitError(_("ticket_results belong to a follow-up visit (mode “follow_up”)."), field="ticket_results")
    services.check_not_ahead(sent.started_at, "started_at")
    corrects = _corrects(user, sent.corrects)

    if existing is None:
        # The ids as well as the objects: the rules that run before it is stored read them. Not added to
        # the session: it is stored as rows when it is complete (services.store).
        visit = Visit(id=visit_id, school=school, school_id=school.id, version=version, version_id=version.id,
                      mode=mode, author=user, author_id=user.id, started_at=sent.started_at)
    else:
        visit = existing
        if (visit.school_id, visit.version_id, visit.mode) != (school.id, version.id, mode):
            raise VisitError(_("school, checklist and mode of a visit cannot change."), 409)
        visit.started_at = sent.started_at
    visit.corrects_id = corrects
    visit.qr_scanned = sent.qr_token == school.qr_token
    visit.clock_skew_s = services.clock_skew(client_time)
    services.set_check_in(visit, _place(sent.location))
    _apply_answers(visit, version, sent.answers)
    _apply_findings(visit, version, sent.findings, look_first)
    visit.body_hash = digest

    if sent.submitted_at is not None:
        services.submit(visit, sent.submitted_at, client_time)
        # On the visit just submitted, so each close-out carries its check-in (回头看); a draft's
        # results wait for the submission, which sends the whole visit again.
        apply_follow_up(visit, user, [TicketResult(
            r.ticket_id, r.outcome == "close", r.note or "", list(r.photo_ids), r.new_deadline, r.override_reason or "")
            for r in sent.ticket_results])
    else:
        services.store(db.session(), visit)  # a new draft; a submitted one was stored by submit
    return Outcome(visit, created=existing is None)


@dataclass
class Lookups:
    visit: Visit | None
    school: School | None
    version: TemplateVersion | None
    recused: bool | None


def _lookups(user: User, visit_id: str, school_id: int, version_id: int) -> Lookups:
    """What a PUT reads before it applies anything, in one round trip: each query cost about as much of
    the app's time as the rows it reads, and each round trip CPU in the app and the server (issue 18).
    The visit under this id, if any; the school and the checklist version (with its template) it
    names; whether the user is recused from that school (can_start's question). No school, no row:
    the visit is then looked up alone (a replay under a school since removed still finds its visit),
    and start_target refuses the missing school before it looks at anything else. With them, for the
    submission's later steps, whether the user has an open task at the school and who its duty
    officers are (told to the tasks and the tickets for this transaction: each was a query of its own)."""
    row = db.session.execute(_lookups_query(), {"visit_id": visit_id, "school_id": school_id,
                                                "version_id": version_id, "user_id": user.id}).first()
    if row is None:
        visit = db.session.scalars(_visit_by_id(), {"visit_id": visit_id}).first()
        return Lookups(visit, None, None, None)
    remember_open_tasks(user.id, school_id, row.open_task)
    remember_officers(school_id, row.officers)
    return Lookups(row.Visit, row.School, row.TemplateVersion, row.recused)


@functools.cache
def _visit_by_id() -> sa.Select:
    # Not Session.get: a request starts with nothing in the session to find, and get's statement is
    # built at each call (a third of its cost); this one is built once.
    return sa.select(Visit).where(Visit.id == sa.bindparam("visit_id"))


@functools.cache
def _lookups_query() -> sa.Select:
    """Built once: building and keying a select cost about as much of the app's time as running it."""
    return (sa.select(School, TemplateVersion, Visit,
                      is_recused(sa.bindparam("user_id"), School.id).label("recused"),
                      has_open_task(sa.bindparam("user_id"), School.id).label("open_task"),
                      officers_at(School.id).label("officers"))
            .select_from(School).outerjoin(TemplateVersion, TemplateVersion.id == sa.bindparam("version_id"))
            .outerjoin(Visit, Visit.id == sa.bindparam("visit_id"))
            .options(so.joinedload(TemplateVersion.template)).where(School.id == sa.bindparam("school_id")))


def _corrects(user: User, target_id: str | None) -> str | None:
    if target_id is None:
        return None
    target = db.session.get(Visit, target_id)
    if target is None or target.author_id != user.id or not target.submitted:
        raise VisitError(_("“corrects” must name one of your own submitted visits."))
    return target.id


def _apply_answers(visit: Visit, version: TemplateVersion, rows: list[schemas.AnswerInput]) -> None:
    seen = set()
    items = {item.code: item for item in items_of(version)}
    answers = []
    for n, row in enumerate(rows):
        item = items.get(row.code)
        if item is None:
            raise VisitError(_("answers[%(n)s]: no item “%(code)s” in this checklist.", n=n, code=row.code[:32]))
        if row.code in seen:
            raise VisitError(_("answers[%(n)s]: item %(code)s is answered twice.", n=n, code=row.code))
        seen.add(row.code)
        answers.append((item, Result(row.result), row.note or ""))
    services.record_answers(visit, answers)
    if len(visit.answers) == len(seen):
        return  # every answer it holds was just sent (one per item): none to remove
    for answer in list(visit.answers):
        if answer.code not in seen:
            if (finding := visit.finding_for(answer.code)) is not None:
                visit.findings.remove(finding)
            visit.answers.remove(answer)


def _apply_findings(visit: Visit, version: TemplateVersion, rows: list[schemas.FindingInput],
                    look_first: bool) -> None:
    sent: dict[str, Finding] = {}
    taken = _taken_elsewhere(visit, {row.id for row in rows}) if look_first else set()
    for n, row in enumerate(rows):
        where = f"findings[{n}]"
        if row.code is not None:
            item = version.item(row.code)
            answer = visit.answer_for(row.code) if item else None
            if answer is None or answer.result is not Result.FAIL:
                raise VisitError(_("%(where)s: item “%(code)s” was not answered as failed.",
                                   where=where, code=row.code[:32]))
            finding = visit.finding_for(row.code)
            if finding is None or finding.id in sent:
                raise VisitError(_("%(where)s: item %(code)s has two findings.", where=where, code=row.code))
            if finding.id != row.id:
                # The phone's id wins: its photos were uploaded naming it.
                if row.id in taken:
                    raise VisitError(_("%(where)s: this id belongs to another visit.", where=where), 409)
                visit.findings.remove(finding)
                finding = Finding(id=row.id, item_code=row.code, position=item.position,
                                  description=item.text_zh, severity=item.severity)
                visit.findings.append(finding)
        else:
            finding = next((f for f in visit.findings if f.id == row.id), None)
            if finding is None:
                if row.id in taken:
                    raise VisitError(_("%(where)s: this id belongs to another visit.", where=where), 409)
                finding = Finding(id=row.id, item_code=None, position=10_000 + n,
                                  description="", severity=Severity.MINOR)
                visit.findings.append(finding)
        services.describe_finding(finding, row.description, Severity(row.severity) if row.severity else None,
                                  row.fixed_on_site, where)
        # A remote check is made from the inspector's desk, not where the problem is (set_check_in).
        location = None if visit.mode.remote else _place(row.location)
        finding.lat, finding.lon, finding.accuracy_m = (
            (location.lat, location.lon, location.accuracy_m) if location else (None, None, None))
        finding.captured_at = row.captured_at
        sent[finding.id] = finding
    for finding in list(visit.findings):
        if finding.item_code is None and finding.id not in sent:
            visit.findings.remove(finding)


def _taken_elsewhere(visit: Visit, ids: set[str]) -> set[str]:
    """Finding ids sent here that belong to another visit, in one query (not one flush per finding)."""
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Finding.id).where(Finding.id.in_(ids), Finding.visit_id != visit.id)))

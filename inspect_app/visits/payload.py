"""The whole-visit PUT of the API (the phone's outbox replays it): validate, then create or compare.

A replay of the same body is the same submission (200, nothing written); a different body under a
submitted visit's id is a conflict (409). A visit still in progress may be replaced by its author.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from inspect_app.accounts.models import User
from inspect_app.checklists.models import Severity, TemplateVersion, VisitMode
from inspect_app.extensions import db
from inspect_app.idempotency import body_hash
from inspect_app.parsing import FieldError, parse_id, parse_text, parse_time, parse_uuid
from inspect_app.schools.models import School
from inspect_app.visits import services
from inspect_app.visits.models import Finding, Result, Visit
from inspect_app.visits.services import VisitError


@dataclass
class Outcome:
    visit: Visit
    created: bool


def _time(value, where: str, required: bool = False) -> datetime | None:
    try:
        moment = parse_time(value)
    except FieldError as error:
        raise VisitError(str(error)) from None
    if moment is None and required:  # absent, null or ""
        raise VisitError(_("%(where)s is required.", where=where))
    return moment


def _text(value, where: str, limit: int) -> str:
    try:
        return parse_text(value, where, limit)
    except FieldError as error:
        raise VisitError(str(error)) from None


def _list(body: dict, key: str) -> list:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise VisitError(_("%(where)s must be a list of objects.", where=key), 400)
    # Counted before anything is looked up, so an oversized visit costs no database work.
    services.check_count(key, len(value))
    return value


def _school_and_version(user: User, body: dict) -> tuple[School, VisitMode, TemplateVersion]:
    try:
        school_id = parse_id(body.get("school_id"), "school_id")
        version_id = parse_id(body.get("version_id"), "version_id")
    except FieldError as error:
        raise VisitError(str(error), 400) from None
    if school_id is None or version_id is None:
        raise VisitError(_("school_id and version_id must be numbers."), 400)
    return services.start_target(user, db.session.get(School, school_id), body.get("mode"),
                                 db.session.get(TemplateVersion, version_id))


def apply(user: User, visit_id: str, body: dict, client_time: datetime | None) -> Outcome:
    """Create, replay or (while in progress) replace a visit from its JSON body."""
    try:
        visit_id = parse_uuid(visit_id)
    except FieldError as error:
        raise VisitError(str(error), 404) from None
    answers, findings = _list(body, "answers"), _list(body, "findings")
    digest = body_hash(body)
    existing = db.session.get(Visit, visit_id)
    if existing is not None:
        if existing.author_id != user.id:
            raise VisitError(_("This id belongs to another visit."), 409)
        if existing.body_hash == digest:
            return Outcome(existing, created=False)
        if existing.submitted:
            raise VisitError(_("This visit was submitted and cannot be changed. "
                               "Send a correction as a new visit that names it in “corrects”."),
                             409, code="visit_submitted")

    school, mode, version = _school_and_version(user, body)
    started_at = _time(body.get("started_at"), "started_at", required=True)
    services.check_not_ahead(started_at, "started_at")
    submitted_at = _time(body.get("submitted_at"), "submitted_at")
    location = services.parse_location(body.get("location"))
    corrects = _corrects(user, body.get("corrects"))

    if existing is None:
        visit = Visit(id=visit_id, school=school, version=version, mode=mode, author=user,
                      started_at=started_at)
        db.session.add(visit)
    else:
        visit = existing
        if (visit.school_id, visit.version_id, visit.mode) != (school.id, version.id, mode):
            raise VisitError(_("school, checklist and mode of a visit cannot change."), 409)
        visit.started_at = started_at
    visit.corrects_id = corrects
    visit.qr_scanned = _text(body.get("qr_token"), "qr_token", 64) == school.qr_token
    visit.clock_skew_s = services.clock_skew(client_time)
    services.set_check_in(visit, location)
    _apply_answers(visit, version, answers)
    _apply_findings(visit, version, findings)
    visit.body_hash = digest

    if submitted_at is not None:
        services.submit(visit, submitted_at, client_time)
    return Outcome(visit, created=existing is None)


def _corrects(user: User, value) -> str | None:
    if value is None:
        return None
    try:
        target_id = parse_uuid(value)
    except FieldError as error:
        raise VisitError(str(error)) from None
    if target_id is None:  # ""
        return None
    target = db.session.get(Visit, target_id)
    if target is None or target.author_id != user.id or not target.submitted:
        raise VisitError(_("“corrects” must name one of your own submitted visits."))
    return target.id


def _apply_answers(visit: Visit, version: TemplateVersion, rows: list[dict]) -> None:
    config = current_app.config
    seen = set()
    for n, row in enumerate(rows):
        code = row.get("code")
        item = version.item(code) if isinstance(code, str) else None
        if item is None:
            raise VisitError(_("answers[%(n)s]: no item “%(code)s” in this checklist.", n=n, code=str(code)[:32]))
        if code in seen:
            raise VisitError(_("answers[%(n)s]: item %(code)s is answered twice.", n=n, code=code))
        seen.add(code)
        try:
            result = Result(row.get("result"))
        except ValueError:
            raise VisitError(_("answers[%(n)s]: result must be pass, fail or na.", n=n)) from None
        note = _text(row.get("note"), f"answers[{n}].note", config["NOTE_MAX_CHARS"])
        services.record_answer(visit, item, result, note)
    for answer in list(visit.answers):
        if answer.code not in seen:
            if (finding := visit.finding_for(answer.code)) is not None:
                visit.findings.remove(finding)
            visit.answers.remove(answer)


def _apply_findings(visit: Visit, version: TemplateVersion, rows: list[dict]) -> None:
    config = current_app.config
    sent: dict[str, Finding] = {}
    taken = _taken_elsewhere(visit, rows)
    for n, row in enumerate(rows):
        where = f"findings[{n}]"
        try:
            finding_id = parse_uuid(row.get("id"))
        except FieldError as error:
            raise VisitError(f"{where}: {error}") from None
        if finding_id is None:
            raise VisitError(_("%(where)s needs an id (a UUID chosen by the phone).", where=where))
        code = row.get("code")
        if code is not None:
            item = version.item(code) if isinstance(code, str) else None
            answer = visit.answer_for(code) if item else None
            if answer is None or answer.result is not Result.FAIL:
                raise VisitError(_("%(where)s: item “%(code)s” was not answered as failed.",
                                   where=where, code=str(code)[:32]))
            finding = visit.finding_for(code)
            if finding is None or finding.id in sent:
                raise VisitError(_("%(where)s: item %(code)s has two findings.", where=where, code=code))
            if finding.id != finding_id:
                # The phone's id wins: its photos were uploaded naming it.
                visit.findings.remove(finding)
                finding = Finding(id=finding_id, item_code=code, position=item.position,
                                  description=item.text_zh, severity=item.severity)
                visit.findings.append(finding)
        else:
            finding = next((f for f in visit.findings if f.id == finding_id), None)
            if finding is None:
                if finding_id in taken:
                    raise VisitError(_("%(where)s: this id belongs to another visit.", where=where), 409)
                finding = Finding(id=finding_id, item_code=None, position=10_000 + n,
                                  description="", severity=Severity.MINOR)
                visit.findings.append(finding)
        description = _text(row.get("description"), f"{where}.description", config["DESCRIPTION_MAX_CHARS"])
        severity = None
        if "severity" in row:
            try:
                severity = Severity(row["severity"])
            except ValueError:
                raise VisitError(_("%(where)s: severity must be minor, major or critical.", where=where)) from None
        fixed_on_site = row.get("fixed_on_site", False)
        if not isinstance(fixed_on_site, bool):
            raise VisitError(_("%(where)s.fixed_on_site must be true or false.", where=where))
        services.describe_finding(finding, description, severity, fixed_on_site, where)
        location = services.parse_location(row.get("location"), f"{where}.location")
        if visit.mode.remote:  # the inspector's desk, not where the problem is (set_check_in)
            location = None
        finding.lat, finding.lon, finding.accuracy_m = (
            (location.lat, location.lon, location.accuracy_m) if location else (None, None, None))
        finding.captured_at = _time(row.get("captured_at"), f"{where}.captured_at")
        sent[finding.id] = finding
    for finding in list(visit.findings):
        if finding.item_code is None and finding.id not in sent:
            visit.findings.remove(finding)


def _taken_elsewhere(visit: Visit, rows: list[dict]) -> set[str]:
    """Finding ids sent here that belong to another visit, in one query (not one flush per finding)."""
    ids = set()
    for row in rows:
        try:
            ids.add(parse_uuid(row.get("id")))
        except FieldError:
            pass  # reported with its position by the caller
    ids.discard(None)
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Finding.id).where(Finding.id.in_(ids), Finding.visit_id != visit.id)))

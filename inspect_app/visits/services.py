"""Starting, answering and submitting visits; one set of rules for the pages and the API."""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from geopy.distance import geodesic

from inspect_app import bulk
from inspect_app.accounts.models import User
from inspect_app.audit import services as audit
from inspect_app.checklists.models import ChecklistItem, Severity, TemplateVersion, VisitMode
from inspect_app.checklists.services import may_use
from inspect_app.config import DESCRIPTION_MAX_CHARS
from inspect_app.dbtypes import utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.parsing import Location
from inspect_app.photos.models import Photo
from inspect_app.photos.services import photos_for_findings
from inspect_app.schools.models import School
from inspect_app.visits.access import can_start
from inspect_app.visits.models import Answer, Finding, Result, Visit, VisitStatus

signals = Namespace()
# Higher domains (tickets) subscribe; visits never imports them.
visit_submitted = signals.signal("visit-submitted")
# What a follow-up visit (回头看) re-checks: the tickets domain answers with the school's tickets a
# re-check may close or send back, as plain values (tickets.follow_up).
follow_up_tickets = signals.signal("follow-up-tickets")

CLOCK_SKEW_LIMIT_S = 300
# A visit that looks rushed (一案双查's "60 items in 2 minutes"): at least this many items answered, at
# under this many seconds each on the phone's own clock (started → submitted), flagged, never refused.
RUSHED_MIN_ITEMS = 20
RUSHED_SECONDS_PER_ITEM = 2
PHOTO_WINDOW_SLACK = timedelta(minutes=15)


class VisitError(DomainError):
    """A visit cannot be saved as sent; status and message are for the caller."""

    status = 422


def start_target(user: User, school: School | None, mode_value, version: TemplateVersion | None, *,
                 recused: bool | None = None) -> tuple[School, VisitMode, TemplateVersion]:
    """(school, mode, version) for a visit this user may start, after every check starting makes;
    the page and the API ask the same questions in the same order and get the same answers.
    `recused` is can_start's: whether this user is recused from this school, for a caller that read it
    with the school."""
    try:
        mode = VisitMode(mode_value)
    except ValueError:
        raise VisitError(_("mode must be one of overt, covert, self_check."), field="mode") from None
    # A school that does not exist answers as one this user may not visit: ids reveal nothing.
    if school is None or not can_start(user, school, mode, recused=recused):
        raise VisitError(_("You cannot start this kind of visit at this school."), 403)
    if version is None or not may_use(user, mode, version.template, version):
        raise VisitError(_("This checklist version cannot be used for this visit."))
    return school, mode, version


def tickets_to_recheck(school: School, viewer: User) -> list[dict]:
    """The school's tickets a follow-up by this viewer shows (empty when no domain answers)."""
    return [row for _receiver, rows in follow_up_tickets.send(current_app._get_current_object(),
                                                              school=school, viewer=viewer) for row in rows]


def describe_request() -> str:
    return _("Describe the problem (at most %(n)s characters).", n=DESCRIPTION_MAX_CHARS)


def describe_finding(finding: Finding, description: str | None, severity: Severity | None,
                     fixed_on_site: bool, where: str | None = None) -> None:
    """Set what was found, how bad and whether it was fixed on the spot. An added problem must say
    what was found; an item's finding left empty keeps the requirement's words."""
    description = (description or "").strip()
    if finding.item_code is None and not description:
        raise VisitError(_("%(where)s: describe the problem.", where=where) if where
                         else describe_request())
    if description:
        finding.description = description
    if severity is not None:
        finding.severity = severity
    finding.fixed_on_site = fixed_on_site


def set_check_in(visit: Visit, location: Location | None) -> None:
    """Record where the visit checked in and how far that is from the school (flagged, never blocked).
    A remote check is made from wherever the inspector sits: no place or scan is kept or judged."""
    if visit.mode.remote:
        visit.qr_scanned, location = False, None
    if location is None:
        visit.lat = visit.lon = visit.accuracy_m = visit.distance_m = None
        return
    visit.lat, visit.lon, visit.accuracy_m = location.lat, location.lon, location.accuracy_m
    visit.distance_m = round(geodesic((location.lat, location.lon), (visit.school.lat, visit.school.lon)).meters, 1)


def clock_skew(client_time: datetime | None) -> float | None:
    if client_time is None:
        return None
    return round((utcnow() - client_time).total_seconds(), 1)


def start_visit(author: User, school: School, mode: VisitMode, version: TemplateVersion,
                started_at: datetime, location: Location | None, qr_token: str | None,
                client_time: datetime | None) -> Visit:
    """A new visit in progress (the caller commits)."""
    visit = Visit(id=str(uuid.uuid4()), school=school, version=version, mode=mode, author=author,
                  started_at=started_at, qr_scanned=bool(qr_token and qr_token == school.qr_token),
                  clock_skew_s=clock_skew(client_time))
    set_check_in(visit, location)
    db.session.add(visit)
    return visit


def drafts_at(author: User, school: School) -> list[Visit]:
    """The author's visits still in progress at this school, newest first: to continue, not to
    start a second one by accident."""
    return list(db.session.scalars(sa.select(Visit).where(
        Visit.author_id == author.id, Visit.school_id == school.id, Visit.status == VisitStatus.IN_PROGRESS)
        .order_by(Visit.started_at.desc())))


def discard(visit: Visit) -> None:
    """Throw away a draft with its answers and findings (the caller commits; the audit trail keeps
    the deletion). Photos stay: they are evidence, whichever visit they were meant for."""
    visit.ensure_editable()
    db.session.delete(visit)


def finding_for_item(visit: Visit, item: ChecklistItem) -> Finding:
    finding = visit.finding_for(item.code)
    if finding is None:
        # A deterministic id: the same failed item in the same visit is always the same finding.
        finding = Finding(id=str(uuid.uuid5(uuid.UUID(visit.id), item.code)), item_code=item.code,
                          description=item.text_zh, severity=item.severity,
                          position=item.position)
        visit.findings.append(finding)
    return finding


def record_answer(visit: Visit, item: ChecklistItem, result: Result, note: str | None = None) -> Answer:
    """Answer one item (the checklist page's tap): the rule is record_answers'."""
    return record_answers(visit, [(item, result, note)])[0]


def record_answers(visit: Visit, answers: list[tuple[ChecklistItem, Result, str | None]]) -> list[Answer]:
    """Answer items; a failure opens its finding, a change of mind removes it (photos are kept). The
    visit's answers and findings are indexed once, not searched once per item (a whole visit from the
    phone answers every item at once).

    The answers are written as rows, not through the unit of work: a whole visit's 28 answers were a
    fifth of its PUT's work as ORM objects, their flush and the audit chain's look at each (issue 18).
    A visit already stored gets them at once; a new one when the flush has stored it (write_waiting).
    `visit.answers` holds them either way, with their values as written."""
    visit.ensure_editable()
    by_code = {answer.code: answer for answer in visit.answers}
    findings = {finding.item_code: finding for finding in visit.findings if finding.item_code is not None}
    now = utcnow()
    recorded, created, changed = [], [], []
    for item, result, note in answers:
        code = item.code
        values = {"result": result, "answered_at": now}
        if note is not None:
            values["note"] = note.strip()[:1000]
        answer = by_code.get(code)
        if answer is None:
            answer = by_code[code] = _as_loaded(visit_id=visit.id, code=code, **{"note": "", **values})
            created.append(answer)
        elif answer.id is None:  # answered twice before its visit was stored: written once, as it ends
            for key, value in values.items():
                setattr(answer, key, value)
        elif update := {key: value for key, value in values.items() if getattr(answer, key) != value}:
            changed.append((answer, update))
        if result is Result.FAIL:
            if code not in findings:
                findings[code] = finding_for_item(visit, item)
        elif (finding := findings.pop(code, None)) is not None:
            visit.findings.remove(finding)
        recorded.append(answer)
    if created:
        # As if loaded, so the unit of work neither inserts them nor cascades to them. The new ones stay
        # out of the session (registering 28 objects cost as much as writing them): nothing looks an
        # answer up by id before the commit, which expires the visit, and the next read loads them all.
        so.attributes.set_committed_value(visit, "answers", list(visit.answers) + created)
    session = so.object_session(visit)
    if session is None:
        return recorded  # a visit in no session: adding it to one adds its answers (save-update cascade)
    if sa.inspect(visit).persistent:
        _write_answers(session, visit, created, changed)
    elif created:
        session.info.setdefault("answers_waiting", {}).setdefault(visit, []).extend(created)
    return recorded


def _as_loaded(**values) -> Answer:
    """A new Answer holding `values` as a load would set them, without the attribute events and history
    of the constructor (54 calls an answer, a whole visit makes 28: issue 18). It is never added to a
    session, so nothing reads that history: the row is written by _write_answers."""
    answer = Answer.__mapper__.class_manager.new_instance()
    answer.__dict__.update(values)
    return answer


_ANSWER_COLUMNS = ("visit_id", "code", "result", "note", "answered_at")


@functools.cache
def _insert_answers() -> sa.Insert:
    """(PostgreSQL) A visit's new answers from one JSON document (bulk.as_json), RETURNING code, id."""
    table = Answer.__table__
    return bulk.inserted_from_json(table, "answers", _ANSWER_COLUMNS).returning(table.c.code, table.c.id)


@functools.cache
def _insert_visit() -> sa.Insert:
    """(PostgreSQL) A new visit, its findings and its answers in one statement: the visit and the
    findings inserted by the statement's WITH clause, each table's rows as one JSON document."""
    stored_visit = bulk.inserted_from_json(Visit.__table__, "visit").cte("stored_visit")
    stored_findings = bulk.inserted_from_json(Finding.__table__, "findings").cte("stored_findings")
    return _insert_answers().add_cte(stored_visit, stored_findings)


def _answer_rows(visit: Visit, created: list[Answer]) -> list[dict]:
    # Read from each answer's dict, where _as_loaded put the values (an attribute read is a call).
    return [{"visit_id": visit.id, **{column: a.__dict__[column] for column in _ANSWER_COLUMNS[1:]}} for a in created]


def _answers_written(session: so.Session, created: list[Answer], rows: list[dict], ids: dict[str, int]) -> None:
    for answer, row in zip(created, rows):
        answer.__dict__["id"] = row["id"] = ids[answer.code]  # as _as_loaded set the rest
    audit.record_rows(session, "create", Answer.__table__, [(row["id"], row) for row in rows])


def _inserted_answers(connection: sa.Connection, rows: list[dict]) -> dict[str, int]:
    """Insert a visit's new answers in one statement; their ids by code."""
    table = Answer.__table__
    if not rows:
        return {}
    if connection.dialect.name == "postgresql":
        return dict(connection.execute(_insert_answers(), {"answers": bulk.as_json(table, rows)}).all())
    return dict(connection.execute(sa.insert(table).returning(table.c.code, table.c.id), rows).all())


def _write_answers(session: so.Session, visit: Visit, created: list[Answer],
                   changed: list[tuple[Answer, dict]]) -> None:
    """Insert the new answers in one statement and update the changed ones, on the session's
    connection and in its transaction, recording each in the audit chain as the flush would have."""
    table = Answer.__table__
    connection = session.connection()
    if created:
        rows = _answer_rows(visit, created)
        _answers_written(session, created, rows, _inserted_answers(connection, rows))
    if changed:
        by_columns: dict[tuple[str, ...], list[dict]] = {}
        for answer, update in changed:
            by_columns.setdefault(tuple(sorted(update)), []).append(dict(update, answer_id=answer.id))
        for columns, rows in by_columns.items():
            connection.execute(sa.update(table).where(table.c.id == sa.bindparam("answer_id"))
                               .values({column: sa.bindparam(column) for column in columns}), rows)
        for answer, update in changed:
            for key, value in update.items():
                so.attributes.set_committed_value(answer, key, value)
        audit.record_rows(session, "update", table, [(answer.id, update) for answer, update in changed])


def write_waiting(session: so.Session, flush_context) -> None:
    """After a flush, the answers of the visits it stored (record_answers). A visit not stored by it
    was rolled back or dropped: its answers go with it."""
    waiting = session.info.pop("answers_waiting", None)
    if not waiting:
        return
    stored = session.new
    for visit, created in waiting.items():
        if visit in stored:
            _write_answers(session, visit, created, [])


def store(session: so.Session, visit: Visit) -> None:
    """Store a visit made in no session (a whole visit from the phone) with its findings and answers,
    as rows, and attach it to `session` as if loaded; the caller commits. On PostgreSQL that is one
    statement (_insert_visit), elsewhere one per table. A visit already in a session is its flush's to
    store: nothing is done here.

    The unit of work for a new visit and its findings (sorting, bookkeeping and history for objects
    written once and read again only in later requests), and a statement per table, were a fifth of
    a whole-visit PUT (issue 18). The rows are recorded in the audit chain as the flush would have:
    whole, as sent, every value set or defaulted in Python (bulk.values_of), so as stored."""
    if not sa.inspect(visit).transient:
        return
    connection = session.connection()
    findings = list(visit.findings)
    visit_row = bulk.values_of(visit)
    finding_rows = [bulk.values_of(finding) | {"visit_id": visit.id} for finding in findings]
    answers = list(visit.answers)
    created = [answer for answer in answers if answer.id is None]
    answer_rows = _answer_rows(visit, created)
    if connection.dialect.name == "postgresql":
        ids = dict(connection.execute(_insert_visit(), {
            "visit": bulk.as_json(Visit.__table__, [visit_row]),
            "findings": bulk.as_json(Finding.__table__, finding_rows),
            "answers": bulk.as_json(Answer.__table__, answer_rows)}).all())
    else:
        connection.execute(sa.insert(Visit.__table__), visit_row)
        if finding_rows:
            connection.execute(sa.insert(Finding.__table__), finding_rows)
        ids = _inserted_answers(connection, answer_rows)
    audit.record_rows(session, "create", Visit.__table__, [(visit.id, visit_row)])
    audit.record_rows(session, "create", Finding.__table__, [(row["id"], row) for row in finding_rows])
    _answers_written(session, created, answer_rows, ids)
    # Its collections as loaded, the empty ones too: an untouched collection of a new object is not
    # in its __dict__, and once the object is detached it would be loaded (a query, or an error).
    so.attributes.set_committed_value(visit, "findings", findings)
    so.attributes.set_committed_value(visit, "answers", answers)
    for obj, row in ((visit, visit_row), *zip(findings, finding_rows)):
        bulk.as_loaded(obj, row)
    # With its findings (the save-update cascade); the answers stay out of the session, as
    # record_answers keeps them.
    bulk.attach(session, visit, aside=("answers",))


def install() -> None:
    """Write waiting answers after every flush (once per process)."""
    if not sa.event.contains(so.Session, "after_flush", write_waiting):
        sa.event.listen(so.Session, "after_flush", write_waiting)


def check_count(what: str, count: int) -> None:
    """A visit holds at most VISIT_MAX_ANSWERS answers and VISIT_MAX_FINDINGS findings (docs/limits.md)."""
    config = current_app.config
    if what == "findings" and count > config["VISIT_MAX_FINDINGS"]:
        message = _("A visit holds at most %(limit)s problems (this one would have %(n)s).",
                    limit=config["VISIT_MAX_FINDINGS"], n=count)
    elif what == "answers" and count > config["VISIT_MAX_ANSWERS"]:
        message = _("A visit holds at most %(limit)s answers (this one would have %(n)s).",
                    limit=config["VISIT_MAX_ANSWERS"], n=count)
    else:
        return
    raise VisitError(message, 413)


def add_adhoc_finding(visit: Visit) -> Finding:
    visit.ensure_editable()
    check_count("findings", len(visit.findings) + 1)
    finding = Finding(id=str(uuid.uuid4()), item_code=None, description="", severity=Severity.MINOR,
                      position=10_000 + len(visit.findings))
    visit.findings.append(finding)
    return finding


def photos_by_finding(visit: Visit) -> dict[str, list[Photo]]:
    """Photos attached to the visit's findings; only the author's own uploads count."""
    grouped = photos_for_findings([f.id for f in visit.findings])
    return {fid: [p for p in photos if p.uploader_id == visit.author_id] for fid, photos in grouped.items()}


# The states of one item the submit rule reads: its answer, and whether a failure has a photo.
ITEM_STATES = ("unanswered", "pass", "na", "fail", "fail+photo")


def _item_blocks(item: ChecklistItem, state: str, at_school: bool = True, every_item: bool = True) -> str | None:
    """What stops submission in this state of this item: the submit rule, item by item. A photo is
    owed only by someone at the school: a remote check (by phone) cannot take one. A follow-up's
    subject is the school's tickets: it owes no item an answer (`every_item` False)."""
    if state == "unanswered":
        return "left" if every_item else None
    if state == "fail" and item.photo_required and at_school:
        return "needs_photo"
    return None


def _every_item(visit: Visit) -> bool:
    return visit.mode not in VisitMode.MAY_CLOSE_TICKETS


def _added_blocks(described: bool) -> str | None:
    """What stops submission for a problem added off the list: it must say what was found."""
    return None if described else "adhoc_empty"


def by_code(visit: Visit) -> tuple[dict[str, Answer], dict[str, Finding]]:
    """The visit's answers and its items' findings by item code (the first of each, as answer_for and
    finding_for): for loops over every item, where looking each up in turn was quadratic."""
    answers: dict[str, Answer] = {}
    findings: dict[str, Finding] = {}
    for answer in visit.answers:
        answers.setdefault(answer.code, answer)
    for finding in visit.findings:
        if finding.item_code is not None:
            findings.setdefault(finding.item_code, finding)
    return answers, findings


def _item_state(answer: Answer | None, finding: Finding | None, photos: dict[str, list[Photo]] | None) -> str:
    """One item's state from its answer and its finding (ITEM_STATES)."""
    if answer is None:
        return "unanswered"
    if answer.result is not Result.FAIL:
        return answer.result.value
    # None: the photos travel after the visit (the outbox sends them once their finding exists), so
    # none is owed yet; the phone, which holds them, checked before it sent the submission, and
    # flags() reports any that never came.
    return "fail+photo" if photos is None or (finding and photos.get(finding.id)) else "fail"


def blockers(visit: Visit, photos: dict[str, list[Photo]] | None) -> dict[str, list]:
    """What still stands between this visit and submission, by kind: "needs_photo" (item positions),
    "left" (item codes) and "adhoc_empty" (finding ids); empty when it may be submitted."""
    found: dict[str, list] = {}
    # Each item's answer and finding by code, once: looked up item by item it was quadratic.
    answers, findings = by_code(visit)
    at_school, every = not visit.mode.remote, _every_item(visit)
    for item in visit.version.items:
        kind = _item_blocks(item, _item_state(answers.get(item.code), findings.get(item.code), photos),
                            at_school, every)
        if kind:
            found.setdefault(kind, []).append(item.position if kind == "needs_photo" else item.code)
    for finding in visit.findings:
        if finding.item_code is None and (kind := _added_blocks(bool(finding.description.strip()))):
            found.setdefault(kind, []).append(finding.id)
    return found


def submit_phrases() -> list[dict[str, str]]:
    """How each kind of blocker reads, in reading order, as one sentence ("第 1 项需要照片；还有 27 项未完成"):
    "one" or "many" by the number of values, with {first}, {list} and {n} filled in from them."""
    return [{"kind": "needs_photo", "one": _("Item %(n)s needs a photo", n="{first}"),
             "many": _("Items %(list)s need a photo", list="{list}")},
            {"kind": "left", "one": _("%(n)s items still to do", n="{n}"),
             "many": _("%(n)s items still to do", n="{n}")},
            {"kind": "adhoc_empty", "one": _("An added problem has no description"),
             "many": _("An added problem has no description")}]


def phrase(found: dict[str, list]) -> list[str]:
    """The blockers in words for the inspector, one phrase per kind."""
    out = []
    for words in submit_phrases():
        values = [str(v) for v in found.get(words["kind"], [])]
        if values:
            out.append(words["one" if len(values) == 1 else "many"].replace("{first}", values[0])
                       .replace("{list}", _(", ").join(values)).replace("{n}", str(len(values))))
    return out


def missing(visit: Visit, photos: dict[str, list[Photo]]) -> list[str]:
    """What still stands between this visit and submission, in words for the inspector."""
    return phrase(blockers(visit, photos))


def submit_rule(visit: Visit) -> dict:
    """The submit rule as data, for the phone to apply to what it holds, offline too: what each item
    blocks in each of its states, what an added problem blocks, and the words of phrase()."""
    at_school, every = not visit.mode.remote, _every_item(visit)
    return {"items": {item.code: {state: kind for state in ITEM_STATES
                                  if (kind := _item_blocks(item, state, at_school, every))}
                      for item in visit.version.items},
            "added": {"empty": _added_blocks(False), "described": _added_blocks(True)},
            "phrases": submit_phrases(), "list_sep": _(", "), "join": _("; ")}


def check_submittable(visit: Visit, photos: dict[str, list[Photo]] | None) -> None:
    """Refuse to submit while anything blocks it (photos=None: see _item_state)."""
    found = blockers(visit, photos)
    if found.get("left"):
        # Named by code: an API client needs to know which answers it did not send.
        raise VisitError(_("Answer every item before submitting; missing: %(codes)s.",
                           codes=", ".join(found["left"])))
    if found:
        raise VisitError(_("; ").join(phrase(found)))


def check_not_ahead(moment: datetime, where: str) -> None:
    """Refuse a phone's time further ahead of the server than any clock error explains."""
    if moment > utcnow() + current_app.config["CLIENT_CLOCK_AHEAD_LIMIT"]:
        raise VisitError(_("%(where)s lies in the future; check the phone's date and time.", where=where))


def submit(visit: Visit, submitted_at: datetime, client_time: datetime | None,
           photos: dict[str, list[Photo]] | None = None) -> None:
    """Freeze the visit and tell the domains above (the caller commits once)."""
    check_submittable(visit, photos)
    check_not_ahead(submitted_at, "submitted_at")
    if submitted_at < visit.started_at:
        raise VisitError(_("submitted_at is before started_at: a visit ends after it begins."))
    visit.submit(submitted_at)
    if client_time is not None:
        visit.clock_skew_s = clock_skew(client_time)
    # What the receivers write points at the visit: one made in no session is stored first.
    store(db.session(), visit)
    visit_submitted.send(current_app._get_current_object(), visit=visit)


@dataclass
class Flags:
    distance_m: float | None
    on_site: bool | None
    no_location: bool
    qr_scanned: bool
    clock_skew_s: float | None
    clock_skew_flag: bool
    incomplete: bool
    missing_photos: list[str] = field(default_factory=list)
    reused_photos: list[str] = field(default_factory=list)
    photos_outside_visit: list[str] = field(default_factory=list)
    # A remote check (电话督导): location, scan and site photos are not asked for, so not flagged.
    remote: bool = False
    answered: int = 0
    duration_s: float | None = None
    rushed: bool = False

    @property
    def attention(self) -> bool:
        """Worth the leader's look without a review: rushed, away from the school, or recycled photos."""
        return self.rushed or self.on_site is False or bool(self.reused_photos)


def looks_rushed(answered: int, duration_s: float | None) -> bool:
    return duration_s is not None and answered >= RUSHED_MIN_ITEMS and duration_s < answered * RUSHED_SECONDS_PER_ITEM


def flags(visit: Visit, photos: dict[str, list[Photo]] | None = None) -> Flags:
    """Proof-of-presence signals the bureau reads next to every visit."""
    photos = photos_by_finding(visit) if photos is None else photos
    all_photos = [p for group in photos.values() for p in group]
    missing_photos = []
    answers, findings = by_code(visit)
    for item in visit.version.items:
        answer, finding = answers.get(item.code), findings.get(item.code)
        if answer and answer.result is Result.FAIL and item.photo_required and not visit.mode.remote \
                and not (finding and photos.get(finding.id)):
            missing_photos.append(item.code)
    reused = []
    if all_photos:
        hashes = {p.sha256 for p in all_photos}
        # The same file attached to a finding of any other visit: a recycled picture.
        other = db.session.execute(
            sa.select(Photo.sha256).join(Finding, Finding.id == Photo.finding_id)
            .where(Photo.sha256.in_(hashes), Finding.visit_id != visit.id)).scalars().all()
        reused = sorted(p.id for p in all_photos if p.sha256 in set(other))
    end = (visit.submitted_at or utcnow()) + PHOTO_WINDOW_SLACK
    start = visit.started_at - PHOTO_WINDOW_SLACK
    outside = sorted(p.id for p in all_photos
                     if any(t is not None and not start <= t <= end for t in (p.captured_at, p.exif_time)))
    answered = len(visit.answers)
    duration = (visit.submitted_at - visit.started_at).total_seconds() if visit.submitted_at else None
    return Flags(remote=visit.mode.remote, distance_m=visit.distance_m, on_site=visit.on_site,
                 answered=answered, duration_s=duration, rushed=looks_rushed(answered, duration),
                 no_location=visit.lat is None and not visit.mode.remote,
                 qr_scanned=visit.qr_scanned, clock_skew_s=visit.clock_skew_s,
                 clock_skew_flag=visit.clock_skew_s is not None and abs(visit.clock_skew_s) > CLOCK_SKEW_LIMIT_S,
                 incomplete=bool(missing_photos), missing_photos=missing_photos,
                 reused_photos=reused, photos_outside_visit=outside)


def flagged_by_author(since: datetime) -> dict[int, int]:
    """Per author, their visits submitted since `since` that look rushed, were checked in away from the
    school, or carry a photo already used on another visit (flags(), for the peer table): a few grouped
    queries, whatever the number of visits."""
    answered = (sa.select(Answer.visit_id, sa.func.count().label("n")).group_by(Answer.visit_id).subquery())
    rows = db.session.execute(
        sa.select(Visit.id, Visit.author_id, Visit.started_at, Visit.submitted_at, Visit.distance_m,
                  Visit.accuracy_m, School.radius_m, sa.func.coalesce(answered.c.n, 0))
        .join(School, School.id == Visit.school_id).outerjoin(answered, answered.c.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.SUBMITTED, Visit.server_submitted_at >= since,
               Visit.mode != VisitMode.SELF_CHECK)).all()
    other_photo, other_finding = so.aliased(Photo), so.aliased(Finding)
    reused = set(db.session.scalars(
        sa.select(Finding.visit_id).distinct().join(Photo, Photo.finding_id == Finding.id)
        .join(other_photo, sa.and_(other_photo.sha256 == Photo.sha256, other_photo.id != Photo.id))
        .join(other_finding, other_finding.id == other_photo.finding_id)
        .join(Visit, Visit.id == Finding.visit_id)
        .where(other_finding.visit_id != Finding.visit_id, Visit.status == VisitStatus.SUBMITTED,
               Visit.server_submitted_at >= since)))
    counts: dict[int, int] = {}
    for visit_id, author_id, started, submitted, distance, accuracy, radius, n in rows:
        duration = (submitted - started).total_seconds() if submitted and started else None
        away = distance is not None and distance > radius + min(accuracy or 0, 500)
        if looks_rushed(n, duration) or away or visit_id in reused:
            counts[author_id] = counts.get(author_id, 0) + 1
    return counts

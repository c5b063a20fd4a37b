"""The visit in the browser: start from the school page, answer item by item, submit once."""
from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from flask_login import current_user, login_required

from inspect_app.assets import asset_url
from inspect_app.checklists.models import MODES_BY_ROLE, ChecklistTemplate, Severity, TemplateVersion, VisitMode
from inspect_app.checklists.services import templates_for
from inspect_app.dbtypes import utcnow
from inspect_app.errors import refuse
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.idempotency import first_writer_wins
from inspect_app.parsing import Location, id_arg, or_none, parse_location, parse_time
from inspect_app.photos.services import PhotoConflict, PhotoFields, read_upload, receive_photo
from inspect_app.schools.access import get_school_or_404
from inspect_app.schools.models import School
from inspect_app.visits import bp, services
from inspect_app.visits.access import can_edit_visit, can_start, get_visit_or_404, shows_source
from inspect_app.visits.forms import AnswerForm, FindingForm, PhotoForm, StartForm, SubmitForm
from inspect_app.visits.models import Result, Visit, VisitStatus


@bp.app_context_processor
def start_helpers():
    return {"start_options": start_options, "self_check_today": self_check_today,
            "drafts_here": lambda school: services.drafts_at(current_user, school)}


def start_options(school: School) -> list[tuple[VisitMode, list[ChecklistTemplate]]]:
    """The kinds of visit this user may start here, each with its templates (pre-selected first)."""
    if not current_user.is_authenticated:
        return []
    options = []
    # In the role's own order, so the first (primary) button is its usual check: covert for a volunteer.
    startable = (VisitMode.OVERT, VisitMode.COVERT, VisitMode.REMOTE, VisitMode.SELF_CHECK, VisitMode.FOLLOW_UP)
    for mode in (m for m in MODES_BY_ROLE.get(current_user.role, ()) if m in startable):
        if can_start(current_user, school, mode):
            # A follow-up (回头看) is offered only where there is something to re-check.
            if mode is VisitMode.FOLLOW_UP and not services.tickets_to_recheck(school, current_user):
                continue
            templates = templates_for(current_user, mode)
            if templates:
                options.append((mode, templates))
    return options


def self_check_today(school: School) -> Visit | None:
    tz = local_zone()
    start_of_day = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return db.session.scalar(sa.select(Visit).where(
        Visit.school_id == school.id, Visit.mode == VisitMode.SELF_CHECK,
        Visit.status == VisitStatus.SUBMITTED, Visit.server_submitted_at >= start_of_day).limit(1))


def _position(form) -> Location | None:
    # None, half or garbled: read as none, so the visit is flagged, not lost.
    return or_none(lambda f: parse_location(f.lat.data, f.lon.data, f.accuracy_m.data), form)


def _editable(visit_id: str) -> Visit:
    """The visit, if the signed-in user is its author and it is still in progress."""
    visit = get_visit_or_404(visit_id, current_user)
    if visit.author_id != current_user.id:
        refuse(403, _("Only the inspector who started this visit can change it."))
    if not can_edit_visit(current_user, visit):
        refuse(409, _("This visit was submitted and can no longer be changed."))
    return visit


@bp.post("/start")
@login_required
def start_visit():
    """Start a visit at a school with a chosen checklist; location is recorded, never required."""
    form = StartForm()
    if not form.validate_on_submit():
        refuse(400, _("The start form was incomplete. Please go back and try again."))
    school, mode, version = _start_target(form.school_id.data, form.mode.data, form.template_id.data)
    visit = services.start_visit(current_user, school, mode, version,
                                 started_at=utcnow(), location=_position(form),
                                 qr_token=form.qr_token.data, client_time=or_none(parse_time, form.client_time.data))
    db.session.commit()
    return redirect(url_for("visits.show_visit", visit_id=visit.id))


def _item_labels() -> dict:
    """Words every checklist item repeats, translated once per request rather than 60 times."""
    return {"photo_if_failed": _("photo if failed"), "guidance": _("Guidance"),
            "result_for": _("Result for item %(n)s", n="{n}"), "note": _("Note (optional)"),
            "results": [(r.value, r.label) for r in (Result.PASS, Result.FAIL, Result.NA)]}


def _start_target(school_id, mode_value, template_id) -> tuple[School, VisitMode, TemplateVersion]:
    """(school, mode, version) for a start from a page, which names a checklist by its template."""
    template = db.session.get(ChecklistTemplate, template_id or 0)
    try:
        return services.start_target(current_user, db.session.get(School, school_id or 0), mode_value,
                                     template.current_version if template else None)
    except services.VisitError as error:
        if error.field == "mode":
            # Only an edited address names no kind of visit; the API's words (its field names) are
            # not for people, so the page says the request was not valid.
            abort(error.status)
        raise


@bp.get("/new")
@login_required
def new_visit():
    """An empty checklist the phone fills in and creates itself (its own UUID), online or not.

    The offline pack keeps this page for chosen schools, so a visit can start with no signal."""
    qr_token = request.args.get("qr") or None
    school, mode, version = _start_target(request.args.get("school_id", type=id_arg), request.args.get("mode"),
                                          request.args.get("template_id", type=id_arg))
    # A transient visit, never added to the session: only the phone will create the real one.
    blank = Visit(id="new", school=school, school_id=school.id, version=version, version_id=version.id,
                  mode=mode, started_at=utcnow())
    context = _page_context(blank, photos={})
    context["visit_state"]["visit"].update(
        id=None, qr_token=qr_token if qr_token == school.qr_token else None,
        draft_key=f"draft:{current_user.id}:{school.id}:{version.id}:{mode.value}")
    context["visit_state"]["urls"]["summary"] = url_for("visits.show_visit", visit_id="x")[:-1]
    return render_template("visits/checklist.html", **context)


@bp.get("/pack/<int:school_id>")
@login_required
def offline_pack(school_id: int):
    """The pages a phone keeps to start a visit at this school without a signal."""
    school = get_school_or_404(school_id, current_user)
    urls = []
    for mode, templates in start_options(school):
        urls += [url_for("visits.new_visit", school_id=school.id, mode=mode.value, template_id=t.id)
                 for t in templates]
    if not urls:
        abort(404)
    return jsonify(school=school.name, urls=[url_for("schools.show_school", school_id=school.id), *urls,
                                             *_follow_up_photo_urls(school)])


def _follow_up_photo_urls(school: School) -> list[str]:
    """The before and after photos a follow-up shows, so the phone has them at the school with no signal."""
    return [photo["thumb_url"] for ticket in services.tickets_to_recheck(school, current_user)
            for photo in ticket["before"] + ticket["after"]]


def _visit_state(visit: Visit, photos) -> dict:
    """What visit.js starts from when this phone has nothing newer stored for the visit."""
    def iso(moment):
        return moment.isoformat() if moment else None
    return {
        "visit": {
            "id": visit.id, "school_id": visit.school_id, "version_id": visit.version_id,
            "mode": visit.mode.value, "started_at": iso(visit.started_at),
            "location": {"lat": visit.lat, "lon": visit.lon, "accuracy_m": visit.accuracy_m}
            if visit.lat is not None else None,
            "qr_token": visit.school.qr_token if visit.qr_scanned else None,
            "answers": {a.code: {"result": a.result.value, "note": a.note} for a in visit.answers},
            "findings": [{"id": f.id, "code": f.item_code, "description": f.description,
                          "severity": f.severity.value, "fixed_on_site": f.fixed_on_site,
                          "location": {"lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m}
                          if f.lat is not None else None,
                          "captured_at": iso(f.captured_at),
                          "photos": [{"id": p.id, "thumb_url": url_for("photos.serve_photo", photo_id=p.id,
                                                                       size="thumb")}
                                     for p in photos.get(f.id, [])]} for f in visit.findings],
        },
        "items": [{"code": i.code, "position": i.position, "photo_required": i.photo_required,
                   "text_zh": i.text_zh, "severity": i.severity.value} for i in visit.version.items],
        "urls": {"visits": url_for("api.put_visit", visit_id="x")[:-1],
                 "photos": url_for("api.put_photo", photo_id="x")[:-1],
                 "csrf": url_for("api.renew_csrf"),
                 "summary": url_for("visits.show_visit", visit_id=visit.id),
                 "compressor": asset_url("vendor/browser-image-compression.js")},
        "submit_rule": services.submit_rule(visit),
        **_follow_up_state(visit),
        "labels": {
            "confirm_submit": _("Submit this visit? It cannot be changed afterwards. Problems found: %(n)s.",
                                n="{n}"),
            "synced": _("All sent"), "saving": _("Saving…"), "offline": _("Offline"),
            "pending": _("%(n)s waiting to send", n="{n}"),
            "oldest": _("oldest %(m)s min", m="{m}"),
            "submitted_pending": _("Submitted on this phone; it is sent as soon as there is a signal."),
            "signed_out": _("Your sign-in has expired. Sign in again; nothing on this phone is lost."),
            "photo_failed": _("The photo could not be saved on this phone. Please take it again."),
            "photo": _("Photo"),
            "not_image": _("Not a picture, so not added: %(name)s", name="{name}"),
            "not_sent": _("Not sent: "),
            "photo_rejected": _("A photo of %(where)s was not accepted: %(reason)s Delete it and take it again.",
                                where="{where}", reason="{reason}"),
            "item_n": _("item %(n)s", n="{n}"),
            "added_problem": _("an added problem"),
            "delete_photo": _("Delete photo"),
            "server_status": _("The server answered %(n)s.", n="{n}"),
        },
    }


def _follow_up_state(visit: Visit) -> dict:
    """A follow-up visit (回头看) also carries the school's tickets to re-check and the words for them;
    the phone keeps its verdicts (close with a photo, or send back with a deadline) until submission."""
    if visit.mode not in VisitMode.MAY_CLOSE_TICKETS:
        return {}
    return {"tickets": services.tickets_to_recheck(visit.school, current_user), "follow_up_labels": {
        "close": _("Close out"), "reopen": _("Send back"),
        "before": _("Found"), "after": _("School's report"), "no_report": _("The school has not reported yet."),
        "deadline": _("Deadline %(when)s", when="{when}"), "new_deadline": _("New deadline"),
        "note": _("What you saw (optional)"), "photo": _("On-site photo"),
        "reason": _("Why you verify your own finding"),
        "close_needs_photo": _("Closing out ticket %(n)s needs an on-site photo", n="{n}"),
        "reopen_needs_deadline": _("Sending back ticket %(n)s needs a new deadline in the future", n="{n}"),
        "needs_reason": _("Ticket %(n)s: say why you verify your own finding", n="{n}"),
        "none": _("No ticket at this school awaits a re-check."),
        "confirm": _("Submit this follow-up? Closed out: %(closed)s, sent back: %(reopened)s. "
                     "It cannot be changed afterwards.", closed="{closed}", reopened="{reopened}"),
    }}


FINDING_PLACEHOLDER = "__finding__"


def _page_context(visit: Visit, photos=None) -> dict:
    photos = services.photos_by_finding(visit) if photos is None else photos
    return {"visit_state": _visit_state(visit, photos),
            # Rendered once into a <template> with this id for visit.js to copy: one markup for a finding.
            "finding_placeholder": {"id": FINDING_PLACEHOLDER, "description": "", "severity": None,
                                    "fixed_on_site": False},
            "visit": visit, "photos": photos, "answered": len(visit.answers),
            "total": len(visit.version.items), "problems": services.missing(visit, photos),
            "answers": {a.code: a for a in visit.answers},
            "findings": {f.item_code: f for f in visit.findings if f.item_code},
            "labels": _item_labels(), "csrf": generate_csrf(), "english": str(get_locale()) == "en",
            "item_url_base": url_for("visits.answer_item", visit_id=visit.id, code="-")[:-1],
            "finding_form": FindingForm(formdata=None), "photo_form": PhotoForm(formdata=None),
            "answer_form": AnswerForm(formdata=None), "submit_form": SubmitForm(formdata=None),
            "Result": Result}


@bp.get("/<visit_id>")
@login_required
def show_visit(visit_id: str):
    """The checklist while in progress (for its author), the summary with its flags afterwards."""
    visit = get_visit_or_404(visit_id, current_user)
    if can_edit_visit(current_user, visit):
        return render_template("visits/checklist.html", **_page_context(visit))
    photos = services.photos_by_finding(visit)
    full = shows_source(current_user, visit)
    return render_template("visits/summary.html", visit=visit, photos=photos, full=full,
                           flags=services.flags(visit, photos) if full else None, Result=Result)


@bp.post("/<visit_id>/items/<code>")
@login_required
def answer_item(visit_id: str, code: str):
    """Save one answer at once, so a reload or a dropped connection loses nothing already tapped."""
    visit = _editable(visit_id)
    item = visit.version.item(code) or abort(404)
    form = AnswerForm()
    if not form.validate_on_submit() or form.result.data not in set(Result):
        refuse(400, _("Choose pass, fail or not applicable."))
    # A double tap may race the first one's save: the second meets the first one's row.
    first_writer_wins(lambda: services.record_answer(visit, item, Result(form.result.data), form.note.data))
    return redirect(url_for("visits.show_visit", visit_id=visit.id, _anchor=f"item-{code}"))


@bp.post("/<visit_id>/findings")
@login_required
def add_finding(visit_id: str):
    """Add a problem that is not on the checklist."""
    visit = _editable(visit_id)
    finding = services.add_adhoc_finding(visit)
    db.session.commit()
    return redirect(url_for("visits.show_visit", visit_id=visit.id, _anchor=f"finding-{finding.id}"))


def _finding(visit: Visit, finding_id: str):
    return next((f for f in visit.findings if f.id == finding_id), None) or abort(404)


def _to_finding(visit: Visit, finding_id: str):
    return redirect(url_for("visits.show_visit", visit_id=visit.id, _anchor=f"finding-{finding_id}"))


@bp.post("/<visit_id>/findings/<finding_id>")
@login_required
def update_finding(visit_id: str, finding_id: str):
    """Save a finding's description, severity and whether it was fixed on the spot."""
    visit = _editable(visit_id)
    finding = _finding(visit, finding_id)
    form = FindingForm()
    if not form.validate_on_submit():
        refuse(422, services.describe_request())
    services.describe_finding(finding, form.description.data, Severity(form.severity.data),
                              bool(form.fixed_on_site.data))
    db.session.commit()
    return _to_finding(visit, finding.id)


@bp.post("/<visit_id>/findings/<finding_id>/photos")
@login_required
def add_photo(visit_id: str, finding_id: str):
    """Attach a photo taken now; it is re-encoded and stripped before anyone sees it."""
    visit = _editable(visit_id)
    finding = _finding(visit, finding_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        refuse(422, _("Choose or take a photo first."))
    position = _position(form)
    data = read_upload(form.file.data)
    # What the page adds (when, where) is read leniently, as for the visit: a garbled value is none.
    fields = PhotoFields(captured_at=or_none(parse_time, form.captured_at.data) or utcnow(), finding_id=finding.id,
                         **(asdict(position) if position else {}))
    try:
        receive_photo(str(uuid.uuid4()), current_user, data, fields)
    except PhotoConflict:
        refuse(409, _("Please try again."))  # its id was made here a moment ago: to the person, a hiccup
    return _to_finding(visit, finding_id)


@bp.post("/<visit_id>/discard")
@login_required
def discard_visit(visit_id: str):
    """Throw away a draft (the page asked first); the phone forgets its copy before it posts."""
    visit = _editable(visit_id)
    if not SubmitForm().validate_on_submit():  # the CSRF token is all this form carries
        abort(400)
    school_id = visit.school_id
    services.discard(visit)
    db.session.commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("schools.show_school", school_id=school_id))


@bp.post("/<visit_id>/submit")
@login_required
def submit_visit(visit_id: str):
    """Submit once everything is answered; the reasons are shown while anything is missing."""
    visit = _editable(visit_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    photos = services.photos_by_finding(visit)
    if services.blockers(visit, photos):
        # The checklist again, with what is missing above its Submit button.
        return render_template("visits/checklist.html", **_page_context(visit, photos)), 422
    client_time = or_none(parse_time, form.client_time.data)
    # A double tap submits once; the other request finds the visit submitted (409).
    first_writer_wins(lambda: services.submit(visit, utcnow(), client_time, photos))
    flash(_("Submitted. The school will see the problems as rectification tasks."), "success")
    return redirect(url_for("visits.show_visit", visit_id=visit.id))


@bp.get("/")
@login_required
def list_my_visits():
    """My visits, the unfinished ones first, to pick up where I left off."""
    visits = db.session.scalars(sa.select(Visit).where(Visit.author_id == current_user.id)
                                .options(so.joinedload(Visit.school),
                                         so.joinedload(Visit.version).joinedload(TemplateVersion.template))
                                .order_by(Visit.status, Visit.server_started_at.desc()).limit(100)).all()
    return render_template("visits/mine.html", visits=visits)

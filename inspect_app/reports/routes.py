"""The dashboard and the daily report: page, signature, PDF and XLSX."""
from __future__ import annotations

import gzip
import json
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import BUREAU_ROLES, STAFF_ROLES, Role
from inspect_app.dbtypes import utcnow
from inspect_app.documents import attachment
from inspect_app.i18n import local_day
from inspect_app.extensions import db
from inspect_app.parsing import in_url, parse_day, parse_id
from inspect_app.plans.access import can_plan
from inspect_app.plans.planning import plans_progress
from inspect_app.reports import bp, circulars, exports, exports_tables, services
from inspect_app.reports.present import circular_excerpt, document_time
from inspect_app.reviews.services import open_count, upheld_by_inspector
from inspect_app.visits.services import flagged_by_author
from inspect_app.schools.models import School
from inspect_app.tickets.models import TicketStatus



def signature(signed) -> str | None:
    if signed is None:
        return None
    return _("Signed by %(name)s at %(at)s", name=signed.signed_by.display_name, at=document_time(signed.signed_at))


@bp.get("/")
@roles_required(*BUREAU_ROLES)
def show_dashboard():
    """Today at a glance for the bureau; every figure leads to the list behind it."""
    # Plans are sealed: their progress is the planners' (leaders, admins), not every inspector's.
    plans = plans_progress(limit=5) if can_plan(current_user) else None
    # 一案双查: upheld reviews count on each inspector's record; deciding is the leader's.
    open_reviews = open_count() if current_user.role is Role.LEADER else None
    board = services.dashboard()
    # Visits worth a look without a review (rushed, away from the school, recycled photos), per person.
    flagged = flagged_by_author(utcnow() - timedelta(days=board["peer_days"]))
    return render_template("reports/dashboard.html", board=board, plans=plans,
                           upheld=upheld_by_inspector(), open_reviews=open_reviews, flagged=flagged)


@bp.get("/exports/<kind>.<fmt>")
@roles_required(*BUREAU_ROLES)
def export_table(kind: str, fmt: str):
    """Visits, findings or tickets as CSV or XLSX; ?district=&from=&to=&status= filter them."""
    if kind not in exports_tables.KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    filters = exports_tables.Filters(request.args)
    chosen = {**request.args.to_dict(), "kind": kind}
    if refusal := filters.refusal():
        # Said under the field on the export page, with what was chosen kept, not as a download.
        return _exports_page(errors={"to": refusal}, chosen=chosen, status=422)
    if exports_tables.nothing_matches(kind, filters):
        return _exports_page(errors={"form": _("Nothing matches what you chose, so there is nothing to download. "
                                               "Try a wider date range or another district or state.")},
                             chosen=chosen, status=422)
    table = exports_tables.rows(kind, filters, current_user)
    today = local_day(utcnow())  # the day where the reader is, not in UTC
    names = {"visits": _("Visit records"), "findings": _("Problems found"), "tickets": _("Tickets")}
    if fmt == "csv":
        response = current_app.response_class(stream_with_context(exports_tables.csv_stream(table)),
                                              mimetype="text/csv")
    else:
        response = current_app.response_class(
            exports_tables.xlsx_bytes(table, kind),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = attachment(f"{names[kind]}-{today}.{fmt}", f"{kind}-{today}.{fmt}")
    return response


@bp.get("/exports/")
@roles_required(*BUREAU_ROLES)
def show_exports():
    """Choose what to export and how to filter it."""
    return _exports_page()


def _exports_page(errors: dict | None = None, chosen=None, status: int = 200):
    districts = db.session.scalars(sa.select(School.district).distinct().order_by(School.district)).all()
    return render_template("reports/exports.html", districts=districts, statuses=list(TicketStatus),
                           errors=errors or {}, chosen=chosen or {}), status


# "Not visited for N days": the choices the map offers; 7 is the dashboard's.
MAP_DAYS = (7, 14, 30)


def _map_filters() -> tuple[list[str], str | None, int]:
    """The districts, and the district and day count asked for (anything else reads as the default)."""
    districts = db.session.scalars(sa.select(School.district).distinct().order_by(School.district)).all()
    district = request.args.get("district") or None
    if district not in districts:
        district = None
    days = request.args.get("days", "")
    return districts, district, int(days) if days in {str(n) for n in MAP_DAYS} else MAP_DAYS[0]


@bp.get("/map")
@roles_required(*BUREAU_ROLES)
def show_map():
    """The coverage map: the page is a frame, static/js/map.js draws the schools from map.json;
    on the configured tiles, or on a blank projected canvas with district labels when there are none."""
    districts, district, days = _map_filters()
    words = {
        "states": [_("Overdue tickets"), _("Visited today"), _("Open tickets"),
                   _("Not visited for %(n)s days", n=days), _("In order")],
        "loading": _("Loading the schools…"),
        "failed": _("The schools could not be loaded. Check the connection and try again."),
        "retry": _("Try again"),
        "empty": _("No schools to show here."),
        "shown": _("%(n)s schools. Tap a number to zoom in, a dot for the school's figures.", n="{n}"),
        "tiles_failed": _("The background map could not be loaded; the schools are drawn without it."),
        "never": _("Never visited"), "today": _("Today"),
        "days_ago": _("%(n)s days ago", n="{n}"),
        "cluster": _("%(n)s schools here: tap to zoom in", n="{n}"),
    }
    return render_template("reports/map.html", districts=districts, district=district, days=days,
                           day_choices=MAP_DAYS, words=words, tiles=current_app.config.get("MAP_TILE_URL"),
                           attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""))


@bp.get("/map.json")
@roles_required(*BUREAU_ROLES)
def map_data():
    """The map's schools as rows of the columns it names; districts by their index. 20,000 schools
    come to about 1 MB, compressed for the phone (see docs/benchmarks.md)."""
    _districts, district, days = _map_filters()
    schools = services.school_states(district, days)
    names = sorted({s["district"] for s in schools})
    index = {name: i for i, name in enumerate(names)}
    body = {"days": days, "states": services.MAP_STATES, "districts": names,
            "columns": ["id", "name", "district", "lat", "lon", "state", "open", "overdue", "days"],
            "schools": [[s["id"], s["name"], index[s["district"]], round(s["lat"], 5), round(s["lon"], 5),
                         services.MAP_STATES.index(s["state"]), s["open"], s["overdue"], s["days"]]
                        for s in schools]}
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    response = current_app.response_class(mimetype="application/json")
    if "gzip" in request.accept_encodings:
        # Dynamic answers are not compressed elsewhere; this one is large and goes to phones.
        data = gzip.compress(data, 6, mtime=0)
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_data(data)
    return response


@bp.get("/daily/")
@roles_required(*BUREAU_ROLES)
def latest_report():
    """The report now being assembled (today's until 16:00, tomorrow's after)."""
    return redirect(url_for("reports.show_report", day=services.report_day(utcnow()).isoformat()))


@bp.get("/daily/<day>")
@roles_required(*BUREAU_ROLES)
def show_report(day: str):
    """The daily report as a printable page; frozen once a leader has signed it."""
    the_day = in_url(parse_day, day)
    content, signed = services.current(the_day)
    content = services.for_viewer(content, current_user)
    closes = services.window(the_day)[1]
    now = utcnow()
    # The next day is offered up to the report now being assembled, never beyond it.
    next_day = the_day + timedelta(days=1)
    return render_template(
        "reports/daily.html", report=content, signed=signed, signature=signature(signed), day=the_day,
        status=services.status(the_day, signed, now), closes=closes, photo_src=_photo_url,
        previous=(the_day - timedelta(days=1)).isoformat(),
        next_day=next_day.isoformat() if next_day <= services.report_day(now) else None,
        may_sign=current_user.role is Role.LEADER, can_sign=current_user.role is Role.LEADER and now >= closes)


def _photo_url(photo_id: str) -> str:
    return url_for("photos.serve_photo", photo_id=photo_id, size="thumb")


@bp.get("/daily/history")
@roles_required(*BUREAU_ROLES)
def report_history():
    """A month of reports with their status (draft, signed, late) and the signed PDF of each."""
    latest = services.report_day(utcnow())
    until = min(in_url(parse_day, request.args["until"]), latest) if request.args.get("until") else latest
    days = services.history(until)
    return render_template("reports/history.html", days=days, until=until, latest=latest,
                           earlier=(until - timedelta(days=len(days))).isoformat(),
                           later=min(until + timedelta(days=len(days)), latest).isoformat() if until < latest else None)


@bp.post("/daily/<day>/sign")
@roles_required(Role.LEADER)
def sign_report(day: str):
    """Sign and freeze the report with a content hash."""
    the_day = in_url(parse_day, day)
    services.sign(the_day, current_user)  # a ReportError becomes its error page (errors.py)
    db.session.commit()
    flash(_("Signed. This version is now frozen."), "success")
    return redirect(url_for("reports.show_report", day=day))


def _download(day: str, kind: str):
    the_day = in_url(parse_day, day)
    content, signed = services.current(the_day)
    content = services.for_viewer(content, current_user)
    if kind == "pdf":
        data = exports.pdf(content, signed)
    else:
        data = exports.xlsx(content, signature(signed))
    mimetype = "application/pdf" if kind == "pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment(f"{_('Daily report')}-{the_day}.{kind}",
                                                         f"daily-report-{the_day}.{kind}")
    return response


@bp.get("/daily/<day>.pdf")
@roles_required(*BUREAU_ROLES)
def report_pdf(day: str):
    """The report as a PDF (a bearer token works here too)."""
    return _download(day, "pdf")


@bp.get("/daily/<day>.xlsx")
@roles_required(*BUREAU_ROLES)
def report_xlsx(day: str):
    """The report as a spreadsheet."""
    return _download(day, "xlsx")


@bp.get("/daily/<day>/circular")
@roles_required(*STAFF_ROLES)
def show_circular(day: str):
    """The day's circular: for the bureau the whole of it with read receipts (and, for a leader of
    a signed report not yet sent, the choice of schools to name); for a school its own excerpt,
    which opening records as read. A school has nothing to answer here."""
    the_day = in_url(parse_day, day)
    circular = circulars.circular_for(the_day)
    if current_user.role is Role.DUTY_OFFICER:
        if circular is None:
            abort(404)
        circulars.record_read(circular, current_user)
        db.session.commit()
        content = json.loads(circular.report.content)
        return render_template("reports/circular_school.html", day=the_day, report=content,
                               excerpt=circular_excerpt(content, {s.id for s in circular.named},
                                                        current_user.school_id))
    content, signed = services.current(the_day)
    if circular is not None and current_user.role is Role.LEADER:
        circulars.record_read(circular, current_user)
        db.session.commit()
    items = circulars.items_by_school(content)
    return render_template("reports/circular.html", day=the_day, report=content, signed=signed,
                           circular=circular, items=items,
                           receipts=circulars.receipts(circular) if circular else None,
                           may_send=signed is not None and circular is None and current_user.role is Role.LEADER)


@bp.post("/daily/<day>/circular")
@roles_required(Role.LEADER)
def circulate_report(day: str):
    """Circulate the signed report, naming the schools ticked."""
    the_day = in_url(parse_day, day)
    named = [parse_id(value, _("School"), text=True) for value in request.form.getlist("school")]
    circulars.circulate(the_day, current_user, [school_id for school_id in named if school_id])
    db.session.commit()
    flash(_("Circulated. The leaders and every school have been notified."), "success")
    return redirect(url_for("reports.show_circular", day=day))

"""API views for the schools' daily report (API.md): the officer's idempotent PUT, the bureau's day."""
from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.api import bp
from inspect_app.api import schemas_duties as schemas
from inspect_app.api.openapi import api
from inspect_app.api.schemas import Error
from inspect_app.duties import services
from inspect_app.duties.access import sees_every_school
from inspect_app.duties.models import SelfReport
from inspect_app.duties.present import report_view
from inspect_app.i18n import local_iso
from inspect_app.idempotency import first_writer_wins


def report_json(report: SelfReport) -> dict:
    view = report_view(report, current_user)
    data = {"school_id": report.school_id, "date": view["day"].isoformat(), "version": view["version"],
            "zero": view["zero"], "counts": view["counts"], "note": view["note"],
            "filed_at": local_iso(view["filed_at"]), "deadline": local_iso(view["deadline"]), "late": view["late"]}
    if "filed_by" in view:
        data["filed_by"] = view["filed_by"]
    return data


@bp.put("/self-reports/<day>")
@login_required
@api.validate(json=schemas.SelfReportInput, resp=Response(
    HTTP_201=(schemas.SelfReport, "Filed: a new version"), HTTP_200=(schemas.SelfReport, "Replay: nothing changed"),
    HTTP_403=(Error, "Not a school's duty officer"), HTTP_409=(Error, "The client_id was used for another report")))
def put_self_report(day: str):
    """The school's daily report for its day (日报告/零报告); late is recorded as late, never refused."""
    the_day = services.day_or_today(day, 404)
    sent = request.context.json
    fields = services.ReportFields(zero=sent.zero, absent=sent.absent, absent_illness=sent.absent_illness,
                                   fever=sent.fever, isolated=sent.isolated, staff_absent=sent.staff_absent,
                                   note=sent.note)
    report, created = first_writer_wins(
        lambda: services.file_report(current_user, the_day, fields, sent.client_id))
    return jsonify(report_json(report)), 201 if created else 200


@bp.get("/self-reports")
@login_required
@api.validate(query=schemas.SelfReportQuery, resp=Response(
    HTTP_200=schemas.SelfReportDay, HTTP_403=(Error, "Not the bureau")))
def list_self_reports():
    """Each school's report for the day, and which schools have none (the bureau)."""
    if not sees_every_school(current_user):
        abort(403)
    query = request.context.query
    view = services.day_view(services.day_or_today(query.date, 400), query.district or None)

    def school(row: dict) -> dict:
        return {"school_id": row["school_id"], "school": row["school"], "district": row["district"],
                "state": row["state"], "report": report_json(row["report"]) if row["report"] else None,
                "fever_average_7d": row["average"], "jump": row["jump"]}
    return jsonify(date=view["day"].isoformat(), deadline=local_iso(view["deadline"]),
                   jump_threshold=view["threshold"],
                   reports=[school(r) for r in view["schools"] if r["report"] is not None],
                   missing=[school(r) for r in view["schools"] if r["report"] is None],
                   districts=view["districts"])

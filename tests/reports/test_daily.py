"""The 16:00 daily report: its window, late arrivals, signing and freezing, PDF and XLSX."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from inspect_app.extensions import db
from inspect_app.reports import services
from inspect_app.visits.models import Visit

UTC = timezone.utc


def at(app, visit_id, server_time, phone_time=None):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.server_submitted_at = server_time
        visit.submitted_at = phone_time or server_time
        db.session.commit()


@pytest.mark.parametrize("moment, day", [
    (datetime(2026, 3, 10, 7, 59, 59, tzinfo=UTC), date(2026, 3, 10)),   # 15:59:59 Shanghai
    (datetime(2026, 3, 10, 8, 0, 0, tzinfo=UTC), date(2026, 3, 11)),     # 16:00:00 Shanghai
    (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), date(2026, 3, 10)),       # 07:30 next day there
    (datetime(2026, 3, 9, 8, 0, 0, tzinfo=UTC), date(2026, 3, 10)),      # opens the window
    (datetime(2026, 12, 31, 8, 0, 0, tzinfo=UTC), date(2027, 1, 1)),     # across the year
])
def test_the_window_edges(db, moment, day):
    assert services.report_day(moment) == day
    start, end = services.window(day)
    assert start <= moment < end


def test_visits_fall_into_the_report_of_their_window_and_late_ones_are_marked(app, world, templates, make_visit):
    day = date(2026, 3, 10)
    inside = make_visit(world.inspector, world.a, fail=("G2",))
    edge = make_visit(world.inspector, world.b, fail=("G3",))
    late = make_visit(world.leader, world.a, fail=("G4",))
    at(app, inside.id, datetime(2026, 3, 10, 7, 59, 59, tzinfo=UTC))
    at(app, edge.id, datetime(2026, 3, 10, 8, 0, 0, tzinfo=UTC))
    # Submitted on the phone on the 8th, offline until the 10th: reported now, marked late.
    at(app, late.id, datetime(2026, 3, 10, 1, 0, tzinfo=UTC), phone_time=datetime(2026, 3, 8, 3, 0, tzinfo=UTC))
    with app.test_request_context("/"):
        report = services.assemble(day)
        assert report["overview"]["visits"] == 2 and report["overview"]["late_visits"] == 1
        problems = [p for s in report["problems_by_school"] for p in s["problems"]]
        assert sorted(p["late"] for p in problems) == [False, True]
        assert services.assemble(date(2026, 3, 11))["overview"]["visits"] == 1


def test_a_signed_report_is_frozen(app, db, login_as, world, templates, make_visit):
    day = date(2026, 3, 10)
    first = make_visit(world.inspector, world.a, fail=("G2",))
    at(app, first.id, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{day}/sign").status_code == 302
    signed = leader.get(f"/api/v1/reports/daily/{day}").get_json()
    assert signed["signed"]["content_hash"] and signed["overview"]["visits"] == 1
    # More data for that window afterwards changes nothing in the signed version.
    second = make_visit(world.inspector, world.b, fail=("G3",))
    at(app, second.id, datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    again = leader.get(f"/api/v1/reports/daily/{day}").get_json()
    assert again == signed
    refused = leader.form_post(f"/reports/daily/{day}/sign")
    assert refused.status_code == 409 and "已签发" in refused.get_data(as_text=True)
    from inspect_app.reports.models import DailyReport
    report = db.session.query(DailyReport).one()
    assert report.intact()


def test_a_report_cannot_be_signed_before_its_cutoff(app, login_as, world):
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    refused = login_as("leader").form_post(f"/reports/daily/{tomorrow}/sign")
    assert refused.status_code == 409 and "16:00" in refused.get_data(as_text=True)


def test_the_pdf_and_xlsx_open(app, login_as, world, templates, make_visit, api_token):
    day = date(2026, 3, 10)
    done = make_visit(world.inspector, world.a, fail=("G2",))
    at(app, done.id, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    client = app.test_client()
    headers = api_token("inspector")  # a bearer token works for the downloads too
    pdf = client.get(f"/reports/daily/{day}.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 1 and "甲校" in text
    xlsx = client.get(f"/reports/daily/{day}.xlsx", headers=headers)
    book = load_workbook(io.BytesIO(xlsx.data))
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert "甲校" in cells and any("落实" in str(c) for c in cells)


def test_the_report_page_prints_and_the_dashboard_counts(app, login_as, world, templates, make_visit):
    make_visit(world.inspector, world.a, fail=("G2",))
    leader = login_as("leader")
    page = leader.get(leader.get("/reports/daily/").headers["Location"]).get_data(as_text=True)
    # Today's closes at 16:00: the button is there, disabled, and says when it can be used.
    assert "甲校" in page and "草稿" in page and "16:00 后可签发" in page
    sign = page.split('id="sign"')[1].split("</form>")[0]
    assert "签发专报" in sign and "disabled" in sign
    board = leader.get("/reports/").get_data(as_text=True)
    unvisited = board.split('id="unvisited"')[1].split("</section>")[0]
    assert "乙校" in unvisited and "甲校" not in unvisited
    categories = board.split("今日问题分类统计")[1].split("</section>")[0]
    assert "校门管理" in categories  # G2's section, one serious problem
    peers = board.split("督查人员情况对比")[1].split("</section>")[0]
    assert "inspector" in peers and "%" in peers


def test_bad_dates_are_404(login_as, app, api_token):
    assert login_as("leader").get("/reports/daily/not-a-date").status_code == 404
    assert app.test_client().get("/api/v1/reports/daily/2026-13-45", headers=api_token("leader")).status_code == 404


def test_exports_in_csv_and_xlsx_with_filters(app, login_as, world, templates, make_visit, make_school):
    other = make_school(name="丙校", district="南闸街道")
    make_visit(world.inspector, world.a, fail=("G2", "G3"))
    make_visit(world.inspector, other, fail=("G4",))
    leader = login_as("leader")
    csv_text = leader.get("/reports/exports/findings.csv?district=澄江街道").get_data(as_text=True)
    assert csv_text.startswith("\ufeff")
    lines = csv_text.strip().splitlines()
    assert len(lines) == 3 and "甲校" in lines[1] and "丙校" not in csv_text
    book = load_workbook(io.BytesIO(leader.get("/reports/exports/tickets.xlsx").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4 and {r[1] for r in rows[1:]} == {"甲校", "丙校"}
    # Filters that match nothing are said on the export page (tests/reports/test_copy.py), not downloaded.
    assert leader.get("/reports/exports/tickets.csv?status=closed").status_code == 422
    assert leader.get("/reports/exports/visits.csv?from=2099-01-01").status_code == 422
    assert leader.get("/reports/exports/visits.csv?from=yesterday").status_code == 400
    assert leader.get("/reports/exports/secrets.csv").status_code == 404


def test_volunteers_appear_in_exports_by_pseudonym(db, login_as, world, templates, make_visit):
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    text = login_as("leader").get("/reports/exports/visits.csv").get_data(as_text=True)
    from inspect_app.accounts.models import User
    volunteer = db.session.get(User, world.volunteer.id)
    assert volunteer.pseudonym in text and volunteer.display_name not in text

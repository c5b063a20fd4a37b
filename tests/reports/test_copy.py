"""The bureau's report, dashboard and exports read as Chinese people write it (issue 10, Chinese copy):
full-width colons, records not "counts", the person who checked (not always an inspector), and
downloads saved under Chinese names and the local date."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

SHANGHAI = timezone(timedelta(hours=8))


def test_the_report_dashboard_and_exports_pages(login_as, world):
    leader = login_as("leader")
    report = leader.get("/reports/daily/2026-01-05").get_data(as_text=True)
    assert "统计时段：2026年1月4日 16:00 至 2026年1月5日 16:00" in report and "统计时段:" not in report
    dashboard = leader.get("/reports/").get_data(as_text=True)
    assert "今日专报检查次数" not in dashboard and "计入今日专报的检查" in dashboard
    exports = leader.get("/reports/exports/").get_data(as_text=True)
    assert '<option value="visits">检查记录</option>' in exports


def test_a_volunteers_visit_in_the_export_is_by_the_person_who_checked(login_as, world, make_visit):
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    header = login_as("leader").get("/reports/exports/visits.csv").get_data(as_text=True).splitlines()[0]
    assert "检查人" in header and "督学" not in header


def test_downloads_have_chinese_names_and_the_local_date(login_as, world):
    leader = login_as("leader")
    today = datetime.now(SHANGHAI).date().isoformat()
    for kind, name in (("visits", "检查记录"), ("findings", "发现的问题"), ("tickets", "整改单")):
        for fmt in ("csv", "xlsx"):
            response = leader.get(f"/reports/exports/{kind}.{fmt}")
            response.get_data()
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment; ")
            assert f"filename*=UTF-8''{quote(f'{name}-{today}.{fmt}')}" in disposition, disposition
            assert f'filename="{kind}-{today}.{fmt}"' in disposition  # for clients without filename*
    pdf = leader.get("/reports/daily/2026-01-05.pdf").headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('每日专报-2026-01-05.pdf')}" in pdf


def test_the_findings_export_names_the_item_not_its_code(login_as, world, make_visit, templates):
    make_visit(world.inspector, world.a, fail=("G1",))
    rows = login_as("leader").get("/reports/exports/findings.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    header, row = rows[0].split(","), rows[1].split(",")
    assert header[0] == "学校" and header[-1] == "检查编号"  # names first, the record number for machines
    item = row[header.index("检查项")]
    assert item.startswith("1. ") and item != "G1" and len(item) > 4, item
    assert row[header.index("检查项编号")] == "G1"


def test_the_xlsx_export_reads_as_a_spreadsheet(login_as, world, make_visit, templates):
    import io
    from datetime import datetime as dt

    from openpyxl import load_workbook
    make_visit(world.inspector, world.a, fail=("G1",))
    leader = login_as("leader")
    sheet = load_workbook(io.BytesIO(leader.get("/reports/exports/findings.xlsx").data)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    widths = {header[n]: sheet.column_dimensions[chr(65 + n)].width for n in range(len(header))}
    assert widths["问题"] >= 40 and widths["学校"] >= 20 and all(w >= 10 for w in widths.values())
    submitted = sheet.cell(row=2, column=header.index("已提交") + 1)
    assert isinstance(submitted.value, dt) and submitted.number_format == "yyyy-mm-dd hh:mm"
    # In the bureau's zone: the hour is Shanghai's, not UTC's.
    assert abs((submitted.value - datetime.now(SHANGHAI).replace(tzinfo=None)).total_seconds()) < 600


def test_a_reversed_range_is_said_on_the_export_page(login_as, world):
    response = login_as("leader").get("/reports/exports/visits.xlsx?from=2026-03-10&to=2026-03-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert 'id="to-error"' in page and "结束日期早于开始日期" in page and 'value="2026-03-10"' in page


def test_filters_that_match_nothing_are_said_on_the_export_page(login_as, world, make_visit, make_school, templates):
    leader = login_as("leader")
    # Nothing chosen: the whole table, its header row for machines even while it is empty.
    whole = leader.get("/reports/exports/visits.csv?district=&from=&to=&status=")
    assert whole.status_code == 200 and whole.headers["Content-Disposition"].startswith("attachment")
    other = make_school(name="丙校", district="南闸街道")
    make_visit(world.inspector, world.a, fail=("G1",))
    for kind, fmt, query in (("findings", "xlsx", "district=南闸街道&from=2026-03-01&to=2026-03-10"),
                             ("tickets", "csv", "district=南闸街道&status=closed"),
                             ("visits", "csv", "from=2099-01-01")):
        response = leader.get(f"/reports/exports/{kind}.{fmt}?kind={kind}&{query}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and response.mimetype == "text/html", (kind, response.status_code)
        assert "Content-Disposition" not in response.headers
        assert 'id="export-error"' in page and "没有符合所选条件的记录" in page
        # What was chosen is still chosen, ready to widen.
        assert f'<option value="{kind}" selected>' in page
        if "南闸街道" in query:
            assert '<option value="南闸街道" selected>' in page
        if "status=closed" in query:
            assert '<option value="closed" selected>' in page
        if "from=" in query:
            assert 'value="' + query.split("from=")[1][:10] + '"' in page
    # The same filter with a record behind it downloads it.
    make_visit(world.inspector, other, fail=("G2",))
    found = leader.get("/reports/exports/findings.csv?district=南闸街道")
    assert found.status_code == 200 and "丙校" in found.get_data(as_text=True)

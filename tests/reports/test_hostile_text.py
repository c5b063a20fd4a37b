"""Text people type reaches the daily report and the exports as text: never PDF markup, never a formula.

Every text field that ends up in a document gets hostile content through the app's own ways in (the
school register import, the visit API, a leader's signature), then the PDF, the XLSX and the CSVs
are read back.
"""
import csv
import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from inspect_app.accounts.models import Role
from inspect_app.documents import FORMULA_STARTS, csv_field
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.tickets.models import Ticket
from inspect_app.visits.models import Visit
from tests.conftest import PASSWORD, jpeg_bytes

UTC = timezone.utc
DAY = date(2026, 3, 10)
IN_WINDOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 Shanghai: inside DAY's window


def markup_school():
    # \x0b: a control character XML cannot carry; openpyxl refused the whole workbook over it.
    return '<img src="/etc/passwd"/>甲&乙\x0b<i>校'


def formula_school():
    return '=HYPERLINK("http://evil.example/","点我")'


FORMULA_DISTRICT = "+南闸街道"
SIGNER = '<font size="60" color="red">王</font><a href="http://evil.example/">签</a>&amp;'
INSPECTOR_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
PSEUDONYM = "-2+3志愿者"
FORMULA_FINDING = "=1+2 门卫不在岗"
NOTE = '<a href="http://evil.example/">好做法</a> <b>未闭合 & <br/>'


def picture_finding(path):
    return f'保安器械缺失 <img src="{path}" width="400" height="300"/> <i>未闭合 &nbsp;&'


def _token(app, username):
    response = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _put_visit(app, headers, school_id, template, mode, failed: dict, free: list[str] = (), note_code=None):
    """The whole visit over the API, submitted: `failed` maps item codes to finding descriptions."""
    now = datetime.now(UTC)
    answers = [{"code": c, "result": "fail" if c in failed else "pass",
                "note": NOTE if c == note_code else ""} for c in template.codes]
    findings = [{"id": str(uuid.uuid4()), "code": code, "description": text, "severity": "major"}
                for code, text in failed.items()]
    findings += [{"id": str(uuid.uuid4()), "code": None, "description": text, "severity": "minor"} for text in free]
    body = {"school_id": school_id, "version_id": template.version_id, "mode": mode,
            "started_at": (now - timedelta(minutes=20)).isoformat(), "submitted_at": now.isoformat(),
            "location": {"lat": 31.9, "lon": 120.28, "accuracy_m": 10}, "answers": answers, "findings": findings}
    visit_id = str(uuid.uuid4())
    response = app.test_client().put(f"/api/v1/visits/{visit_id}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.server_submitted_at = visit.submitted_at = IN_WINDOW
        db.session.commit()
    return visit_id


@pytest.fixture
def hostile(app, world, templates, make_user, login_as, tmp_path):
    """A day whose every text field is hostile; returns what each field holds."""
    picture = tmp_path / "server-file.jpg"
    picture.write_bytes(jpeg_bytes(size=(300, 200)))
    inspector = make_user(Role.INSPECTOR, display_name=INSPECTOR_NAME)
    register = io.StringIO()
    writer = csv.writer(register)
    writer.writerow(["区县", "学校名称", "类型", "纬度", "经度", "责任督学"])
    writer.writerow(["澄江街道", markup_school(), "小学", "31.9", "120.28", inspector.username])
    writer.writerow([FORMULA_DISTRICT, formula_school(), "初中", "31.8", "120.29", inspector.username])
    imported = login_as("admin").form_post(
        "/schools/import", {"file": (io.BytesIO(register.getvalue().encode("utf-8-sig")), "schools.csv")},
        content_type="multipart/form-data")
    assert imported.status_code == 302
    with app.app_context():
        ids = {s.name: s.id for s in db.session.query(School)}
    marked, formula = ids[markup_school()], ids[formula_school()]
    officer = make_user(Role.DUTY_OFFICER, school_id=marked)
    volunteer = make_user(Role.VOLUNTEER, pseudonym=PSEUDONYM, assigned_school_ids=[formula])

    # The case: a duty officer's self-check whose finding names a file on the server's disk.
    _put_visit(app, _token(app, officer.username), marked, templates["selfcheck"], "self_check",
               {templates["selfcheck"].codes[0]: picture_finding(picture)})
    _put_visit(app, _token(app, inspector.username), formula, templates["onsite"], "overt",
               {"G2": FORMULA_FINDING}, free=["@import 夜间无人值守"], note_code="G1")
    _put_visit(app, _token(app, volunteer.username), formula, templates["covert"], "covert",
               {templates["covert"].codes[0]: "-1 保安未佩戴器械"})
    with app.app_context():
        # Every ticket overdue in DAY's report, so the overdue table carries the same texts.
        for ticket in db.session.query(Ticket):
            ticket.deadline = IN_WINDOW
        db.session.commit()
    signer = make_user(Role.LEADER, display_name=SIGNER)
    leader = login_as(None)
    leader.sign_in(signer.username)
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    return leader, {
        "schools": [markup_school(), formula_school()],
        "findings": [picture_finding(picture), FORMULA_FINDING, "@import 夜间无人值守", "-1 保安未佩戴器械"],
        "note": NOTE, "signer": SIGNER, "district": FORMULA_DISTRICT, "inspector": INSPECTOR_NAME,
        "pseudonym": PSEUDONYM,
    }


def _squash(text: str) -> str:
    """PDF text extraction breaks lines where the layout wrapped them: compare without whitespace."""
    return "".join(text.split())


def test_the_daily_pdf_shows_hostile_text_literally_and_embeds_nothing(hostile):
    leader, fields = hostile
    response = leader.get(f"/reports/daily/{DAY}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = _squash("".join(page.extract_text() for page in reader.pages))
    for value in [*fields["schools"], *fields["findings"], fields["note"], fields["signer"]]:
        assert _squash(value) in text, value
    # The app draws no picture in this report: any image here came from someone's markup.
    assert [image.name for page in reader.pages for image in page.images] == []
    for page in reader.pages:
        assert "/Annots" not in page  # no link was planted


def test_the_daily_xlsx_holds_hostile_text_as_string_cells(hostile):
    leader, fields = hostile
    response = leader.get(f"/reports/daily/{DAY}.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str)), \
        [c.value for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    shown = {name.replace("\x0b", "\ufffd") for name in fields["schools"]}
    assert shown <= values and set(fields["findings"]) <= values
    assert any(fields["signer"] in str(v) for v in values)


@pytest.mark.parametrize("kind", ["visits", "findings", "tickets"])
def test_csv_exports_neutralise_formulas(hostile, kind):
    leader, fields = hostile
    response = leader.get(f"/reports/exports/{kind}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert "'" + formula_school() in cells and "'" + fields["district"] in cells
    assert markup_school() in cells  # markup is not a formula: CSV keeps it as it is
    expected = {"visits": ["'" + fields["inspector"], "'" + fields["pseudonym"]],
                "findings": ["'" + FORMULA_FINDING, "'@import 夜间无人值守", "'-1 保安未佩戴器械"],
                "tickets": ["'" + FORMULA_FINDING, "'-1 保安未佩戴器械"]}[kind]
    assert set(expected) <= set(cells)


@pytest.mark.parametrize("kind", ["visits", "findings", "tickets"])
def test_xlsx_exports_hold_formulas_as_text(hostile, kind):
    leader, fields = hostile
    response = leader.get(f"/reports/exports/{kind}.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert [c.value for c in cells if c.data_type != "s"] == []
    values = {c.value for c in cells}
    assert {formula_school(), fields["district"]} <= values
    expected = {"visits": [fields["inspector"], fields["pseudonym"]],
                "findings": [FORMULA_FINDING, "@import 夜间无人值守", "-1 保安未佩戴器械"],
                "tickets": [FORMULA_FINDING, "-1 保安未佩戴器械"]}[kind]
    assert set(expected) <= values


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised(start):
    # The API and the register import trim leading whitespace, so tab and CR are checked here.
    assert csv_field(start + "1+1") == "'" + start + "1+1"
    assert csv_field("1+1") == "1+1" and csv_field(3) == 3

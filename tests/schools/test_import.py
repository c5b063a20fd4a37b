"""Importing the register from CSV files as Excel writes them."""
import io

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.schools.models import School

HEADER = "区县,学校名称,类型,地址,纬度,经度,半径,责任督学\n"
GOOD = ("澄江街道,江阴市实验小学,小学,澄江中路89号,31.9087,120.2790,150,{inspector}\n"
        "南闸街道,江阴市南闸实验学校,九年一贯制,观山路3号,31.8613,120.2952,,\n")


def _upload(admin, data: bytes, name="schools.csv"):
    return admin.form_post("/schools/import", {"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")


def _schools(app):
    with app.app_context():
        return {s.name: (s.district, s.kind.value, s.radius_m, [u.username for u in s.assigned_users])
                for s in db.session.scalars(sa.select(School))}


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_excel_csv_in_gbk_or_utf8_imports(login_as, world, app, encoding):
    admin = login_as("admin")
    data = (HEADER + GOOD.format(inspector=world.inspector.username)).encode(encoding)
    response = _upload(admin, data)
    assert response.status_code == 302
    schools = _schools(app)
    assert schools["江阴市实验小学"] == ("澄江街道", "primary", 150, [world.inspector.username])
    assert schools["江阴市南闸实验学校"][1:3] == ("nine_year", app.config["DEFAULT_SCHOOL_RADIUS_M"])
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "新增 2 所学校" in page


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row(login_as, world, app):
    admin = login_as("admin")
    before = _schools(app)
    data = (HEADER
            + "澄江街道,新学校一,小学,路1号,31.9,120.28,,\n"        # line 2: fine
            + "澄江街道,新学校二,大学,路2号,31.9,120.28,,\n"        # line 3: unknown type
            + "澄江街道,新学校三,小学,路3号,north,120.28,,\n"       # line 4: latitude
            + ",新学校四,小学,路4号,31.9,200,,\n"                   # line 5: district, longitude
            + "澄江街道,新学校一,小学,路1号,31.9,120.28,,\n"        # line 6: duplicate of line 2
            + "澄江街道,新学校五,小学,路5号,31.9,120.28,99999,nobody\n"  # line 7: radius, inspector
            ).encode("gbk")
    response = _upload(admin, data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "未导入任何数据" in text
    for expected in ["第 3 行：无法识别的学校类型“大学”", "第 4 行：纬度“north”",
                     "第 5 行：区县为空", "第 5 行：经度“200”", "第 6 行：与第 2 行的学校重复",
                     "第 7 行：半径“99999”", "第 7 行：没有用户名为“nobody”的督学"]:
        assert expected in text
    assert "第 2 行" not in text.replace("与第 2 行", "")
    assert _schools(app) == before


def test_reimporting_updates_instead_of_duplicating(login_as, world, app):
    admin = login_as("admin")
    _upload(admin, (HEADER + GOOD.format(inspector="")).encode("gbk"))
    changed = GOOD.format(inspector="").replace("150", "300")
    response = _upload(admin, (HEADER + changed).encode("gbk"))
    assert response.status_code == 302
    schools = _schools(app)
    assert schools["江阴市实验小学"][2] == 300
    assert len(schools) == 4  # the world's two schools and the two imported ones


def test_english_headers_are_understood(login_as, app):
    admin = login_as("admin")
    data = b"district,name,type,address,lat,lon\nDistrict 1,Test School,primary,1 Road,31.9,120.3\n"
    assert _upload(admin, data).status_code == 302
    assert "Test School" in _schools(app)


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", "既不是 UTF-8 也不是 GBK"),
    ("学校名称,地址\n某校,某路\n".encode("gbk"), "缺少：district, kind, lat, lon"),
    (HEADER.encode("gbk"), "文件中没有学校数据"),
    (b"", "文件中没有学校数据"),
])
def test_unreadable_files_get_a_clear_message(login_as, data, message):
    admin = login_as("admin")
    response = _upload(admin, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_submitting_without_a_file_asks_for_one(login_as):
    response = login_as("admin").form_post("/schools/import", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请先选择 CSV 文件" in response.get_data(as_text=True)


def test_a_huge_file_is_refused(login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHOOL_IMPORT_MAX_BYTES", 1000)
    admin = login_as("admin")
    response = _upload(admin, (HEADER + GOOD.format(inspector="") * 50).encode("gbk"))
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)


def test_the_cli_imports_the_same_way(app, tmp_path, world):
    path = tmp_path / "schools.csv"
    path.write_bytes((HEADER + GOOD.format(inspector=world.inspector.username)).encode("gbk"))
    result = app.test_cli_runner().invoke(args=["schools", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER + "澄江街道,坏学校,大学,,31.9,120.28,,\n").encode("gbk"))
    result = app.test_cli_runner().invoke(args=["schools", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 2" in result.output


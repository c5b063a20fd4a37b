"""The signed daily report as a bureau document: letterhead, number, sections, thumbnails, the
signer and the anchor; document dates; the Chinese font embedded and every glyph drawn from it.
Read back as text (pypdf), as fonts (the PDF's own font dictionaries) and as pixels (pdftoppm)."""
import io
import subprocess
from datetime import date, datetime, timezone

from PIL import Image
from pypdf import PdfReader

from inspect_app.visits.models import Visit

UTC = timezone.utc
DAY = date(2026, 3, 10)


def _fonts(reader):
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            yield font, font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()


def test_the_signed_pdf_is_a_bureau_document(app, db, login_as, world, templates, make_visit, tmp_path):
    app.config["BUREAU_NAME"] = "江阴市教育局"
    visit = make_visit(world.inspector, world.a, fail=("G2",))
    row = db.session.get(Visit, visit.id)
    row.server_submitted_at = row.submitted_at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    from inspect_app.photos.models import Photo
    db.session.get(Photo, visit.photos[0]).created_at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    from inspect_app.schools.models import School
    for school in (world.a, world.b):  # registered before that day
        db.session.get(School, school.id).created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    response = leader.get(f"/reports/daily/{DAY}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    squashed = "".join(text.split())
    for words in ("江阴市教育局", "每日督查专报", "〔2026〕第1期", "2026年3月10日", "综述", "检查的学校", "甲校",
                  "逾期", "下期截止前到期", "未覆盖学校", "乙校", "好的做法", "审计链"):
        assert words in squashed, words
    assert "2026年3月9日16:00至2026年3月10日16:00" in squashed  # the window, as a document writes it
    assert "T16:00" not in text and "2026-03" not in text
    assert "签发leader" in squashed and "审计链锚点" in squashed  # the signer (the test user's name), the anchor
    assert "本期未记录好的做法" in squashed  # an empty section says so
    # The finding's first photo as a thumbnail, and nothing else.
    # (WeasyPrint's pages share one resource dictionary: count images by name.)
    assert len({image.name for page in reader.pages for image in page.images}) == 1
    # Every font is embedded (a FontFile), and no glyph fell back to .notdef: WeasyPrint writes a
    # custom encoding exactly when a font lacks a glyph the text needs, /Identity-H otherwise.
    fonts = list(_fonts(reader))
    assert fonts and all(any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")) for _, d in fonts)
    assert all(f["/Encoding"] == "/Identity-H" for f, _ in fonts)
    assert any("CJK" in str(f["/BaseFont"]) for f, _ in fonts)
    # It draws: pdftoppm renders the first page, with the red letterhead on it.
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    pixels = list(page.get_flattened_data())
    assert sum(1 for r, g, b in pixels if r > 150 and g < 80 and b < 80) > 100  # the red letterhead
    assert sum(1 for r, g, b in pixels if r < 80 and g < 80 and b < 80) > 1000  # black text


def test_a_draft_pdf_says_it_is_a_draft(login_as, world):
    reader = PdfReader(io.BytesIO(login_as("leader").get("/reports/daily/2026-01-05.pdf").data))
    squashed = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert "草稿（未签发）" in squashed and "未签发" in squashed
    assert "本期未检查任何学校" in squashed and "截止时没有逾期的整改单" in squashed


def test_the_history_lists_each_day_with_its_status(app, login_as, world):
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    page = leader.get(f"/reports/daily/history?until={DAY}").get_data(as_text=True)
    signed_row = page.split(f'data-day="{DAY}"')[1].split("</tr>")[0]
    assert "逾期签发" in signed_row and f"/reports/daily/{DAY}.pdf" in signed_row  # signed long after its day
    unsigned_row = page.split('data-day="2026-03-09"')[1].split("</tr>")[0]
    assert "逾期未签发" in unsigned_row and ".pdf" not in unsigned_row
    assert page.count("<tr data-day=") == 31
    report = leader.get(f"/reports/daily/{DAY}").get_data(as_text=True)
    assert "/reports/daily/2026-03-09" in report and "/reports/daily/2026-03-11" in report
    assert leader.get("/reports/daily/history?until=someday").status_code == 404
    latest = leader.get("/reports/daily/history").get_data(as_text=True)
    assert "草稿" in latest

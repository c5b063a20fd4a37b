"""The photo pipeline against real phone photos and hostile files."""
import io
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from inspect_app import PROJECT_ROOT
from inspect_app.photos.processing import DISPLAY_EDGE, THUMB_EDGE, PhotoRejected, process

# The project sits next to shared/ (../shared), on a developer's machine as in CI.
FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


REAL = sorted(p.name for p in FIXTURES.glob("*") if p.suffix.lower() in {".jpg", ".heic"})


def test_the_fixtures_are_there():
    assert len(REAL) >= 15, f"expected the shared photo fixtures in {FIXTURES}"


@pytest.mark.parametrize("name", REAL)
def test_every_real_phone_photo_is_accepted_and_reencoded_without_metadata(name):
    photo = process(fixture(name))
    for data, edge in ((photo.display, DISPLAY_EDGE), (photo.thumb, THUMB_EDGE)):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert max(image.size) <= edge
        assert not image.getexif(), "EXIF must not survive"
        assert b"Exif\x00\x00" not in data and b"http://ns.adobe.com" not in data  # no EXIF or XMP block
    assert len(photo.sha256) == 64


def test_heic_from_an_iphone_is_read():
    photo = process(fixture("heic_mobile_iphone_13_pro_max.HEIC"))
    assert photo.mime == "image/heic"
    assert photo.exif_time is not None


@pytest.mark.parametrize("name, portrait", [
    ("jpg_orientation_landscape_3.jpg", False),
    ("jpg_orientation_landscape_6.jpg", False),
    ("jpg_orientation_portrait_8.jpg", True),
])
def test_exif_orientation_is_honoured(name, portrait):
    image = Image.open(io.BytesIO(process(fixture(name)).display))
    assert (image.height > image.width) is portrait


def test_gps_is_read_with_the_right_hemisphere():
    nikon = process(fixture("jpg_gps_DSCN0010.jpg"))
    assert nikon.exif_lat == pytest.approx(43.4674, abs=1e-3)
    assert nikon.exif_lon == pytest.approx(11.8851, abs=1e-3)
    iphone = process(fixture("jpg_hdr_iphone_hdr_NO.jpg"))
    assert iphone.exif_lon < 0  # west of Greenwich


def test_a_12mp_photo_keeps_its_real_size_on_record():
    photo = process(fixture("jpg_hdr_iphone_hdr_NO.jpg"))
    assert (photo.width, photo.height) == (3264, 2448)


def _png(size, mode="1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def _jpeg_with_exif(exif) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 10)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize("make, status, code", [
    (lambda: _png((20_000, 20_000)), 422, "too_many_pixels"),  # 48 KB that would decode to 400 MP
    (lambda: _png((8_000, 8_000)), 422, "too_many_pixels"),    # where Pillow only warns
    (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415,
     "unsupported_media_type"),
    (lambda: b"<html><script>alert(1)</script></html>", 415, "unsupported_media_type"),
    (lambda: b"%PDF-1.4 not a photo", 415, "unsupported_media_type"),
    (lambda: b"", 422, "empty_file"),
    (lambda: fixture("jpg_gps_DSCN0010.jpg")[:5000], 422, "damaged_image"),  # truncated
    (lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 100, 422, "damaged_image"),
])
def test_hostile_files_are_refused_with_the_right_status(make, status, code):
    with pytest.raises(PhotoRejected) as refused:
        process(make())
    assert (refused.value.status, refused.value.code) == (status, code)


def test_html_appended_to_a_jpeg_does_not_survive():
    hostile = fixture("jpg_gps_DSCN0021.jpg") + b"<html><script>alert('x')</script></html>"
    photo = process(hostile)
    assert b"<script>" not in photo.display and b"<script>" not in photo.thumb


def test_nan_and_out_of_range_gps_are_dropped_and_flagged():
    nan = Image.Exif()
    nan[0x8825] = {1: "N", 2: (IFDRational(0, 0),) * 3, 3: "E",
                   4: (IFDRational(120, 1), IFDRational(0, 1), IFDRational(0, 1))}
    far = Image.Exif()
    far[0x8825] = {1: "N", 2: (IFDRational(95, 1), IFDRational(0, 1), IFDRational(0, 1)), 3: "E",
                   4: (IFDRational(120, 1), IFDRational(0, 1), IFDRational(0, 1))}
    for exif in (nan, far):
        photo = process(_jpeg_with_exif(exif))
        assert photo.exif_lat is None and photo.exif_lon is None
        assert "exif_gps_invalid" in photo.flags


def test_transparent_png_and_webp_become_jpeg():
    out = io.BytesIO()
    Image.new("RGBA", (30, 20), (0, 0, 255, 0)).save(out, "PNG")
    assert Image.open(io.BytesIO(process(out.getvalue()).display)).mode == "RGB"
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 0, 255)).save(out, "WEBP")
    assert process(out.getvalue()).mime == "image/webp"

"""Bytes per photo for each resize setting, encoded by Chromium itself, and crops to judge legibility.

    .venv/bin/python -m bench.photo_bytes [--crops docs/img]

Runs the phone's own code (static/js/photos.js `shrink`, with browser-image-compression in its
worker) in Debian's Chromium on the shared fixture photos that a phone camera would send (≥ 1600 px
on the long edge and decodable by a browser: the iPhone HEIC is not, and goes to the server as it is).
Prints bytes per photo and the average for each setting. With --crops, writes side-by-side crops of
the same region under every setting: fine detail from a fixture photo, and a notice board with a
thermometer reading pasted into another fixture before encoding (the fixtures hold no text), its
characters the size of a notice read from a few metres away.
"""
import argparse
import base64
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps
from playwright.sync_api import sync_playwright

from bench.live import CHROMIUM, CHROMIUM_ARGS, instance_env, serve
from inspect_app import PROJECT_ROOT

FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos"
PHOTOS = ["jpg_hdr_iphone_hdr_NO.jpg", "jpg_mobile_HMD_Nokia_8.3_5G.jpg", "jpg_tests_42_IndexError.jpg",
          "jpg_corrupted.jpg", "jpg_tests_36-memory_error.jpg", "jpg_tests_45-gps_ifd.jpg"]
# (label, settings for photos.js shrink)
# The first is what phones sent before; "chosen" is photos.js's SETTINGS today.
SETTINGS = [
    ("JPEG 1600 q0.80 (before)", {"edge": 1600, "webp": 0, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1600 q0.80", {"edge": 1600, "webp": 0.8, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1600 q0.70", {"edge": 1600, "webp": 0.7, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1600 q0.60 (chosen)", {"edge": 1600, "webp": 0.6, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1600 q0.50", {"edge": 1600, "webp": 0.5, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1440 q0.70", {"edge": 1440, "webp": 0.7, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1280 q0.80", {"edge": 1280, "webp": 0.8, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("WebP 1280 q0.70", {"edge": 1280, "webp": 0.7, "jpeg": 0.8, "maxSizeMB": 0.5}),
    ("JPEG 1600 q0.60 (chosen, no WebP)", {"edge": 1600, "webp": 0, "jpeg": 0.6, "maxSizeMB": 0.5}),
    ("JPEG 1280 q0.70", {"edge": 1280, "webp": 0, "jpeg": 0.7, "maxSizeMB": 0.5}),
]
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
BOARD_PHOTO = "jpg_hdr_iphone_hdr_NO.jpg"

SHRINK = """async ([b64, name, settings]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const file = new File([bytes], name, { type: "image/jpeg" });
  const url = document.querySelector("[data-compressor]").dataset.compressor;
  const out = await window.safecampusPhotos.shrink(file, url, settings);
  const buf = new Uint8Array(await out.arrayBuffer());
  let text = "";
  for (let i = 0; i < buf.length; i += 0x8000) text += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
  return [out.type, btoa(text)];
}"""


def with_notice_board(path: Path) -> bytes:
    """The fixture with a notice and a thermometer's display pasted in, as a camera would see them:
    slightly soft, the characters ~15 px tall once the photo is 1600 px wide (~12 px at 1280)."""
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    scale = image.width / 1600
    board = Image.new("RGB", (int(600 * scale), int(104 * scale)), (238, 236, 228))
    draw = ImageDraw.Draw(board)
    big = ImageFont.truetype(FONT, int(15 * scale))
    small = ImageFont.truetype(FONT, int(11 * scale))
    digits = ImageFont.truetype(FONT, int(24 * scale))
    lines = [(big, "晨午检登记表 2026年11月26日"), (big, "一年级(3)班 应到42人 实到41人"),
             (small, "消毒记录：08:10 走廊 含氯消毒液500mg/L 签名 王丽"),
             (small, "消毒记录：12:40 教室 紫外线灯30分钟 签名 李强")]
    y = int(8 * scale)
    for font, text in lines:
        draw.text((int(10 * scale), y), text, font=font, fill=(25, 25, 25))
        y += int(font.size * 1.55)
    draw.rectangle([int(440 * scale), int(20 * scale), int(590 * scale), int(84 * scale)], fill=(30, 40, 35))
    draw.text((int(452 * scale), int(30 * scale)), "36.8℃", font=digits, fill=(120, 230, 140))
    board = board.filter(ImageFilter.GaussianBlur(0.6 * scale))
    image.paste(board, (int(image.width * 0.08), int(image.height * 0.55)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def crop_row(encoded: list[tuple[str, bytes]], box: tuple[float, float, float, float], width: int,
             per_row: int, mode: str) -> Image.Image:
    """The same region (fractions of the picture) from each encoding, shown at the 1600 px scale.
    Text is judged in grey ("L"): whether it reads is a matter of luminance, and the PNG is a third."""
    tiles = []
    font = ImageFont.truetype(FONT, 13)
    for label, data in encoded:
        image = Image.open(io.BytesIO(data)).convert(mode)
        factor = 1600 / max(image.size)
        left, top, right, bottom = (round(v * s) for v, s in zip(box, image.size * 2))
        tile = image.crop((left, top, right, bottom))
        size = (round(tile.width * factor), round(tile.height * factor))
        tile = tile.resize(size, Image.Resampling.BICUBIC) if factor != 1 else tile
        tile = tile.crop((0, 0, min(width, tile.width), tile.height))
        framed = Image.new(mode, (tile.width, tile.height + 20), "white")
        framed.paste(tile, (0, 20))
        ImageDraw.Draw(framed).text((2, 2), f"{label} · {len(data) // 1024} KB", font=font, fill="black")
        tiles.append(framed)
    rows = [tiles[i:i + per_row] for i in range(0, len(tiles), per_row)]
    sheet = Image.new(mode, (sum(t.width for t in rows[0]) + 4 * len(rows[0]),
                              sum(max(t.height for t in row) + 4 for row in rows)), "white")
    y = 0
    for row in rows:
        x = 0
        for tile in row:
            sheet.paste(tile, (x, y))
            x += tile.width + 4
        y += max(t.height for t in row) + 4
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--crops", type=Path, help="folder for the side-by-side crops (PNG)")
    args = parser.parse_args()
    env = instance_env()
    inputs = {name: (FIXTURES / name).read_bytes() for name in PHOTOS}
    inputs["notice board"] = with_notice_board(FIXTURES / BOARD_PHOTO)
    results: dict[str, dict[str, tuple[str, bytes]]] = {}
    with serve(env, workers=1) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/complaints/new?school_id=1")
        print("Chromium encodes WebP:", page.evaluate("window.safecampusPhotos.encodesWebp()"))
        for label, settings in SETTINGS:
            results[label] = {}
            for name, data in inputs.items():
                kind, b64 = page.evaluate(SHRINK, [base64.b64encode(data).decode(), name, settings])
                results[label][name] = (kind, base64.b64decode(b64))
        browser.close()

    print(f"\n| setting | type | {' | '.join(Path(n).stem[:18] for n in PHOTOS)} | average |")
    print("|---|---|" + "---|" * (len(PHOTOS) + 1))
    for label, _ in SETTINGS:
        sizes = [len(results[label][name][1]) for name in PHOTOS]
        kind = results[label][PHOTOS[0]][0]
        print(f"| {label} | {kind} | " + " | ".join(f"{s / 1024:.0f} KB" for s in sizes)
              + f" | **{sum(sizes) / len(sizes) / 1024:.0f} KB** |")

    if args.crops:
        args.crops.mkdir(parents=True, exist_ok=True)
        # Every setting for the text; four for texture (photographic PNGs are large).
        every = [label for label, _ in SETTINGS]
        some = [label for label in every if label.startswith(("JPEG 1600 q0.80", "WebP 1600 q0.60", "WebP 1280 q0.70",
                                                               "JPEG 1600 q0.60"))]
        regions = {"photo-crop-notice.png": ("notice board", every, (0.083, 0.553, 0.46, 0.645), 600, 2, "L"),
                   "photo-crop-detail.png": ("jpg_tests_42_IndexError.jpg", some, (0.30, 0.30, 0.42, 0.40), 240, 4,
                                             "RGB")}
        for filename, (name, chosen, box, width, per_row, mode) in regions.items():
            sheet = crop_row([(label, results[label][name][1]) for label in chosen], box, width, per_row, mode)
            sheet.save(args.crops / filename, optimize=True)
            print("wrote", args.crops / filename, (args.crops / filename).stat().st_size, "bytes")


if __name__ == "__main__":
    sys.exit(main())

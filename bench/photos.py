"""Server time to process one uploaded photo: a 1600 px phone-resized JPEG and a raw 12 MP one.

    .venv/bin/python -m bench.photos [--runs 20]

Budget (PRODUCT.md): ≤ 100 ms for 1600 px, ≤ 250 ms for raw 12 MP, on one core of this machine.
"""
import argparse
import io
import statistics
import time

from PIL import Image

from inspect_app import PROJECT_ROOT
from inspect_app.photos.processing import process

SOURCE = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos" / "jpg_hdr_iphone_hdr_NO.jpg"


def samples() -> dict[str, bytes]:
    original = Image.open(SOURCE)
    exif = original.getexif().tobytes()
    raw = io.BytesIO()
    # A 12 MP phone photo: 4032×3024, quality 92, with its EXIF, about 4 MB like the real thing.
    original.resize((4032, 3024), Image.Resampling.BICUBIC).save(raw, "JPEG", quality=92, exif=exif)
    small = io.BytesIO()
    # What the phone uploads after resizing in its worker (long edge 1600, ~85 quality).
    original.resize((1600, 1200), Image.Resampling.BICUBIC).save(small, "JPEG", quality=85, exif=exif)
    return {"1600 px": small.getvalue(), "raw 12 MP": raw.getvalue()}


def measure(data: bytes, runs: int) -> list[float]:
    process(data)  # warm up decoders and caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process(data)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"{'input':<10} {'bytes':>10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, data in samples().items():
        times = sorted(measure(data, args.runs))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:<10} {len(data):>10} {statistics.median(times):>10.1f} {p95:>8.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()

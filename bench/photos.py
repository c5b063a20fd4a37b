"""Server time to process one uploaded photo: a 1600 px phone-resized JPEG and raw full-size ones.

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

PHOTOS = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos"
# Real files, as the camera wrote them (an upscaled sample compresses far more easily than a real
# photo's noise and detail). The largest real 12 MP one in the fixtures, 4032×3024 (the resolution of
# a 12 MP phone), 2.9 MB, is from a camera (Olympus E-P3) with EXIF that crashed other readers; the
# largest real phone photo is the Nokia 8.3's, 4608×1976 (9.1 MP), 2.2 MB.
RAW_12MP = PHOTOS / "jpg_tests_42_IndexError.jpg"
RAW_PHONE = PHOTOS / "jpg_mobile_HMD_Nokia_8.3_5G.jpg"


def samples() -> dict[str, bytes]:
    original = Image.open(RAW_12MP)
    exif = original.getexif().tobytes()
    small = io.BytesIO()
    # What the phone uploads after resizing in its worker (long edge 1600, ~85 quality).
    original.resize((1600, 1200), Image.Resampling.LANCZOS).save(small, "JPEG", quality=85, exif=exif)
    return {"1600 px": small.getvalue(), "raw 12 MP": RAW_12MP.read_bytes(), "raw phone 9 MP": RAW_PHONE.read_bytes()}


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
    print(f"{'input':<15} {'bytes':>10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, data in samples().items():
        times = sorted(measure(data, args.runs))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:<15} {len(data):>10} {statistics.median(times):>10.1f} {p95:>8.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()

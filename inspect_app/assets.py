"""Static files under fingerprinted names, cached for a year, compressed once per process.

``asset_url("css/app.css")`` gives ``/static/css/app.3f2a9c1b.css``. A changed file gets a new
name, so browsers and the service worker can keep every file forever without going stale.
Third-party code comes from node_modules (installed from package-lock.json), never from git.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import stat
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Blueprint, Flask, abort, current_app, request, url_for

from inspect_app import PROJECT_ROOT

bp = Blueprint("assets", __name__)

STATIC_ROOT = PROJECT_ROOT / "static"
_STATIC_FOLDER = STATIC_ROOT.resolve()
# Public name -> path inside node_modules.
VENDOR_FILES = {
    "vendor/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "vendor/idb-keyval.js": "idb-keyval/dist/umd.js",
    # Its web worker importScripts() this same file: we pass our own URL (libURL), never a CDN.
    "vendor/browser-image-compression.js": "browser-image-compression/dist/browser-image-compression.js",
    # The in-app scanner, loaded by the scan page only. The library imports its worker by the
    # relative name below, so that file is served under its plain name (short cache).
    "vendor/qr-scanner.min.js": "qr-scanner/qr-scanner.min.js",
    "vendor/qr-scanner-worker.min.js": "qr-scanner/qr-scanner-worker.min.js",
    "vendor/leaflet.js": "leaflet/dist/leaflet.js",
    "vendor/leaflet.css": "leaflet/dist/leaflet.css",
    # Clusters the map's schools (20,000 for a province) in a k-d tree; UMD build, kdbush inside.
    "vendor/supercluster.min.js": "supercluster/dist/supercluster.min.js",
}
FINGERPRINT = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<ext>\.[A-Za-z0-9]+)$")
YEAR = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "application/manifest+json")


@lru_cache(maxsize=1024)
def _source(name: str, node_modules: str) -> Path | None:
    """Where a public name's file is, or None outside the static folder. Worked out once per name:
    resolving a path walks every folder of it (50 µs, and a page asks for five assets); whether the
    file is there is left to the stat in _read, so a file added later is found."""
    if name in VENDOR_FILES:
        return Path(node_modules) / VENDOR_FILES[name]
    path = (STATIC_ROOT / name).resolve()
    return path if _STATIC_FOLDER in path.parents else None


@lru_cache(maxsize=256)
def _load(path: Path, mtime_ns: int) -> tuple[bytes, str, dict[str, bytes]]:
    """File bytes, their hash and compressed variants; keyed by mtime so edits show up."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:10]
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    encoded: dict[str, bytes] = {}
    if mimetype.startswith(COMPRESSIBLE) and len(data) > 500:
        encoded = {"br": brotli.compress(data, quality=11), "gzip": gzip.compress(data, 9, mtime=0)}
    return data, digest, encoded


def _read(name: str):
    path = _source(name, current_app.config["NODE_MODULES_DIR"])
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return _load(path, status.st_mtime_ns) if stat.S_ISREG(status.st_mode) else None


def asset_url(name: str) -> str:
    loaded = _read(name)
    if loaded is None:
        raise LookupError(f"no static file {name!r}")
    stem, dot, ext = name.rpartition(".")
    return url_for("assets.serve_asset", filename=f"{stem}.{loaded[1]}.{ext}")


@bp.get("/static/<path:filename>")
def serve_asset(filename: str):
    """A static file; immutable when asked for under its current fingerprint."""
    match = FINGERPRINT.match(filename)
    name = f"{match['stem']}{match['ext']}" if match else filename
    loaded = _read(name)
    if loaded is None or (match and match["hash"] != loaded[1]):
        abort(404)
    data, digest, encoded = loaded
    response = current_app.response_class(mimetype=mimetypes.guess_type(name)[0])
    encoding = next((e for e in ("br", "gzip") if e in encoded
                     and e in request.accept_encodings), None)
    response.set_data(encoded[encoding] if encoding else data)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if encoded:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = (f"public, max-age={YEAR}, immutable" if match
                                         else "public, max-age=300")
    response.set_etag(digest)
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = asset_url

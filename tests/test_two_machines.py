"""Two machines of one deployment (issue 16): two gunicorn instances, each with its own instance folder,
on one PostgreSQL, one S3 server and one Redis (tests/cluster.py). A photo the phone uploads through one
is read through the other; sign-in failures spread over both trip the throttle at either.

It needs PostgreSQL (TEST_DATABASE_URL) and Redis; SeaweedFS is .ci/run's (TEST_S3_ENDPOINT) or one of
its own. Without them it skips on a laptop; under CI it fails, as a missing Chromium does.
`make test` runs it in the PostgreSQL pass only.
"""
import io
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar

import pytest
from PIL import Image

from tests.cluster import PASSWORD, REDIS_URL, Cluster

PHOTO = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "fixtures", "photos",
                     "jpg_hdr_iphone_hdr_NO.jpg")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the two-machine test, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    database_url = os.environ.get("TEST_DATABASE_URL")
    if not database_url:
        _unavailable("TEST_DATABASE_URL is not set (the machines share one PostgreSQL)")
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at {REDIS_URL} does not answer: {error}")
    with Cluster(tmp_path_factory.mktemp("two-machines"), database_url,
                 s3_endpoint=os.environ.get("TEST_S3_ENDPOINT")) as running:
        running.people = running.seed(inspectors=1)
        yield running


def _call(method: str, url: str, token: str | None = None, body: bytes | None = None,
          content_type: str | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read(), dict(error.headers)


def _multipart(fields: dict[str, str], file: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
                 f'Content-Type: image/jpeg\r\n\r\n'.encode() + file + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _phone_photo() -> bytes:
    """What the phone sends: the camera's photo shrunk to a 1600 px long edge in its worker."""
    image = Image.open(PHOTO)
    image.thumbnail((1600, 1600))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_both_machines_start_with_nothing_on_their_own_disk_but_a_log(cluster):
    for machine in cluster.machines:
        assert sorted(p.name for p in machine.instance.iterdir()) == ["gunicorn.log"]


def test_a_photo_uploaded_through_one_machine_is_read_through_the_other(cluster):
    a, b = cluster.machines
    person = cluster.people[0]
    status, answer, _ = _call("POST", a.url + "/api/v1/auth/token", body=json.dumps(
        {"username": person["username"], "password": PASSWORD}).encode(), content_type="application/json")
    assert status == 200, answer
    token = json.loads(answer)["token"]
    status, answer, _ = _call("GET", f"{a.url}/api/v1/checklists?school_id={person['school_id']}&mode=overt",
                              token)
    assert status == 200, answer
    template = next(t for t in json.loads(answer)["checklists"] if t["items"])
    codes = [item["code"] for item in template["items"]]
    now = datetime.now(timezone.utc)
    visit_id, finding_id, photo_id = (str(uuid.uuid4()) for _ in range(3))
    visit = {"school_id": person["school_id"], "version_id": template["version_id"], "mode": "overt",
             "started_at": (now - timedelta(minutes=20)).isoformat(), "submitted_at": now.isoformat(),
             "location": {"lat": person["lat"], "lon": person["lon"], "accuracy_m": 12},
             "answers": [{"code": c, "result": "fail" if c == codes[0] else "pass", "note": ""} for c in codes],
             "findings": [{"id": finding_id, "code": codes[0], "description": "消毒记录缺失", "severity": "major",
                           "fixed_on_site": False, "location": None, "captured_at": now.isoformat()}]}
    status, answer, _ = _call("PUT", f"{a.url}/api/v1/visits/{visit_id}", token, json.dumps(visit).encode(),
                              "application/json")
    assert status == 201, answer
    sent = _phone_photo()
    body, content_type = _multipart({"captured_at": now.isoformat(), "lat": str(person["lat"]),
                                     "lon": str(person["lon"]), "accuracy_m": "9", "finding_id": finding_id}, sent)
    status, answer, _ = _call("PUT", f"{a.url}/api/v1/photos/{photo_id}", token, body, content_type)
    assert status == 201, answer

    # Machine B never saw the upload; it finds the photo through the database and reads it from S3.
    status, answer, _ = _call("GET", f"{b.url}/api/v1/visits/{visit_id}", token)
    assert status == 200, answer
    photos = json.loads(answer)["findings"][0]["photos"]
    assert [p["id"] for p in photos] == [photo_id]
    status, display, headers = _call("GET", urllib.parse.urljoin(b.url, photos[0]["url"]), token)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(display))
    assert shown.format == "JPEG" and max(shown.size) <= 1600
    assert _call("GET", urllib.parse.urljoin(a.url, photos[0]["url"]), token)[1] == display
    # Nobody's disk holds it: the instance folders still have only their logs.
    for machine in cluster.machines:
        assert not (machine.instance / "storage").exists()
    # And the permission check still stands at B: no token, no photo (urllib follows the redirect to
    # the sign-in page).
    status, anonymous, headers = _call("GET", urllib.parse.urljoin(b.url, photos[0]["url"]))
    assert anonymous != display and not headers["Content-Type"].startswith("image/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _sign_in(base: str, username: str, password: str) -> tuple[int, str | None]:
    """One sign-in on the web form from a brand-new browser (its own cookies and CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
    page = opener.open(base + "/accounts/sign-in", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    try:
        with opener.open(base + "/accounts/sign-in", data=data, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Retry-After")


def test_sign_in_failures_spread_over_both_machines_trip_the_throttle_at_either(cluster):
    """Three free failures per account and client (SIGNIN_FREE_FAILURES), counted in the one Redis:
    two at A and one at B, and the fourth try waits at B, which saw only one of them."""
    a, b = cluster.machines
    username = cluster.people[0]["username"]
    assert [_sign_in(m.url, username, "wrong-password")[0] for m in (a, b, a)] == [422, 422, 422]
    status, retry_after = _sign_in(b.url, username, "wrong-password")
    assert status == 429 and 1 <= int(retry_after) <= 2
    import redis
    assert any(redis.Redis.from_url(REDIS_URL).scan_iter(f"{cluster.prefix}:*"))

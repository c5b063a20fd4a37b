"""Where uploads live: the local folder and a real S3 server (SeaweedFS), the 503 of a store that is
down (never a 500, never a row without its files), and `flask storage migrate`."""
from __future__ import annotations

import io
import os
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from inspect_app import create_app
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from inspect_app.photos.models import SIZES, Photo, file_key
from inspect_app.photos.storage import (LocalStorage, S3Storage, StorageUnavailable, open_storage,
                                        parse_storage_url, storage)
from tests.conftest import jpeg_bytes
from tests.storage_server import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedServer, free_ports


def s3_store(endpoint: str, prefix: str, **kwargs) -> S3Storage:
    return S3Storage(BUCKET, prefix, endpoint_url=endpoint, region="us-east-1", access_key=ACCESS_KEY,
                     secret_key=SECRET_KEY, **kwargs)


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory, s3_server):
    """The run's S3 server when it has one (TEST_STORAGE=s3), else one of this module's own (the
    outage test stops yet another, its own)."""
    if s3_server:
        yield SimpleNamespace(endpoint=s3_server)
        return
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()


@pytest.fixture
def use_store(app, monkeypatch):
    """The app's store for one test (the app is shared by the session; the store is made once per app)."""
    return lambda store: monkeypatch.setitem(app.extensions, "storage", store)


def upload(client, headers, photo_id=None, content=None):
    photo_id = photo_id or str(uuid.uuid4())
    data = {"file": (io.BytesIO(content or jpeg_bytes(color=(10, 200, 30))), "photo.jpg"),
            "captured_at": datetime.now(timezone.utc).isoformat()}
    return photo_id, client.put(f"/api/v1/photos/{photo_id}", data=data, headers=headers,
                                content_type="multipart/form-data")


def photo_row(app, photo_id):
    with app.app_context():
        return db.session.get(Photo, photo_id)


# ---- choosing the store ----------------------------------------------------------------------------

def test_the_url_chooses_the_store(tmp_path):
    assert parse_storage_url(f"file://{tmp_path}") == ("file", str(tmp_path), "")
    assert parse_storage_url("s3://photos/province/a") == ("s3", "photos", "province/a")
    assert parse_storage_url("s3://photos") == ("s3", "photos", "")
    for bad in ("s3:///prefix", "http://x/y", "file://", "photos"):
        with pytest.raises(ValueError):
            parse_storage_url(bad)
    local = open_storage({"STORAGE_URL": f"file://{tmp_path}/x", "STORAGE_DIR": "/elsewhere"})
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "x"
    assert open_storage({"STORAGE_URL": None, "STORAGE_DIR": str(tmp_path)}).root == tmp_path
    remote = open_storage({"STORAGE_URL": "s3://photos/p", "S3_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert isinstance(remote, S3Storage) and (remote.bucket, remote.prefix) == ("photos", "p")


def test_the_app_refuses_to_start_on_a_storage_url_it_cannot_use(tmp_path):
    with pytest.raises(RuntimeError, match="STORAGE_URL"):
        create_app(TestConfig, STORAGE_URL="ftp://photos", STORAGE_DIR=str(tmp_path))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_both_stores_keep_get_list_and_delete_alike(kind, tmp_path, seaweed):
    store = LocalStorage(tmp_path) if kind == "local" else s3_store(seaweed.endpoint, f"t-{uuid.uuid4()}")
    store.put("display/ab/one.jpg", b"one")
    store.put("original/ab/two", b"two")
    assert store.get("display/ab/one.jpg") == b"one"
    assert store.exists("original/ab/two") and not store.exists("thumb/ab/none.jpg")
    assert sorted(store.keys()) == ["display/ab/one.jpg", "original/ab/two"]
    assert store.stored_sha256("original/ab/two") == "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3"
    assert store.stored_sha256("thumb/ab/none.jpg") is None
    with pytest.raises(FileNotFoundError):
        store.get("thumb/ab/none.jpg")
    store.delete("display/ab/one.jpg")
    store.delete("display/ab/one.jpg")  # deleting what is gone is no error
    assert list(store.keys()) == ["original/ab/two"]
    for bad in ("../x", "/etc/passwd", "a//b", "a/./b", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


# ---- photos through the app on S3 --------------------------------------------------------------------

def test_a_photo_goes_to_s3_and_is_served_only_after_the_permission_check(app, seaweed, use_store, world,
                                                                          api_token, login_as):
    store = s3_store(seaweed.endpoint, f"t-{uuid.uuid4()}")
    use_store(store)
    photo_id, response = upload(app.test_client(), api_token("inspector"))
    assert response.status_code == 201, response.get_json()
    photo = photo_row(app, photo_id)
    assert sorted(store.keys()) == sorted(photo.key(size) for size in SIZES)
    assert store.get(photo.key("original")) == jpeg_bytes(color=(10, 200, 30))

    mine = login_as("inspector").get(f"/photos/{photo_id}/display")
    assert mine.status_code == 200 and mine.data == store.get(photo.key("display"))
    # The bucket is never the way in: someone the photo is not for gets the same 404 as for nothing.
    stranger = login_as("officer_b")
    assert [stranger.get(f"/photos/{photo_id}/{size}").status_code for size in SIZES] == [404, 404, 404]


# ---- an outage -------------------------------------------------------------------------------------

def test_a_dead_store_answers_503_in_chinese_and_keeps_no_record(app, db, use_store, world, api_token, login_as):
    dead_port = free_ports(1)[0]
    dead = s3_store(f"http://127.0.0.1:{dead_port}", "dead", attempts=1)
    tries = []
    dead.client.meta.events.register("before-send.s3", lambda request, **_: tries.append(request.method))
    use_store(dead)
    photo_id, response = upload(app.test_client(), api_token("inspector"))
    assert response.status_code == 503
    assert tries == ["PUT"]  # attempts=1 is one try, not one retry
    assert response.headers["Retry-After"] == "30"
    error = response.get_json()["error"]
    assert error["code"] == "storage_unavailable" and "照片存储暂时无法连接" in error["message"]
    assert photo_row(app, photo_id) is None

    # A page that reads a file says the same in words, not a 500.
    page = login_as("inspector").get(f"/photos/{uuid.uuid4()}/display")
    assert page.status_code == 404  # no such photo: the store is not even asked
    db.session.add(Photo(id=photo_id, uploader_id=world.inspector.id, sha256="0" * 64, request_hash="x",
                         mime="image/jpeg", size_bytes=1, width=1, height=1))
    db.session.commit()
    page = login_as("inspector").get(f"/photos/{photo_id}/display")
    assert page.status_code == 503 and "照片存储暂时无法连接" in page.get_data(as_text=True)


def test_the_server_stopping_mid_upload_leaves_no_record_and_the_retry_stores_it_whole(
        app, use_store, world, api_token, login_as, seaweed, tmp_path):
    # The module's own server when it has one (paused and resumed here, as the module's tests run one
    # after another); never the run's shared one, which other processes are using.
    shared = not isinstance(seaweed, SeaweedServer)
    server = SeaweedServer(tmp_path / "weed").start() if shared else seaweed
    prefix = f"outage-{uuid.uuid4()}"
    try:
        # The original goes in with the app's patience; what follows meets a server gone silent, which
        # a store of short timeouts gives up on at once (the connection is accepted: the read times out).
        patient = s3_store(server.endpoint, prefix)
        hasty = s3_store(server.endpoint, prefix, attempts=1, connect_timeout=1, read_timeout=0.5)
        put, calls = hasty.put, []

        def put_then_stop(key, data):
            (put if calls else patient.put)(key, data)
            calls.append(key)
            if len(calls) == 1:
                server.pause()  # the original is in; the display size and thumbnail meet a server gone silent
        hasty.put = put_then_stop
        use_store(hasty)
        client, headers = app.test_client(), api_token("inspector")
        photo_id, response = upload(client, headers)
        assert len(calls) == 1  # stopped mid-upload: after the original, at the display size
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "storage_unavailable"
        assert "照片存储暂时无法连接" in response.get_json()["error"]["message"]
        assert photo_row(app, photo_id) is None  # no row naming files that are not all there

        # The phone's outbox sends the same photo again once the server is back: stored whole, once.
        server.resume()
        use_store(patient)
        _, again = upload(client, headers, photo_id=photo_id)
        assert again.status_code == 201, again.get_json()
        photo = photo_row(app, photo_id)
        assert sorted(patient.keys()) == sorted(photo.key(size) for size in SIZES)
        assert patient.get(photo.key("original")) == jpeg_bytes(color=(10, 200, 30))
        assert login_as("inspector").get(f"/photos/{photo_id}/thumb").data == patient.get(photo.key("thumb"))
    finally:
        if shared:
            server.stop()
        else:
            server.resume()  # whatever failed, the module's other tests meet a server that answers


def test_a_row_that_fails_to_commit_takes_its_files_back(app, use_store, monkeypatch, world, tmp_path):
    from inspect_app.accounts.models import User
    from inspect_app.photos import services
    store = LocalStorage(tmp_path)
    use_store(store)

    def commit_fails(_record):
        raise sa.exc.OperationalError("INSERT", {}, Exception("the database went away"))
    monkeypatch.setattr(services, "first_writer_wins", commit_fails)
    with app.test_request_context("/"):
        with pytest.raises(sa.exc.OperationalError):
            services.receive_photo(str(uuid.uuid4()), db.session.get(User, world.inspector.id), jpeg_bytes(),
                                   services.PhotoFields())
    assert list(store.keys()) == []


def test_a_failed_upload_leaves_the_files_of_a_concurrent_identical_one_that_made_it(
        app, use_store, world, tmp_path):
    """The phone sent the same photo twice at once: one request stored it; the other's store failed
    on its second file. Its keys are the winner's keys, so taking them back would break the winner."""
    from inspect_app.accounts.models import User
    from inspect_app.photos import services
    store = LocalStorage(tmp_path)
    put, photo_id, data = store.put, str(uuid.uuid4()), jpeg_bytes(color=(1, 2, 3))

    def put_while_the_other_commits(key, content):
        if key.startswith("display/"):  # the other request finishes first, then our store fails
            store.put = put
            other = services.receive_photo(photo_id, db.session.get(User, world.inspector.id), data,
                                           services.PhotoFields())
            assert other[1] is True
            raise StorageUnavailable()
        put(key, content)
    store.put = put_while_the_other_commits
    use_store(store)
    with app.test_request_context("/"):
        with pytest.raises(StorageUnavailable):
            services.receive_photo(photo_id, db.session.get(User, world.inspector.id), data, services.PhotoFields())
        photo = db.session.get(Photo, photo_id)
        assert sorted(store.keys()) == sorted(photo.key(size) for size in SIZES)


# ---- flask storage migrate -------------------------------------------------------------------------

def local_store_with(tmp_path, count: int) -> LocalStorage:
    local = LocalStorage(tmp_path / "local")
    for n in range(count):
        photo_id = str(uuid.uuid4())
        for size in SIZES:
            local.put(file_key(photo_id, f"{n:064x}", size), f"{size} {n}".encode())
    (local.root / "display" / ".upload-half").write_bytes(b"a write that never finished")
    return local


def test_migrate_copies_verifies_and_resumes(app, seaweed, use_store, tmp_path):
    local = local_store_with(tmp_path, 4)  # 12 files
    target = s3_store(seaweed.endpoint, f"m-{uuid.uuid4()}")
    use_store(target)
    runner = app.test_cli_runner()

    # Stopped after five copies (the network went): the error says to run again; nothing half there.
    put, copies = target.put, []

    def put_then_fail(key, data):
        if len(copies) == 5:
            raise StorageUnavailable()
        put(key, data)
        copies.append(key)
    target.put = put_then_fail
    stopped = runner.invoke(args=["storage", "migrate", "--source", str(local.root)])
    assert stopped.exit_code == 1 and "run the command again" in stopped.output
    assert sorted(target.keys()) == sorted(copies)

    target.put = put
    resumed = runner.invoke(args=["storage", "migrate", "--source", str(local.root)])
    assert resumed.exit_code == 0, resumed.output
    assert "12/12 objects: 7 copied, 5 already there" in resumed.output
    assert sorted(target.keys()) == sorted(local.keys())
    for key in local.keys():
        assert target.get(key) == local.get(key)

    # A changed file is copied again; the rest is left alone.
    changed = next(iter(local.keys()))
    local.put(changed, b"changed")
    again = runner.invoke(args=["storage", "migrate", "--source", str(local.root)])
    assert again.exit_code == 0 and "12/12 objects: 1 copied, 11 already there" in again.output
    assert target.get(changed) == b"changed"


def test_migrate_fails_on_an_object_that_does_not_read_back_as_written(app, seaweed, use_store, tmp_path):
    local = local_store_with(tmp_path, 1)
    target = s3_store(seaweed.endpoint, f"m-{uuid.uuid4()}")
    get = target.get
    bad_key = sorted(local.keys())[0]
    target.get = lambda key: get(key) + (b"!" if key == bad_key else b"")  # a store that damages one object
    use_store(target)
    result = app.test_cli_runner().invoke(args=["storage", "migrate", "--source", str(local.root)])
    assert result.exit_code == 1
    assert f"hash mismatch after copying: {bad_key}" in result.output
    assert "1 objects did not read back as written" in result.output


def test_migrate_refuses_to_copy_a_folder_onto_itself(app, use_store, tmp_path):
    use_store(LocalStorage(tmp_path))
    result = app.test_cli_runner().invoke(args=["storage", "migrate", "--source", str(tmp_path)])
    assert result.exit_code == 1 and "STORAGE_URL names the folder being copied" in result.output


def test_the_app_store_is_made_once_and_is_the_one_the_run_asked_for(db):
    assert storage() is storage()
    # `make test`'s S3 pass must really store in S3, not quietly in the folder.
    assert isinstance(storage(), S3Storage) == (os.environ.get("TEST_STORAGE") == "s3")

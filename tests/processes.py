"""Stopping the servers tests start (gunicorn, SeaweedFS …) without hanging the run."""
import subprocess


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """Ask politely, then insist: on a loaded machine a graceful stop can outlast its wait, and a test
    must not fail (or leave a server behind) because its server was slow to leave."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)

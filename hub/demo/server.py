"""A hub server in a child process, for scripted runs over real HTTP.

The demo (and anyone else needing a live hub briefly) starts ``hub serve`` in a separate
process, waits for ``/readyz`` and stops it afterwards. A separate process, not a thread,
so the scripted client and the server share nothing but the socket and the database,
exactly as a partner and the hub do; the server's log lines go to a file so they do not
interleave with the report.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from http.client import HTTPConnection
from pathlib import Path

SERVE = "from hub.cli import main; main()"


class ServerFailed(RuntimeError):
    """The child server did not become ready; the message carries its log's tail."""


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (checked by binding it briefly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def is_ready(host: str, port: int) -> bool:
    """``GET /readyz`` answers 200 (database, migrations and signing key all ok)."""
    connection = HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def background_hub(
    host: str,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    args: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``hub serve --host H --port P`` in a child process until the block ends."""
    if not port_is_free(host, port):
        raise ServerFailed(f"{host}:{port} is already in use; stop that server or pick --port")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", SERVE, "serve", "--host", host, "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(process, host, port, log_path, timeout)
            yield process
        finally:
            stop(process)


def _wait_ready(
    process: subprocess.Popen[bytes], host: str, port: int, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"hub serve exited with {process.returncode}:\n{_tail(log_path)}")
        if is_ready(host, port):
            return
        time.sleep(0.1)
    raise ServerFailed(f"hub serve not ready after {timeout:.0f}s:\n{_tail(log_path)}")


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the child."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()

"""The README's tour, run as written against a fresh ``hub demo`` (issue 14).

The ``sh`` blocks are read from ``README.md`` when the test runs, so the README and this
test cannot drift: change a command there and this runs the new one. The blocks of the
tour's sections run in order in one ``bash`` session (``set -euo pipefail``), as a reader
pastes them into a second terminal: from the project root, with ``HUB`` naming the server.

A block the reader should *see* but not run (another port, production) carries
``<!-- tour: skip -->`` on the line just above its fence; keep those few. Commands that
expect success use ``curl --fail-with-body`` (or ``-f``), and a command that expects a
refusal checks its status code itself (``-w '%{http_code}'``): a static check below holds
every ``curl`` in the tour to one of the two, so an unexpected status always fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.demo.server import SERVE, is_ready, stop
from tests.conftest import PROJECT
from tests.e2e.conftest import free_port

README = PROJECT / "README.md"
TOUR_SECTIONS = (
    "A five-minute tour",
    "Risk alerts",
    "Corrections, erasure and retention",
    "The partner client",
    "MARAC over the API",
)
SKIP_MARK = "<!-- tour: skip -->"
_FENCE = re.compile(r"^```sh\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def sections(readme: str) -> dict[str, str]:
    """The README's ``## `` sections by heading (subsections stay inside their section)."""
    parts = re.split(r"^## (.+)\n", readme, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def tour_blocks(readme: str) -> list[tuple[str, str]]:
    """``(section, script)`` for every runnable ``sh`` block of the tour, in README order."""
    found = sections(readme)
    blocks = []
    for name in TOUR_SECTIONS:
        assert name in found, f"README has no section {name!r}"
        body = found[name]
        for match in _FENCE.finditer(body):
            before = body[: match.start()].rstrip().splitlines()
            if before and before[-1].strip() == SKIP_MARK:
                continue
            blocks.append((name, match.group(1)))
    return blocks


def _curl_commands(script: str) -> list[str]:
    """Each ``curl`` invocation with its backslash-continued lines joined."""
    joined = script.replace("\\\n", " ")
    return [m.group(0) for m in re.finditer(r"curl\s[^\n]*", joined)]


def test_the_tour_is_extracted_and_every_curl_checks_its_status():
    blocks = tour_blocks(README.read_text(encoding="utf-8"))
    assert {name for name, _ in blocks} == set(TOUR_SECTIONS)
    assert len(blocks) >= 10
    curls = [c for _, script in blocks for c in _curl_commands(script)]
    assert curls
    for command in curls:
        checked = re.search(r"--fail-with-body|\s-[a-zA-Z]*f[a-zA-Z]*\s", command)
        explicit = "%{http_code}" in command
        assert checked or explicit, f"this curl would hide an unexpected status:\n{command}"


def _project_copy(tmp: Path) -> Path:
    """A fresh project root: policies/ and keys/ copied, the running venv as ``.venv``.

    Nothing is written into the work tree; ``hub demo`` creates ``instance/`` here.
    """
    project = tmp / "project"
    shutil.copytree(PROJECT / "policies", project / "policies")
    shutil.copytree(PROJECT / "keys", project / "keys")
    venv = Path(sys.prefix)
    if (venv / "bin" / "activate").exists():
        (project / ".venv").symlink_to(venv, target_is_directory=True)
    else:  # not a venv (e.g. a system install): activation only needs to put hub on PATH
        (project / ".venv" / "bin").mkdir(parents=True)
        (project / ".venv" / "bin" / "activate").write_text(
            f'export PATH="{Path(sys.executable).parent}:$PATH"\n', encoding="utf-8"
        )
    return project


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"hub demo exited:\n{log.read_text(errors='replace')}"
        if is_ready("127.0.0.1", port):
            return
        time.sleep(0.2)
    pytest.fail(f"hub demo not ready:\n{log.read_text(errors='replace')}")


@pytest.mark.slow
def test_readme_tour_runs_top_to_bottom_against_hub_demo(tmp_path: Path):
    project = _project_copy(tmp_path)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    # A newcomer's environment: no HUB_* settings but the issuer the tour tells them to set
    # for a port other than 8000 (the test cannot take 8000: a developer may be using it).
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_ISSUER"] = hub_url
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    blocks = tour_blocks(README.read_text(encoding="utf-8"))
    script = ["set -euo pipefail"]
    for number, (section, body) in enumerate(blocks, 1):
        script += [f"echo '--- tour block {number} ({section})' >&2", body]
    (tmp_path / "tour.sh").write_text("\n".join(script) + "\n", encoding="utf-8")

    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", SERVE, "demo", "--port", str(port)],
            cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(server, port, log)
            tour = subprocess.run(  # noqa: S603
                ["bash", str(tmp_path / "tour.sh")],  # noqa: S607
                cwd=project, env={**env, "HUB": hub_url}, capture_output=True, text=True,
                timeout=600, check=False,
            )
        finally:
            stop(server)
    output = f"stdout:\n{tour.stdout}\nstderr:\n{tour.stderr}"
    assert tour.returncode == 0, output
    assert "Traceback" not in tour.stdout + tour.stderr, output
    server_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in server_log, server_log
    assert "warning: HUB_ISSUER" not in server_log  # the issuer matched the port
    assert f"--- tour block {len(blocks)} " in tour.stderr  # every block ran

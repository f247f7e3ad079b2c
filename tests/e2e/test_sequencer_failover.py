"""Crash and failover under load, with real gunicorn masters (``hub serve``).

- crash: one gunicorn worker is SIGKILLed while clients keep sending; every referral that
  was acknowledged (201) is on the log with its index, and ``hub log verify`` passes.
- failover (PostgreSQL): two gunicorn masters on one database; the whole instance whose
  worker holds the sequencer's advisory lock is SIGKILLed under load; the other keeps
  acknowledging, nothing acknowledged is lost, and ``hub log verify`` passes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from hub.client_assertion import make_assertion
from hub.demo.server import background_hub
from hub.ledger import sequencer
from tests.conftest import PROJECT, _truncate, demo_private_jwk
from tests.e2e.conftest import ASSERTION_TYPE, free_port, hub_env, run_hub
from tests.sharing.conftest import KENT_REFERRAL

pytestmark = pytest.mark.slow

SENDER = "kent-csc"
SCOPES = "referrals:write referrals:read"


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; gunicorn's workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclasses.dataclass
class Load:
    """Clients sending referrals in a closed loop; what each instance acknowledged."""

    urls: list[str]
    token: str
    acknowledged: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)
    failed: int = 0
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)

    def run(self, url: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with requests.Session() as http:
            while not self.stop.is_set():
                try:
                    answer = http.post(
                        f"{url}/api/v1/referrals", json=KENT_REFERRAL, headers=headers, timeout=30
                    )
                except requests.RequestException:
                    self.failed += 1
                    time.sleep(0.05)
                    continue
                if answer.status_code == 201:
                    body = answer.json()
                    self.acknowledged.append((url, body["id"], body["receipt"]["index"]))
                else:
                    self.failed += 1

    def acknowledged_by(self, url: str) -> int:
        return sum(1 for u, _, _ in self.acknowledged if u == url)


@contextlib.contextmanager
def load(urls: list[str], token: str, per_url: int = 3) -> Iterator[Load]:
    state = Load(urls, token)
    threads = [
        threading.Thread(target=state.run, args=(url,), daemon=True)
        for url in urls
        for _ in range(per_url)
    ]
    for thread in threads:
        thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        for thread in threads:
            thread.join(60)


def _wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting under load"
        time.sleep(0.02)


def _token(base_url: str, issuer: str) -> str:
    assertion = make_assertion(
        SENDER, demo_private_jwk(SENDER), audience=f"{issuer}/oauth/token"
    )
    answer = requests.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": SCOPES,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _check_log(database_url: str, env: dict[str, str], load: Load) -> None:
    """Every acknowledged referral is released at the index its receipt named; the log
    verifies; nothing is left unsequenced once a batch has run."""
    assert load.acknowledged, "no referral was acknowledged"
    run_hub(env, "worker", "--once")  # sweeps what killed requests left unsequenced
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = {
                d: i for d, i in conn.execute(text("SELECT id, ledger_index FROM disclosures"))
            }
            assert conn.execute(text("SELECT count(*) FROM ledger_unsequenced")).scalar() == 0
            for _, disclosure_id, index in load.acknowledged:
                assert rows.get(disclosure_id) == index, disclosure_id
                entry = conn.execute(
                    text("SELECT entry FROM ledger_entries WHERE idx = :i"), {"i": index}
                ).scalar_one()
                assert f'"ref":"{disclosure_id}"'.encode() in bytes(entry)
    finally:
        engine.dispose()
    run_hub(env, "log", "verify", "--quiet")  # exits 0 only for a log that verifies


def _prepare(database_url: str, engine: Engine, tmp: Path, issuer: str) -> dict[str, str]:
    shutil.copytree(PROJECT / "policies", tmp / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp / "project" / "keys")
    env = hub_env(database_url, tmp, issuer)
    env.update(
        HUB_SERVER="gunicorn", HUB_WORKERS="2", HUB_THREADS="2", HUB_LOG_LEVEL="WARNING",
        HUB_CHECKPOINT_EVERY="16",
    )
    if not database_url.startswith("sqlite"):
        _truncate(engine)
    run_hub(env, "init")
    run_hub(env, "sync")
    return env


def test_killing_a_worker_under_load_loses_nothing_acknowledged(
    database_url: str, engine: Engine, tmp_path: Path
):
    shared = not database_url.startswith("sqlite")
    url = database_url if shared else f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _prepare(url, engine, tmp_path, base)
    try:
        with background_hub("127.0.0.1", port, env, tmp_path / "server.log") as master:
            workers = _children(master.pid)
            assert len(workers) == 2
            with load([base], _token(base, base)) as state:
                _wait_for(lambda: len(state.acknowledged) >= 20)
                _kill(workers[0])
                before = len(state.acknowledged)
                _wait_for(lambda: len(state.acknowledged) >= before + 20)
        _check_log(url, env, state)
    finally:
        if shared:
            _truncate(engine)


@pytest.mark.postgres
def test_failover_when_the_sequencing_instance_dies(
    database_url: str, engine: Engine, tmp_path: Path
):
    if database_url.startswith("sqlite"):
        pytest.skip("two hub instances share one PostgreSQL")
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    env = _prepare(database_url, engine, tmp_path, urls[0])  # one issuer for both
    try:
        with contextlib.ExitStack() as stack:
            masters = [
                stack.enter_context(
                    background_hub("127.0.0.1", port, env, tmp_path / f"server-{port}.log")
                )
                for port in ports
            ]
            with load(urls, _token(urls[0], urls[0])) as state:
                _wait_for(lambda: all(state.acknowledged_by(u) >= 10 for u in urls))
                victim = _leader(engine, masters)
                for pid in [victim.pid, *_children(victim.pid)]:
                    _kill(pid)
                survivor = urls[1 - masters.index(victim)]
                taken_over = state.acknowledged_by(survivor)
                _wait_for(lambda: state.acknowledged_by(survivor) >= taken_over + 30)
            victim.wait(30)
        _check_log(database_url, env, state)
    finally:
        _truncate(engine)


def _leader(engine: Engine, masters: list[Any]) -> Any:
    """The master whose worker holds the sequencer lock right now (polled under load)."""
    key = sequencer.LOCK_KEY
    query = text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = :high AND l.objid = :low"
    )
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            for (name,) in conn.execute(query, {"high": key >> 32, "low": key & 0xFFFFFFFF}):
                pid = int(str(name).removeprefix("hub:") or 0)
                for master in masters:
                    if pid in _children(master.pid):
                        return master
            conn.rollback()
    raise AssertionError("no hub process was seen leading a batch")

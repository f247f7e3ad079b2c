"""``hub-monitor`` against real hubs: trusted growth, and a split view caught.

Two hub processes share one signing key and one origin but keep separate databases, so they
sign two diverging histories: what a hub operator (or an intruder with the hub's key) would
need to show one partner one history and another partner another. Each partner's monitor
alone sees a consistent log; comparing notes (``--peer``) or being switched from one view to
the other (a proxy that forks) is caught, with a distinct exit code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger.checkpoint import verifier_key
from hub_client.monitor import Monitor
from hub_client_testing import (
    BAD_SIGNATURE,
    ERROR,
    INCONSISTENT,
    OK,
    SPLIT_VIEW,
    Hub,
    Proxy,
    grow,
    monitor,
    start_hub,
)

pytestmark = pytest.mark.slow

ORIGIN = "hub.test/fork-ledger"


@pytest.fixture(scope="module")
def forked(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Hub]]:
    """Hubs A and B: the same log key, origin and issuer (one hub's name), two histories."""
    tmp = tmp_path_factory.mktemp("fork")
    shared = {"HUB_HUB_KEY": str(tmp / "shared-hub-signing.key"), "HUB_ORIGIN": ORIGIN,
              "HUB_ISSUER": "http://localhost:8799"}
    with start_hub(backend, tmp / "a", env=shared) as a, start_hub(backend, tmp / "b", env=shared) as b:
        yield a, b


def size_of(hub: Hub) -> int:
    return hub.client("kent-police").checkpoint(hub.log_key()).size


def test_the_monitor_trusts_on_first_use_then_follows_consistent_growth(forked: tuple[Hub, Hub], tmp_path: Path):
    a, _ = forked
    state = tmp_path / "state.json"
    first = monitor(a.base_url, a, state)
    assert first.returncode == OK, first.stderr
    assert "first use" in first.stdout
    trusted = json.loads(state.read_text())
    assert trusted["origin"] == ORIGIN and trusted["note"].startswith(ORIGIN + "\n")
    grow(a)
    by_tiles = monitor(a.base_url, a, state)
    assert by_tiles.returncode == OK, by_tiles.stderr
    assert "consistency: tiles" in by_tiles.stdout
    assert json.loads(state.read_text())["size"] == trusted["size"] + 1
    grow(a)
    by_proof = monitor(a.base_url, a, state, "--no-tiles")
    assert by_proof.returncode == OK and "consistency: proof" in by_proof.stdout
    same = monitor(a.base_url, a, state)
    assert same.returncode == OK and "consistency: same" in same.stdout


def test_two_partners_comparing_notes_catch_the_split_view(forked: tuple[Hub, Hub], tmp_path: Path):
    a, b = forked
    one, two = tmp_path / "partner-one.json", tmp_path / "partner-two.json"
    assert monitor(a.base_url, a, one).returncode == OK  # each view alone looks fine
    assert monitor(b.base_url, b, two).returncode == OK
    grow(a)  # A is ahead: its tiles prove B's checkpoint is not a prefix of A's tree
    caught = monitor(a.base_url, a, one, "--peer", str(two))
    assert caught.returncode == SPLIT_VIEW, caught.stdout + caught.stderr
    assert "forked" in caught.stderr and "--- evidence ---" in caught.stderr
    # from B's side the hub cannot prove A's larger checkpoint extends what it shows
    behind = monitor(b.base_url, b, two, "--peer", str(one))
    assert behind.returncode == INCONSISTENT, behind.stdout + behind.stderr
    # a state left untouched by the alarms
    assert json.loads(one.read_text())["size"] < size_of(a)


def test_a_proxy_that_forks_is_caught_and_the_state_is_kept(forked: tuple[Hub, Hub], tmp_path: Path):
    a, b = forked
    state = tmp_path / "state.json"
    with Proxy(a.base_url) as proxy:
        assert monitor(proxy.url, a, state).returncode == OK
        before = state.read_text()
        grow(b, max(1, size_of(a) - size_of(b) + 2))  # B's history is now the longer one
        proxy.upstream = b.base_url  # the same URL now serves the other history
        by_tiles = monitor(proxy.url, a, state)
        assert by_tiles.returncode == SPLIT_VIEW, by_tiles.stdout + by_tiles.stderr
        by_proof = monitor(proxy.url, a, state, "--no-tiles")
        assert by_proof.returncode == INCONSISTENT, by_proof.stdout + by_proof.stderr
        assert state.read_text() == before
        # same size, different root: the plainest split view
        same_size = tmp_path / "same-size.json"
        proxy.upstream = a.base_url
        size_a, size_b = size_of(a), size_of(b)
        grow(a if size_a < size_b else b, abs(size_a - size_b))
        assert monitor(proxy.url, a, same_size).returncode == OK
        proxy.upstream = b.base_url
        plain = monitor(proxy.url, a, same_size)
        assert plain.returncode == SPLIT_VIEW, plain.stdout + plain.stderr
        assert "different roots" in plain.stderr


def test_a_log_that_shrinks_or_another_key_or_origin_is_refused(forked: tuple[Hub, Hub], tmp_path: Path):
    a, b = forked
    state = tmp_path / "state.json"
    grow(a, max(1, size_of(b) - size_of(a) + 1))  # A is now the larger tree
    assert monitor(a.base_url, a, state).returncode == OK
    with Proxy(b.base_url) as proxy:
        shrunk = monitor(proxy.url, a, state)
    assert shrunk.returncode == INCONSISTENT and "shrank" in shrunk.stderr
    # a genuine Ed25519 key under the log's name, but not the log's: nothing verifies
    impostor = verifier_key(ORIGIN, Ed25519PrivateKey.generate())
    refused = monitor(a.base_url, a, tmp_path / "x.json", key=impostor)
    assert refused.returncode == BAD_SIGNATURE and "no signature from the log" in refused.stderr
    wrong_origin = monitor(a.base_url, a, tmp_path / "y.json", "--origin", "hub.test/another-log")
    assert wrong_origin.returncode == BAD_SIGNATURE and "another-log" in wrong_origin.stderr
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "y.json").exists()
    garbage = monitor(a.base_url, a, tmp_path / "z.json", key="not-a-key")
    assert garbage.returncode == ERROR


def test_without_tiles_the_monitor_falls_back_to_the_consistency_proof_api(forked: tuple[Hub, Hub], tmp_path: Path):
    a, _ = forked
    state = tmp_path / "state.json"
    no_tiles = a.client("kent-police", tile_prefix="/api/v1/no-such-prefix")
    first = Monitor(no_tiles, a.log_key(), state).check()
    assert first.method == "first use"
    grow(a)
    second = Monitor(no_tiles, a.log_key(), state).check()
    assert second.method == "proof" and second.previous_size == first.checkpoint.size
    grow(a)
    third = Monitor(a.client("kent-police"), a.log_key(), state).check()
    assert third.method == "tiles"

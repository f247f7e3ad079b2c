"""The client against a hub with two real witnesses (``hub witness serve``): receipts verified
against a witnessed checkpoint, the monitor's quorum, and a split view the witnesses catch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_client import QuorumError, VerificationError, verify_cosignatures, verify_receipt
from hub_client_testing import (
    OK,
    RECEIPT,
    SHORT_QUORUM,
    SPLIT_VIEW,
    Hub,
    Proxy,
    Witness,
    monitor,
    referral,
    start_hub,
    witnessed_hub,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def witnessed(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, list[Witness]]]:
    with witnessed_hub(backend, tmp_path_factory.mktemp("witnessed")) as running:
        yield running


def witness_args(witnesses: list[Witness]) -> list[str]:
    return [arg for w in witnesses for arg in ("--witness", w.verifier_key)]


def test_a_receipt_verifies_against_a_checkpoint_both_witnesses_cosigned(witnessed: tuple[Hub, list[Witness]], tmp_path: Path):
    hub, witnesses = witnessed
    keys = [w.verifier_key for w in witnesses]
    sender = hub.client("kent-csc")
    sent = sender.send_referral(referral(f"Witnessed{uuid.uuid4().hex[:8]}"))
    hub.run("log", "checkpoint")  # signs if due and asks the witnesses
    note = sender.checkpoint_note()
    assert {c.witness for c in verify_cosignatures(note, keys)} == {w.name for w in witnesses}
    head = sender.verify_receipt(sent["receipt"], hub.log_key(), witnesses=keys, quorum=2)
    assert head.size > sent["receipt"]["index"]
    # the same check offline, with what the partner kept
    proof = sender.inclusion_proof(sent["receipt"]["index"], head.size)
    assert verify_receipt(sent["receipt"], hub.log_key(), checkpoint=note, inclusion=proof,
                          witnesses=keys, quorum=2) == head
    # a cosignature with one byte changed rejects the note; an unknown witness counts for nothing
    line = next(x for x in note.splitlines() if x.startswith("\u2014 witness.police.test/w1 "))
    flipped = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    with pytest.raises(VerificationError):
        verify_cosignatures(note.replace(line, flipped), keys)
    stranger = Witness("witness.stranger.test/w9", tmp_path / "w9", hub.log_key()).start()
    try:
        with pytest.raises(QuorumError):
            verify_receipt(sent["receipt"], hub.log_key(), checkpoint=note, inclusion=proof,
                           witnesses=[keys[0], stranger.verifier_key], quorum=2)
    finally:
        stranger.stop()
    state = tmp_path / "state.json"
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(sent["receipt"]))
    ok = monitor(hub.base_url, hub, state, *witness_args(witnesses), "--receipt", str(kept))
    assert ok.returncode == OK, ok.stderr
    assert "witness.police.test/w1" in ok.stdout and "witness.council.test/w2" in ok.stdout
    assert f"receipt {sent['receipt']['index']} included" in ok.stdout
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**sent["receipt"], "entry": {**sent["receipt"]["entry"], "purpose": "x"}}))
    refused = monitor(hub.base_url, hub, state, *witness_args(witnesses), "--receipt", str(forged))
    assert refused.returncode == RECEIPT and "does not verify" in refused.stderr


def test_one_witness_down_is_short_of_quorum_until_it_cosigns_again(witnessed: tuple[Hub, list[Witness]], tmp_path: Path):
    hub, witnesses = witnessed
    state = tmp_path / "state.json"
    hub.run("log", "checkpoint")
    assert monitor(hub.base_url, hub, state, *witness_args(witnesses)).returncode == OK
    keys = witness_args(witnesses)  # read while both answer
    trusted = state.read_text()
    witnesses[1].stop()
    try:
        hub.client("kent-csc").send_referral(referral(f"Down{uuid.uuid4().hex[:8]}"))
        hub.run("log", "checkpoint")
        short = monitor(hub.base_url, hub, state, *keys)
        assert short.returncode == SHORT_QUORUM, short.stdout + short.stderr
        assert "missing: witness.council.test/w2" in short.stderr
        assert state.read_text() == trusted  # not trusted, so not kept
        one_of_two = monitor(hub.base_url, hub, state, *keys, "--quorum", "1")
        assert one_of_two.returncode == OK, one_of_two.stderr
    finally:
        witnesses[1].start()
    hub.run("log", "checkpoint")  # the hub asks again; the witness catches up with a proof
    back = monitor(hub.base_url, hub, state, *keys)
    assert back.returncode == OK, back.stdout + back.stderr


def test_a_split_view_is_caught_by_the_witnesses(backend: str, tmp_path: Path):
    """Hub B signs another history with hub A's key. The witnesses cosigned A's; they refuse
    B's, and a first-time monitor shown B's view sees it differ from what they cosigned."""
    shared = {"HUB_HUB_KEY": str(tmp_path / "shared.key"), "HUB_ORIGIN": "hub.test/witnessed",
              "HUB_ISSUER": "http://localhost:8798"}
    with witnessed_hub(backend, tmp_path / "a", env=shared) as (a, witnesses):
        a.run("log", "checkpoint")
        keys = witness_args(witnesses)
        with start_hub(backend, tmp_path / "b" / "hub", env=shared) as b:
            sender = b.client("kent-csc")
            for _ in range(3):
                sender.send_referral(referral(f"Fork{uuid.uuid4().hex[:8]}"))
            b.env["HUB_WITNESSES"] = a.env["HUB_WITNESSES"]
            b.env["HUB_WITNESS_QUORUM"] = "2"
            b.run("log", "checkpoint")  # B asks the same witnesses: both refuse its fork
            forked_note = sender.checkpoint_note()
            assert not verify_cosignatures(forked_note, [w.verifier_key for w in witnesses])
            with Proxy(b.base_url) as proxy:  # a partner shown B's history
                fresh = tmp_path / "fresh.json"
                short = monitor(proxy.url, a, fresh, *keys)
                assert short.returncode == SHORT_QUORUM
                caught = monitor(proxy.url, a, fresh, *keys,
                                 *[x for w in witnesses for x in ("--witness-url", w.url)])
                assert caught.returncode == SPLIT_VIEW, caught.stdout + caught.stderr
                assert not fresh.exists()
        honest = monitor(a.base_url, a, tmp_path / "honest.json", *keys,
                         *[x for w in witnesses for x in ("--witness-url", w.url)])
        assert honest.returncode == OK, honest.stderr
        assert json.loads((tmp_path / "honest.json").read_text())["origin"] == "hub.test/witnessed"

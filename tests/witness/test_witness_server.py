"""``hub witness serve`` as a real process: concurrent submissions cannot roll it back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger import merkle
from hub.ledger.checkpoint import checkpoint_body, sign_note, verifier_key
from hub.witness.protocol import build_request
from tests.witness.conftest import WitnessProcess, free_port

ORIGIN = "hub.test/concurrent"


def test_concurrent_add_checkpoint_is_atomic(tmp_path):
    key = Ed25519PrivateKey.generate()
    witness = WitnessProcess("witness.test/c", free_port(), tmp_path / "w", verifier_key(ORIGIN, key))
    witness.start()
    try:
        leaves = [merkle.leaf_hash(bytes([i])) for i in range(16)]

        def submit(size: int) -> tuple[int, int]:
            note = sign_note(checkpoint_body(ORIGIN, size, merkle.root_from_leaves(leaves[:size])),
                             ORIGIN, key)  # fmt: skip
            answer = requests.post(f"{witness.url}/add-checkpoint",
                                   data=build_request(0, [], note), timeout=30)  # fmt: skip
            return size, answer.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(submit, range(1, 17)))
        winners = [size for size, status in results if status == 200]
        # every request claimed "old 0": exactly one may win, every other sees its size
        assert len(winners) == 1
        assert sorted(status for _, status in results) == [200] + [409] * 15
        for size, status in results:
            if status == 409:
                again = submit(size)
                assert again[1] == 409
        stale = requests.post(f"{witness.url}/add-checkpoint", data=build_request(
            0, [], sign_note(checkpoint_body(ORIGIN, 1, leaves[0]), ORIGIN, key)), timeout=30)
        assert stale.text == f"{winners[0]}\n"
    finally:
        witness.stop()

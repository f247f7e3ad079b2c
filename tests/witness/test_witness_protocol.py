"""The witness's answers, status by status, as C2SP tlog-witness says (real signatures)."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger import merkle
from hub.ledger.checkpoint import checkpoint_body, sign_note, verifier_key
from hub.ledger.verify import verify_checkpoint
from hub.witness.app import create_witness_app
from hub.witness.config import WitnessConfigError, load_config
from hub.witness.cosignature import (
    CosignatureError,
    cosign,
    cosigner_verifier_key,
    parse_cosigner_key,
    verify_cosignatures,
)
from hub.witness.protocol import MalformedRequest, build_request, parse_request

ORIGIN = "hub.test/ledger"
NAME = "witness.test/w1"
LOG_KEY = Ed25519PrivateKey.generate()
LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(40)]


def note(leaves, key=LOG_KEY, origin=ORIGIN, root=None):
    size = len(leaves)
    body = checkpoint_body(origin, size, root or merkle.root_from_leaves(leaves))
    return sign_note(body, origin, key)


def proof(first, leaves):
    return merkle.consistency_path(first, leaves) if first else []


@pytest.fixture
def witness(tmp_path):
    config = load_config(name=NAME, state_dir=tmp_path / "w", logs=[verifier_key(ORIGIN, LOG_KEY)])
    client = create_witness_app(config).test_client()

    def post(old, hashes, checkpoint):
        return client.post("/add-checkpoint", data=build_request(old, hashes, checkpoint))

    post.config = config  # type: ignore[attr-defined]
    post.client = client  # type: ignore[attr-defined]
    return post


def test_cosignature_v1_format_is_the_specs():
    key = Ed25519PrivateKey.generate()
    text = checkpoint_body(ORIGIN, 3, merkle.root_from_leaves(LEAVES[:3]))
    line = cosign(text, NAME, key, timestamp=1679315147)
    name, blob = line[2:].rstrip("\n").split(" ")
    raw = base64.b64decode(blob)
    public = parse_cosigner_key(cosigner_verifier_key(NAME, key)).public_key
    pk = public.public_bytes_raw()
    assert name == NAME and len(raw) == 4 + 8 + 64
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + pk).digest()[:4]
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    public.verify(raw[12:], f"cosignature/v1\ntime 1679315147\n{text}".encode())  # raises if not
    (found,) = verify_cosignatures(text, [line], [cosigner_verifier_key(NAME, key)])
    assert found.timestamp == 1679315147
    # unknown keys are ignored; a known key's bad signature is refused
    other = Ed25519PrivateKey.generate()
    assert verify_cosignatures(text, [line], [cosigner_verifier_key("other.test/w", other)]) == []
    forged = text.replace("\n3\n", "\n4\n")
    with pytest.raises(CosignatureError):
        verify_cosignatures(forged, [line], [cosigner_verifier_key(NAME, key)])
    with pytest.raises(CosignatureError):
        cosign(text, NAME, key, timestamp=0)
    # a note (0x01) key is not a cosigner key
    with pytest.raises(CosignatureError):
        parse_cosigner_key(verifier_key(NAME, key))


def test_request_body_round_trips_and_malformed_is_refused():
    body = build_request(5, proof(5, LEAVES[:9]), note(LEAVES[:9]))
    parsed = parse_request(body)
    assert parsed.old_size == 5 and list(parsed.proof) == proof(5, LEAVES[:9])
    for bad in (b"old 05\n\n" + note(LEAVES).encode(), b"old 1\n" + note(LEAVES).encode(),
                b"new 1\n\n" + note(LEAVES).encode(), b"old 1\nnotbase64!\n\nx\n",
                b"old 1\n" + b"AAAA\n" + b"\n" + note(LEAVES).encode(),
                b"old 0\n" + b"".join([base64.b64encode(bytes(32)) + b"\n"] * 64) + b"\n x\n",
                b"\xff\xfe\n\n"):  # fmt: skip
        with pytest.raises(MalformedRequest):
            parse_request(bad)


def test_cosigns_the_first_checkpoint_then_only_consistent_ones(witness):
    first = witness(0, [], note(LEAVES[:5]))
    assert first.status_code == 200
    line = first.get_data(as_text=True)
    text = checkpoint_body(ORIGIN, 5, merkle.root_from_leaves(LEAVES[:5]))
    (cosig,) = verify_cosignatures(text, [line], [witness.config.verifier_key])
    assert cosig.timestamp > 0

    stale = witness(0, [], note(LEAVES[:5]))
    assert stale.status_code == 409
    assert stale.get_data() == b"5\n" and stale.content_type == "text/x.tlog.size"

    grown = witness(5, proof(5, LEAVES[:12]), note(LEAVES[:12]))
    assert grown.status_code == 200
    same = witness(12, [], note(LEAVES[:12]))
    assert same.status_code == 200  # the same checkpoint again is cosigned again

    # the monitoring endpoint serves the latest, with the log's signature and ours
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    served = witness.client.get(f"/{origin_hash}/checkpoint").get_data(as_text=True)
    assert verify_checkpoint(served, verifier_key(ORIGIN, LOG_KEY)).size == 12
    assert verify_cosignatures(served.split("\n\n")[0] + "\n", served.split("\n\n")[1],
                               [witness.config.verifier_key])  # fmt: skip
    assert witness.client.get(f"/{'0' * 64}/checkpoint").status_code == 404


def test_refuses_a_forked_history_and_keeps_the_evidence(witness):
    assert witness(0, [], note(LEAVES[:8])).status_code == 200
    fork = [*LEAVES[:6], merkle.leaf_hash(b"rewritten"), *LEAVES[7:20]]
    # a proof built over the forked tree does not connect to the root we cosigned
    forked = witness(8, proof(8, fork), note(fork))
    assert forked.status_code == 422
    same_size_other_root = witness(8, [], note(fork[:8]))
    assert same_size_other_root.status_code == 422
    assert witness(8, proof(8, LEAVES[:20])[:-1], note(LEAVES[:20])).status_code == 422
    assert [e.size for e in witness.config.state.evidence()] == [20, 8, 20]
    assert witness.config.state.latest(ORIGIN).size == 8  # nothing moved
    assert witness(8, proof(8, LEAVES[:20]), note(LEAVES[:20])).status_code == 200


def test_status_codes_for_bad_requests(witness):
    stranger = Ed25519PrivateKey.generate()
    assert witness(0, [], note(LEAVES[:3], origin="other.test/log")).status_code == 404
    assert witness(0, [], note(LEAVES[:3], key=stranger)).status_code == 403
    good = note(LEAVES[:3])
    tampered = good.replace("\n3\n", "\n4\n", 1)
    assert witness(0, [], tampered).status_code == 403  # trusted key, signature fails
    assert witness(4, [], good).status_code == 400  # old size above the checkpoint's
    assert witness(0, [], note([], root=merkle.leaf_hash(b"x"))).status_code == 422
    assert witness(0, proof(1, LEAVES[:3]), good).status_code == 422  # proof from size 0
    assert witness.client.post("/add-checkpoint", data=b"garbage").status_code == 400
    assert witness.client.get("/add-checkpoint").status_code == 405
    assert witness.config.state.latest(ORIGIN) is None
    assert witness(0, [], note([])).status_code == 200  # the empty tree, properly rooted


def test_configuration_is_checked(tmp_path):
    with pytest.raises(WitnessConfigError, match="--log"):
        load_config(name=NAME, state_dir=tmp_path, logs=[])
    with pytest.raises(WitnessConfigError, match="--name"):
        load_config(name="bad name", state_dir=tmp_path, logs=[verifier_key(ORIGIN, LOG_KEY)])
    demo = tmp_path / "demo" / "witness.key"
    with pytest.raises(WitnessConfigError, match="demo keys"):
        load_config(name=NAME, state_dir=tmp_path, logs=[verifier_key(ORIGIN, LOG_KEY)],
                    key_path=demo, production=True)  # fmt: skip
    config = load_config(name=NAME, state_dir=tmp_path / "s", logs=[verifier_key(ORIGIN, LOG_KEY)])
    assert (tmp_path / "s" / "witness.key").stat().st_mode & 0o777 == 0o600
    again = load_config(name=NAME, state_dir=tmp_path / "s", logs=[f"{ORIGIN} {verifier_key(ORIGIN, LOG_KEY)}"])
    assert again.verifier_key == config.verifier_key  # the key is kept across restarts

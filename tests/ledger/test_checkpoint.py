"""Signed notes and checkpoints: known answers, an independent verifier, never a fork."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import VerifyKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.ledger import checkpoint, merkle, store, verify
from hub.ledger.errors import InconsistentCheckpoint
from hub.ledger.models import LedgerCheckpoint
from tests.ledger.conftest import ORIGIN, sample_event

# golang.org/x/mod/sumdb/note, note_test.go (commit 02c991387e35f9e4c0a9b7ce137717055f8d716d):
# TestNewSigner/TestSign/TestOpen. The private key string is PRIVATE+KEY+name+id+base64(0x01||seed).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
GO_PETER_SIG = f"— PeterNeumann {GO_PETER_B64}\n"
GO_ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
GO_ENOCH_SIG = f"— EnochRoot {GO_ENOCH_B64}\n"


def _go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[-1])[1:]
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_signing_reproduces_go_sumdb_note_vectors() -> None:
    key = _go_key()
    assert checkpoint.verifier_key("PeterNeumann", key) == GO_VKEY
    assert checkpoint.sign_note(GO_TEXT, "PeterNeumann", key) == GO_TEXT + "\n" + GO_PETER_SIG


def test_open_note_go_vectors() -> None:
    both = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    assert verify.open_note(both, GO_VKEY) == GO_TEXT  # Enoch's signature: unknown key, ignored
    assert verify.open_note(both, [GO_VKEY, GO_ENOCH_VKEY]) == GO_TEXT
    with pytest.raises(verify.VerificationError):
        verify.open_note(both, [])
    tampered = GO_TEXT + "\n" + GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    with pytest.raises(verify.VerificationError, match="invalid signature"):
        verify.open_note(tampered, GO_VKEY)
    for bad in (
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        GO_TEXT + f"\n— Bad Name {GO_PETER_B64}",
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
    ):
        with pytest.raises(verify.VerificationError):
            verify.open_note(bad, GO_VKEY)


def test_verifier_key_manglings_are_refused() -> None:
    verify.parse_verifier_key(GO_VKEY)
    for bad in (
        GO_VKEY[:-1],
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    ):
        with pytest.raises(verify.VerificationError):
            verify.parse_verifier_key(bad)


def test_ensure_signing_key_creates_a_private_file_once(tmp_path) -> None:
    path = tmp_path / "instance" / "hub-signing.key"
    key = checkpoint.ensure_signing_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = checkpoint.ensure_signing_key(path)
    assert checkpoint.verifier_key("x", again) == checkpoint.verifier_key("x", key)


def _independent_verify(note: str, vkey: str) -> tuple[str, int, bytes]:
    """Check a checkpoint per C2SP signed-note/tlog-checkpoint with PyNaCl and hashlib only."""
    name, key_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    assert raw[0] == 1
    assert hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4].hex() == key_hex
    text, signatures = note.rsplit("\n\n", 1)
    text += "\n"
    [line] = signatures.splitlines()
    dash, signer, sig_b64 = line.split(" ")
    assert dash == "\u2014" and signer == name
    blob = base64.b64decode(sig_b64)
    assert blob[:4].hex() == key_hex
    VerifyKey(raw[1:]).verify(text.encode(), blob[4:])  # raises nacl BadSignatureError if bad
    origin, size, root_b64, end = text.split("\n")
    assert end == ""
    return origin, int(size), base64.b64decode(root_b64)


def test_checkpoint_verifies_with_pynacl(session: Session, signing_key) -> None:
    store.append_entries(session, [sample_event(i) for i in range(11)])
    cp = checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    session.commit()
    vkey = checkpoint.verifier_key(ORIGIN, signing_key)
    assert _independent_verify(cp.note, vkey) == (ORIGIN, 11, store.root_hash(session))
    parsed = verify.verify_checkpoint(cp.note, vkey, origin=ORIGIN)
    assert (parsed.size, parsed.root_hash) == (11, cp.root_hash)


def test_signing_again_without_appends_returns_the_same_checkpoint(
    session: Session, signing_key
) -> None:
    empty = checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    assert (empty.tree_size, empty.root_hash) == (0, merkle.EMPTY_ROOT)
    store.append_entry(session, sample_event(0))
    first = checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    assert checkpoint.sign_checkpoint(session, signing_key, ORIGIN) is first
    session.commit()
    assert session.scalar(select(func.count()).select_from(LedgerCheckpoint)) == 2


def _bypass_triggers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerCheckpoint)) or 0


def test_fork_is_never_signed(session: Session, signing_key) -> None:
    """History rewritten consistently (entries, nodes, head) does not extend the last checkpoint."""
    store.append_entries(session, [sample_event(i) for i in range(20)])
    checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    session.commit()
    _bypass_triggers(session)
    forged = b'{"forged":true}'
    session.execute(
        text("UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE idx = 3"),
        {"e": forged, "h": merkle.leaf_hash(forged)},
    )
    leaves = [
        bytes(h)
        for (h,) in session.execute(text("SELECT leaf_hash FROM ledger_entries ORDER BY idx"))
    ]
    frontier = merkle.Frontier()
    for leaf in leaves:
        for level, idx, value in frontier.append(leaf):
            session.execute(
                text("UPDATE ledger_nodes SET hash = :h WHERE level = :l AND idx = :i"),
                {"h": value, "l": level, "i": idx},
            )
    session.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier.to_bytes()})
    session.commit()
    store.append_entries(session, [sample_event(i) for i in range(5)])
    with pytest.raises(
        InconsistentCheckpoint, match="not consistent with the checkpoint signed at size 20"
    ):
        checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    session.rollback()
    assert _count(session) == 1


def test_head_and_stored_subtrees_disagreeing_is_never_signed(
    session: Session, signing_key
) -> None:
    store.append_entries(session, [sample_event(i) for i in range(16)])
    session.commit()
    _bypass_triggers(session)
    session.execute(
        text("UPDATE ledger_nodes SET hash = :h WHERE level = 4 AND idx = 0"), {"h": b"\1" * 32}
    )
    session.commit()
    with pytest.raises(InconsistentCheckpoint, match="recomputed from stored subtrees"):
        checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    session.rollback()
    assert _count(session) == 0


def test_maybe_checkpoint_signs_every_n_entries_or_after_t_seconds(
    session: Session, signing_key
) -> None:
    policy = {"every": 5, "interval": 60}
    assert checkpoint.maybe_checkpoint(session, signing_key, ORIGIN, **policy) is None
    store.append_entries(session, [sample_event(i) for i in range(4)])
    assert checkpoint.maybe_checkpoint(session, signing_key, ORIGIN, **policy) is None
    store.append_entry(session, sample_event(4))
    assert checkpoint.maybe_checkpoint(session, signing_key, ORIGIN, **policy).tree_size == 5
    store.append_entry(session, sample_event(5))
    assert checkpoint.maybe_checkpoint(session, signing_key, ORIGIN, **policy) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
    cp = checkpoint.maybe_checkpoint(session, signing_key, ORIGIN, now=later, **policy)
    assert cp is not None and cp.tree_size == 6
    session.commit()


def test_key_names_with_spaces_or_plus_are_refused(signing_key) -> None:
    for name in ("", "a b", "a+b"):
        with pytest.raises(Exception, match="key name"):
            checkpoint.verifier_key(name, signing_key)

"""The service layer the routes use, checked end to end with the offline verifier."""

from __future__ import annotations

import base64
import json

import pytest
import rfc8785
from sqlalchemy.orm import Session

from hub.ledger import checkpoint, service, store, verify
from hub.ledger.access import HUB
from hub.ledger.errors import IndexOutOfRange, NoCheckpoint
from tests.ledger.conftest import ORIGIN, sample_event


def test_partner_verifies_entries_and_consistency_offline(session: Session, signing_key) -> None:
    with pytest.raises(NoCheckpoint):
        service.latest_checkpoint_note(session)
    store.append_entries(session, [sample_event(i) for i in range(7)])
    old_note = checkpoint.sign_checkpoint(session, signing_key, ORIGIN).note
    store.append_entries(session, [sample_event(i) for i in range(7, 30)])
    checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    session.commit()

    vkey = service.log_verifier_key(signing_key, ORIGIN)
    new = verify.verify_checkpoint(service.latest_checkpoint_note(session), vkey, origin=ORIGIN)
    old = verify.verify_checkpoint(old_note, vkey, origin=ORIGIN)

    view = service.entry_view(session, 12, HUB)
    assert set(view) == {"index", "format", "entry", "leaf_hash", "salts", "digests"}
    assert view["entry"]["type"] == "disclosure" and view["format"] == 2
    proof = service.inclusion_view(session, 12, new.size)
    assert proof["index"] == 12 and proof["tree_size"] == 30
    leaf = verify.verify_entry_view(view)
    verify.verify_inclusion(new, 12, leaf, proof["hashes"])
    with pytest.raises(verify.VerificationError):
        verify.verify_inclusion(new, 13, leaf, proof["hashes"])
    with pytest.raises(verify.VerificationError):  # a format 2 leaf is not over the entry
        verify.verify_entry(new, 12, rfc8785.dumps(view["entry"]), proof["hashes"])

    consistency = service.consistency_view(session, old.size, new.size)
    assert consistency["from"] == 7 and consistency["to"] == 30
    verify.verify_consistency(old, new, consistency["hashes"])
    bad = list(consistency["hashes"])
    bad[0] = base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(verify.VerificationError):
        verify.verify_consistency(old, new, bad)
    with pytest.raises(verify.VerificationError):
        verify.verify_consistency(new, old, consistency["hashes"])


def test_receipt_includes_proof_once_a_checkpoint_covers_the_entry(
    session: Session, signing_key
) -> None:
    entry = store.append_entry(session, sample_event(0))
    fresh = service.receipt(session, entry.index, HUB)
    assert set(fresh) == {"index", "format", "entry", "leaf_hash", "salts", "digests"}
    checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
    store.append_entry(session, sample_event(1))
    receipt = service.receipt(session, entry.index, HUB)
    session.commit()
    cp = verify.verify_checkpoint(
        receipt["checkpoint"], service.log_verifier_key(signing_key, ORIGIN)
    )
    verify.verify_inclusion(
        cp, receipt["index"], receipt["leaf_hash"], receipt["inclusion"]["hashes"]
    )
    assert verify.verify_receipt(receipt, service.log_verifier_key(signing_key, ORIGIN)) == cp
    assert json.loads(store.get_entry(session, 0).entry)["type"] == "disclosure"


def test_bad_indexes_are_domain_errors(session: Session) -> None:
    store.append_entries(session, [sample_event(i) for i in range(3)])
    session.commit()
    for call in (
        lambda: service.entry_view(session, 3, HUB),
        lambda: service.entry_view(session, -1, HUB),
        lambda: service.leaf_view(session, 3),
        lambda: service.inclusion_view(session, 5, 3),
        lambda: service.inclusion_view(session, 0, 9),
        lambda: service.consistency_view(session, 3, 2),
        lambda: service.consistency_view(session, 1, 4),
    ):
        with pytest.raises(IndexOutOfRange):
            call()


def test_verify_module_has_no_hub_dependencies(tmp_path) -> None:
    """A partner copies verify.py, merkle.py and salted.py side by side and nothing else."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ledger = Path(verify.__file__).parent
    for name in ("verify.py", "merkle.py", "salted.py"):
        shutil.copy(ledger / name, tmp_path / name)
    code = (
        "import sys, verify; assert 'sqlalchemy' not in sys.modules and 'flask' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr

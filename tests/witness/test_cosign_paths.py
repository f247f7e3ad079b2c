"""Where the hub asks its witnesses (``hub worker``, ``hub log checkpoint``) and what it
refuses to store: a witness's answer is checked like any other untrusted input."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub import db
from hub.delivery.admin import run_worker
from hub.delivery.signing import ensure_webhook_key
from hub.ledger import store
from hub.ledger.checkpoint import ensure_signing_key, sign_checkpoint
from hub.operations import checkpoint_now
from hub.witness.collect import Reply, cosignatures_for, request_cosignatures
from hub.witness.cosignature import cosign
from tests.ledger.conftest import sample_event


def _append(app, count: int, start: int = 0) -> None:
    with app.app_context():
        session = db.session()
        store.append_entries(session, [sample_event(start + i) for i in range(count)])
        session.commit()


def test_hub_worker_asks_the_witnesses_for_each_new_checkpoint(app, settings, witness_keys):
    ensure_webhook_key(settings.webhook_key_file)
    _append(app, 3)
    with app.app_context():
        session = db.session()
        sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()
    run_worker(settings, once=True)
    with app.app_context():
        session = db.session()
        latest = store.latest_checkpoint(session)
        assert {c.witness for c in cosignatures_for(session, latest.tree_size)} == set(witness_keys)


def test_hub_log_checkpoint_prints_the_cosigned_note(app, settings, witness_keys):
    _append(app, 4)
    note = checkpoint_now(settings)
    names = {line.split(" ")[1] for line in note.splitlines() if line.startswith("\u2014")}
    assert names == {settings.log_origin, *witness_keys}


def test_a_witness_answer_that_does_not_verify_is_not_stored(app, settings, witnesses):
    _append(app, 2)
    with app.app_context():
        session = db.session()
        checkpoint = sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()
        text = checkpoint.note[: checkpoint.note.rfind("\n\n") + 1]
        other_text = text.replace(f"\n{checkpoint.tree_size}\n", f"\n{checkpoint.tree_size + 1}\n")
        impostor = Ed25519PrivateKey.generate()
        witness_key = ensure_signing_key(witnesses[0].state / "witness.key")
        name = witnesses[0].name
        answers = {
            "garbage": b"not a signature line\n",
            "impostor key": cosign(text, name, impostor).encode(),
            # the witness's real key, but over a checkpoint we did not send
            "another checkpoint": cosign(other_text, name, witness_key).encode(),
            "huge": b"\xe2\x80\x94 " + name.encode() + b" " + base64.b64encode(bytes(20000)) + b"\n",
        }
        sent = []

        def fake(url: str, body: bytes, timeout: float) -> Reply:
            sent.append(url)
            return Reply(200, answers[current], "text/plain")

        for current in answers:
            result = request_cosignatures(session, settings, checkpoint, send=fake)
            assert not result.met and result.cosigned == ()
            assert {o.reason for o in result.outcomes} == {"bad_cosignature"}, current
        assert cosignatures_for(session, checkpoint.tree_size) == []
        assert all(url.endswith("/add-checkpoint") for url in sent)


def test_a_cosignature_stored_meanwhile_by_another_caller_is_not_an_error(app, settings):
    from hub.db import make_sessionmaker, utcnow
    from hub.witness.collect import post
    from hub.witness.models import LedgerCosignature

    _append(app, 2)
    with app.app_context():
        session = db.session()
        checkpoint = sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()
        other = make_sessionmaker(app.extensions["hub.engine"])
        first = settings.witnesses[0]

        def racing(url: str, body: bytes, timeout: float) -> Reply:
            reply = post(url, body, timeout)
            if url.startswith(first.url):  # the worker stores the same answer first
                with other() as meanwhile:
                    meanwhile.add(LedgerCosignature(
                        tree_size=checkpoint.tree_size, witness=first.name,
                        line=reply.body.decode(), timestamp=1, received_at=utcnow()))
                    meanwhile.commit()
            return reply

        result = request_cosignatures(session, settings, checkpoint, send=racing)
        assert result.met
        assert len(cosignatures_for(session, checkpoint.tree_size)) == 2

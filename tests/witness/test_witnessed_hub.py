"""Two witnesses and the hub, over real HTTP with real signatures (issue 12).

Quorum met; one witness down (served short of quorum, alert raised, red in the DPO
console's ledger health, then healed by the worker's retry); a forked history presented to a
witness is refused; and a split view — a second database signed with the same hub key — is
caught because no witness will cosign it.
"""

from __future__ import annotations

import hashlib

import requests
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from hub import db
from hub.audit import health
from hub.audit.models import LedgerCheckRun
from hub.db import Base, make_engine, make_sessionmaker
from hub.ledger import merkle, store, verify
from hub.ledger.checkpoint import checkpoint_body, ensure_signing_key, sign_checkpoint, sign_note
from hub.ledger.models import LedgerCheckpoint
from hub.witness.collect import CosignTicker, request_cosignatures
from hub.witness.cosignature import verify_cosignatures
from hub.witness.protocol import build_request
from tests.ledger.conftest import LEDGER_TABLES, sample_event
from tests.witness.conftest import ISSUER_ORIGIN


def _append_and_sign(app, count: int, start: int = 0) -> LedgerCheckpoint:
    with app.app_context():
        session = db.session()
        store.append_entries(session, [sample_event(start + i) for i in range(count)])
        checkpoint = sign_checkpoint(session, app.extensions["hub.signing_key"],
                                     app.config["HUB_SETTINGS"].log_origin)  # fmt: skip
        session.commit()
        session.expunge(checkpoint)
        return checkpoint


def _cosign(app, checkpoint):
    with app.app_context():
        return request_cosignatures(db.session(), app.config["HUB_SETTINGS"], checkpoint)


def _served(client, auth):
    response = client.get("/api/v1/log/checkpoint", headers=auth("kent-police"))
    assert response.status_code == 200
    return response.get_data(as_text=True), response.headers.get("Hub-Witness-Quorum")


def _trusted_cosigners(note: str, keys: dict[str, str]) -> set[str]:
    """What a partner does: the hub's signature, then the witness lines it trusts."""
    cut = note.rfind("\n\n")
    text, block = note[: cut + 1], note[cut + 2 :]
    return {c.name for c in verify_cosignatures(text, block, keys.values())}


def test_quorum_met_then_extended(app, client, auth, witnesses, witness_keys, settings):
    hub_key = client.get("/api/v1/log/key", headers=auth("kent-police")).get_data(as_text=True)
    listed = client.get("/api/v1/log/witnesses", headers=auth("kent-police")).get_json()
    assert listed["quorum"] == 2
    assert {w["name"]: w["verifier_key"] for w in listed["witnesses"]} == witness_keys
    first = _append_and_sign(app, 5)
    result = _cosign(app, first)
    assert result.met and set(result.cosigned) == set(witness_keys)
    note, header = _served(client, auth)
    assert header == "met; cosigned=2; needed=2; witnesses=2"
    assert verify.verify_checkpoint(note, hub_key.strip()).size == first.tree_size
    assert _trusted_cosigners(note, witness_keys) == set(witness_keys)

    # the next checkpoint is cosigned from the size each witness last cosigned
    second = _append_and_sign(app, 300, start=5)
    assert _cosign(app, second).met
    note, header = _served(client, auth)
    assert verify.verify_checkpoint(note, hub_key.strip()).size == second.tree_size
    assert _trusted_cosigners(note, witness_keys) == set(witness_keys)
    origin_hash = hashlib.sha256(ISSUER_ORIGIN.encode()).hexdigest()
    for witness in witnesses:
        latest = requests.get(f"{witness.url}/{origin_hash}/checkpoint", timeout=5).text
        assert verify.verify_checkpoint(latest, hub_key.strip()).size == second.tree_size
        assert _trusted_cosigners(latest, witness_keys) == {witness.name}
    # receipts carry their checkpoint's cosignatures too
    with app.app_context():
        session = db.session()
        from hub.ledger.access import Reader
        from hub.ledger.service import receipt

        got = receipt(session, first.tree_size - 1, Reader("kent-police", audit=True))
    assert _trusted_cosigners(got["checkpoint"], witness_keys) == set(witness_keys)


def test_one_witness_down_is_served_short_alerted_and_healed(
    app, client, auth, witnesses, witness_keys, signed_in_client
):
    first = _append_and_sign(app, 3)
    assert _cosign(app, first).met
    down = witnesses[1]
    down.stop()
    second = _append_and_sign(app, 4, start=3)
    ticker = CosignTicker(app.config["HUB_SETTINGS"])
    with structlog.testing.capture_logs() as logs:
        result = ticker(make_sessionmaker(app.extensions["hub.engine"]))
    assert result is not None and not result.met
    assert result.missing == (down.name,)
    assert {o.witness: o.reason for o in result.outcomes}[down.name] == "unreachable"
    short = [e for e in logs if e["event"] == "witness_quorum_short"]
    assert short and short[0]["missing"] == [down.name] and short[0]["tree_size"] == second.tree_size

    note, header = _served(client, auth)
    assert header == "short; cosigned=1; needed=2; witnesses=2"
    assert _trusted_cosigners(note, witness_keys) == {witnesses[0].name}

    page = signed_in_client("hub_dpo").get("/console/dpo/ledger").get_data(as_text=True)
    assert "Witness cosignatures" in page and "SHORT OF QUORUM" in page
    assert f"missing {down.name}" in page and "unreachable" in page
    assert 'id="short-of-quorum"' in page
    with app.app_context():
        report = _health(app)
    light = next(lt for lt in report.lights if lt.name == "Witness cosignatures")
    assert light.state == health.RED and report.overall == health.RED
    assert report.short_of_quorum == 1

    # the witness comes back; the worker's retry catches it up from what it last cosigned
    down.start()
    ticker._last = None  # noqa: SLF001 - skip the retry interval rather than sleep through it
    healed = ticker(make_sessionmaker(app.extensions["hub.engine"]))
    assert healed is not None and healed.met
    assert _served(client, auth)[1] == "met; cosigned=2; needed=2; witnesses=2"
    with app.app_context():
        report = _health(app)
    light = next(lt for lt in report.lights if lt.name == "Witness cosignatures")
    assert light.state == health.GREEN and report.short_of_quorum == 0


def _health(app):
    settings = app.config["HUB_SETTINGS"]
    policy = health.WitnessPolicy(tuple(w.name for w in settings.witnesses),
                                  settings.witness_quorum_needed)  # fmt: skip
    from hub.ledger.service import log_verifier_key

    key = log_verifier_key(app.extensions["hub.signing_key"], settings.log_origin)
    return health.ledger_health(db.session(), key, checkpoint_interval=60,
                                consistency_interval=60, verify_interval=60,
                                witnesses=policy)  # fmt: skip


def test_a_forked_history_is_refused(app, witnesses, hub_key_path):
    checkpoint = _append_and_sign(app, 10)
    assert _cosign(app, checkpoint).met
    # Someone holding the hub's key rewrites entry 4 and grows the log from there.
    with app.app_context():
        session = db.session()
        size = checkpoint.tree_size
        leaves = [bytes(store.get_entry(session, i).leaf_hash) for i in range(size)]
    forked = [*leaves[:4], merkle.leaf_hash(b"rewritten"), *leaves[5:], merkle.leaf_hash(b"more")]
    key = ensure_signing_key(hub_key_path)
    body = checkpoint_body(ISSUER_ORIGIN, len(forked), merkle.root_from_leaves(forked))
    note = sign_note(body, ISSUER_ORIGIN, key)
    for witness in witnesses:
        # from size 0 the witness answers 409 with what it cosigned; any proof from there fails
        stale = requests.post(f"{witness.url}/add-checkpoint", data=build_request(0, [], note),
                              timeout=5)  # fmt: skip
        assert stale.status_code == 409 and stale.text == f"{size}\n"
        answer = requests.post(
            f"{witness.url}/add-checkpoint",
            data=build_request(size, merkle.consistency_path(size, forked), note), timeout=5,
        )
        assert answer.status_code == 422
        # the honest extension of what it saw is still cosigned
        honest = [*leaves, merkle.leaf_hash(b"more")]
        good = sign_note(checkpoint_body(ISSUER_ORIGIN, size + 1, merkle.root_from_leaves(honest)),
                         ISSUER_ORIGIN, key)  # fmt: skip
        ok = requests.post(f"{witness.url}/add-checkpoint",
                           data=build_request(size, merkle.consistency_path(size, honest), good),
                           timeout=5)  # fmt: skip
        assert ok.status_code == 200


def test_a_split_view_is_caught(app, settings, witnesses, witness_keys, hub_key_path, tmp_path):
    """The operator runs a second database under the same key and origin, showing some
    partners another history. The witnesses have cosigned the first; they refuse the other,
    so its checkpoints never reach quorum and a partner counting cosignatures rejects them."""
    honest = _append_and_sign(app, 8)
    assert _cosign(app, honest).met

    engine = make_engine(f"sqlite:///{tmp_path / 'other-view.sqlite3'}")
    tables = [*LEDGER_TABLES, LedgerCheckRun.__table__]
    Base.metadata.create_all(engine, tables=tables)
    key = ensure_signing_key(hub_key_path)
    with Session(engine) as other:
        store.append_entries(other, [sample_event(100 + i) for i in range(12)])  # another past
        fork = sign_checkpoint(other, key, settings.log_origin)
        other.commit()
        with structlog.testing.capture_logs() as logs:
            result = request_cosignatures(other, settings, fork)
        assert not result.met and result.cosigned == ()
        assert {o.reason for o in result.outcomes} == {"refused"}
        assert any(e["event"] == "witness_quorum_short" for e in logs)
        assert health.last_run(other, health.WITNESS).ok is False  # the other view's alarm
        from hub.witness.served import served_checkpoint

        note, state = served_checkpoint(other, settings)
    engine.dispose()
    hub_vkey = verify_key_of(key, settings.log_origin)
    assert verify.verify_checkpoint(note, hub_vkey).size == 12  # the hub's signature is fine...
    assert state is not None and state.header().startswith("short; cosigned=0")
    assert _trusted_cosigners(note, witness_keys) == set()  # ...but no witness vouches for it
    for witness in witnesses:  # and each witness kept the signed fork as evidence
        origin_hash = hashlib.sha256(settings.log_origin.encode()).hexdigest()
        latest = requests.get(f"{witness.url}/{origin_hash}/checkpoint", timeout=5).text
        assert verify.verify_checkpoint(latest, hub_vkey).size == honest.tree_size


def verify_key_of(key: Ed25519PrivateKey, origin: str) -> str:
    from hub.ledger.checkpoint import verifier_key

    return verifier_key(origin, key)

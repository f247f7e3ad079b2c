"""``/api/v1/log``: checkpoints, entries and proofs that verify offline."""

from __future__ import annotations

import base64

from hub.ledger import verify
from hub.ledger.merkle import leaf_hash


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_checkpoint_key_entry_and_proofs_verify_offline(client, get_token):
    headers = _auth(get_token("kent-police", "log:read"))
    note = client.get("/api/v1/log/checkpoint", headers=headers)
    assert note.status_code == 200 and note.mimetype == "text/plain"
    key = client.get("/api/v1/log/key", headers=headers).get_data(as_text=True).strip()
    checkpoint = verify.verify_checkpoint(note.get_data(as_text=True), key)
    assert checkpoint.size > 0  # hub sync's partner and agreement entries

    entry = client.get("/api/v1/log/entries/3", headers=headers).get_json()
    assert entry["index"] == 3
    import rfc8785

    raw = rfc8785.dumps(entry["entry"])
    assert base64.b64decode(entry["leaf_hash"]) == leaf_hash(raw)

    proof = client.get(f"/api/v1/log/proofs/inclusion?index=3&tree_size={checkpoint.size}",
                       headers=headers).get_json()
    verify.verify_inclusion(checkpoint, 3, base64.b64decode(entry["leaf_hash"]), proof["hashes"])

    consistency = client.get(f"/api/v1/log/proofs/consistency?from=5&to={checkpoint.size}",
                             headers=headers).get_json()
    assert consistency["from"] == 5 and consistency["to"] == checkpoint.size
    assert all(isinstance(h, str) for h in consistency["hashes"])


def test_entry_beyond_the_log_is_404_problem(client, get_token):
    response = client.get("/api/v1/log/entries/999999", headers=_auth(get_token("kent-police", "log:read")))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_bad_proof_parameters_are_422(client, get_token):
    headers = _auth(get_token("kent-police", "log:read"))
    response = client.get("/api/v1/log/proofs/inclusion?index=-1&tree_size=x", headers=headers)
    assert response.status_code == 422
    params = {e.get("parameter") for e in response.get_json()["errors"]}
    assert params == {"index", "tree_size"}


def test_log_routes_need_log_read(client, get_token):
    response = client.get("/api/v1/log/checkpoint", headers=_auth(get_token("kent-police")))
    assert response.status_code == 403


def test_tiles_are_served_to_partners_and_agree_with_the_proofs(client, get_token):
    headers = _auth(get_token("kent-police", "log:read"))
    note = client.get("/api/v1/log/checkpoint", headers=headers).get_data(as_text=True)
    key = client.get("/api/v1/log/key", headers=headers).get_data(as_text=True).strip()
    checkpoint = verify.verify_checkpoint(note, key)
    size = checkpoint.size
    assert 0 < size < 256  # hub sync's entries: one partial level 0 tile
    tile = client.get(f"/api/v1/log/tile/0/000.p/{size}", headers=headers)
    assert tile.status_code == 200 and tile.mimetype == "application/octet-stream"
    assert "immutable" not in tile.headers["Cache-Control"]
    leaves = [tile.data[i : i + 32] for i in range(0, len(tile.data), 32)]
    assert len(leaves) == size
    from hub.ledger import merkle

    assert merkle.root_from_leaves(leaves) == checkpoint.root_hash
    proof = client.get(f"/api/v1/log/proofs/inclusion?index=3&tree_size={size}", headers=headers)
    assert [base64.b64encode(h).decode() for h in merkle.inclusion_path(3, leaves)] == (
        proof.get_json()["hashes"]
    )
    leaf = client.get("/api/v1/log/leaves/3", headers=headers).get_json()["leaf_hash"]
    assert base64.b64decode(leaf) == leaves[3]
    for path in ("0/000", f"0/000.p/{size + 1}", "1/000.p/1", "0/x000/000.p/1", "64/000",
                 "entries/000.p/1", "0/000.p/0"):  # fmt: skip
        missing = client.get(f"/api/v1/log/tile/{path}", headers=headers)
        assert missing.status_code == 404, path
        assert missing.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/log/tile/0/000.p/{size}").status_code == 401


def test_a_full_tile_is_immutable(app, client, get_token):
    from hub import db
    from hub.ledger import store
    from hub.ledger.checkpoint import sign_checkpoint
    from tests.ledger.conftest import sample_event

    headers = _auth(get_token("kent-police", "log:read"))
    with app.app_context():
        session = db.session()
        store.append_entries(session, [sample_event(i) for i in range(256)])
        sign_checkpoint(session, app.extensions["hub.signing_key"],
                        app.config["HUB_SETTINGS"].log_origin)  # fmt: skip
        session.commit()
    tile = client.get("/api/v1/log/tile/0/000", headers=headers)
    assert tile.status_code == 200 and len(tile.data) == 256 * 32
    assert tile.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    level1 = client.get("/api/v1/log/tile/1/000.p/1", headers=headers)
    from hub.ledger import merkle

    leaves = [tile.data[i : i + 32] for i in range(0, 8192, 32)]
    assert level1.data == merkle.root_from_leaves(leaves)

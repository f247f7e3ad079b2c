"""Fail closed: no ledger entry, no release; no plaintext personal data at rest."""

from __future__ import annotations

from sqlalchemy import func, select, text

from hub import db
from hub.delivery.models import OutboxMessage
from hub.models import metadata
from hub.sharing.models import Disclosure, IdempotencyRecord, InboxItem
from tests.sharing.conftest import CANARY_RELEASED, CANARY_WITHHELD, KENT_REFERRAL


def _dump(engine) -> str:
    """Every row of every table as text: what an attacker with a database copy sees."""
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_no_personal_value_is_stored_in_plaintext(send, client, auth, engine, settings):
    sent = send("kent-csc", KENT_REFERRAL)
    assert sent.status_code == 201
    client.get("/api/v1/inbox", headers=auth("kent-syv-provider"))
    dump = _dump(engine)
    assert CANARY_WITHHELD not in dump  # withheld: never stored at all
    assert CANARY_RELEASED not in dump  # released: only as AES-256-GCM ciphertext
    if engine.dialect.name == "sqlite":
        from pathlib import Path

        raw = b"".join(
            Path(f"{engine.url.database}{suffix}").read_bytes()
            for suffix in ("", "-wal")
            if Path(f"{engine.url.database}{suffix}").exists()
        )
        assert CANARY_WITHHELD.encode() not in raw and CANARY_RELEASED.encode() not in raw


def test_ledger_failure_rolls_everything_back(send, app, monkeypatch):
    import hub.sharing.disclosures as disclosures

    def broken(*_args, **_kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(disclosures.store, "append_entries", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = send("kent-csc", KENT_REFERRAL, **{"Idempotency-Key": "fail-closed-001"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        session = db.session()
        for model in (Disclosure, InboxItem, OutboxMessage, IdempotencyRecord):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model

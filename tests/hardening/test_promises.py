"""Promises the README makes: every decision, shared or not, is on the ledger."""

from __future__ import annotations

import json

from sqlalchemy import select

from hub import db
from hub.ledger.models import LedgerEntry
from tests.sharing.conftest import KENT_REFERRAL


def test_an_outcome_refused_for_want_of_a_return_flow_is_a_ledger_refusal(send, client, auth, app):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    response = client.post(
        f"/api/v1/referrals/{sent['id']}/status",
        json={"status": "accepted", "outcome": {"data": {"outcome_summary": "x"}}},
        headers=auth("kent-syv-provider"),
    )
    assert response.status_code == 200, response.get_json()
    outcome = response.get_json()["outcome"]
    assert outcome["shared"] is False
    assert outcome["reasons"][0]["reason"] == "no_return_flow"
    with app.app_context():
        row = db.session().get(LedgerEntry, outcome["ledger_index"])
        entry = json.loads(row.entry)
        last = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index.desc())).first()
    assert last.index == outcome["ledger_index"]
    assert entry["type"] == "refusal" and entry["kind"] == "outcome"
    assert entry["reasons"] == ["no_return_flow"]
    assert entry["recipients"] == ["kent-csc"] and entry["ref"] == sent["id"]
    assert entry["actor"]["partner"] == "kent-syv-provider"

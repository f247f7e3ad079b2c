"""``/api/v1/agreements`` and the ``/api/v1/decisions`` dry run, through real tokens."""

from __future__ import annotations

from sqlalchemy import select, update

from hub import db
from hub.agreements.models import AgreementRecord
from hub.ledger.models import LedgerEntry

PROBLEM = "application/problem+json"
KENT_REFERRAL = {
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "consent": {"state": "given"},
    "data": {
        "given_name": "Alex",
        "missing_episodes_count": 3,
        "ete_status": "neet",
        "mental_health": "CANARY-anxiety",
    },
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_list_shows_only_the_callers_agreements_with_status(client, get_token):
    response = client.get("/api/v1/agreements", headers=_auth(get_token("kent-csc", "agreements:read")))
    assert response.status_code == 200
    agreements = response.get_json()
    ids = {a["id"] for a in agreements}
    assert "kent-syv-referral" in ids
    assert "leics-victim-referrals" not in ids
    referral = next(a for a in agreements if a["id"] == "kent-syv-referral")
    assert referral["status"] == "in_force"
    assert referral["review_by"] == "2027-06-30"
    assert referral["review_overdue"] is False
    assert referral["digest"].startswith("sha256:")
    assert set(referral["signed_by"]) == {"kent-csc", "medway-csc", "kent-syv-provider"}
    assert referral["flows"][0]["from"] == "kent-csc"


def test_one_agreement_for_a_party_and_404_for_anyone_else(client, get_token):
    party = client.get("/api/v1/agreements/kent-syv-referral",
                       headers=_auth(get_token("medway-csc", "agreements:read")))
    assert party.status_code == 200 and party.get_json()[0]["version"] == 1
    outsider = client.get("/api/v1/agreements/kent-syv-referral",
                          headers=_auth(get_token("leics-police", "agreements:read")))
    assert outsider.status_code == 404
    assert outsider.mimetype == PROBLEM


def test_dry_run_releases_the_allowed_fields_and_withholds_the_rest(client, get_token, app):
    with app.app_context():
        before = db.session().scalar(select(LedgerEntry.index).order_by(LedgerEntry.index.desc()))
    response = client.post("/api/v1/decisions", json=KENT_REFERRAL,
                           headers=_auth(get_token("kent-csc", "agreements:read")))
    assert response.status_code == 200, response.get_json()
    decision = response.get_json()
    assert decision["allowed"] is True and decision["outcome"] == "partial"
    assert set(decision["released"]) == {"given_name", "missing_episodes_count", "ete_status"}
    assert decision["withheld"] == [
        {"field": "mental_health", "reason": "not_in_allow_list", "detail": decision["withheld"][0]["detail"]}
    ]
    assert "CANARY" not in response.get_data(as_text=True)
    assert decision["agreement"]["id"] == "kent-syv-referral"
    assert decision["agreement"]["digest"].startswith("sha256:")
    assert "CA04_S10_S11" in decision["basis"]
    with app.app_context():  # a dry run records nothing
        after = db.session().scalar(select(LedgerEntry.index).order_by(LedgerEntry.index.desc()))
    assert before == after


def test_dry_run_always_sends_as_the_caller(client, get_token):
    """A ``from`` smuggled into the body is refused by the schema, not honoured."""
    body = {**KENT_REFERRAL, "from": "kent-csc"}
    response = client.post("/api/v1/decisions", json=body,
                           headers=_auth(get_token("leics-police", "agreements:read")))
    assert response.status_code == 422
    body.pop("from")
    refused = client.post("/api/v1/decisions", json=body,
                          headers=_auth(get_token("leics-police", "agreements:read"))).get_json()
    assert refused["allowed"] is False
    assert refused["refusals"][0]["reason"] == "no_agreement"


def test_unknown_field_is_422_pointing_at_it(client, get_token):
    body = {**KENT_REFERRAL, "data": {**KENT_REFERRAL["data"], "shoe_size": 9}}
    response = client.post("/api/v1/decisions", json=body,
                           headers=_auth(get_token("kent-csc", "agreements:read")))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert {"pointer": "#/data/shoe_size", "code": "unknown_field"}.items() <= errors[0].items()


def test_wrong_type_is_422(client, get_token):
    body = {**KENT_REFERRAL, "data": {"missing_episodes_count": "three"}}
    response = client.post("/api/v1/decisions", json=body,
                           headers=_auth(get_token("kent-csc", "agreements:read")))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "#/data/missing_episodes_count"


def test_tampered_agreement_in_the_database_is_not_in_force(client, get_token, app):
    """An edit made behind the hub's back breaks the signatures: nothing flows."""
    with app.app_context():
        session = db.session()
        record = session.get(AgreementRecord, ("kent-syv-referral", 1))
        document = dict(record.document)
        flows = [dict(f) for f in document["flows"]]
        flows[0]["fields"] = {**flows[0]["fields"], "mental_health": "release"}
        document["flows"] = flows
        session.execute(update(AgreementRecord).where(AgreementRecord.id == "kent-syv-referral")
                        .values(document=document))
        session.commit()
    token = get_token("kent-csc", "agreements:read")
    decision = client.post("/api/v1/decisions", json=KENT_REFERRAL, headers=_auth(token)).get_json()
    assert decision["allowed"] is False
    assert "mental_health" not in decision["released"]
    listed = client.get("/api/v1/agreements/kent-syv-referral", headers=_auth(token)).get_json()
    assert listed[0]["status"] != "in_force"
    assert any(r["code"] == "signature_invalid_signature" for r in listed[0]["reasons"])


def test_decisions_need_the_scope(client, get_token):
    response = client.post("/api/v1/decisions", json=KENT_REFERRAL,
                           headers=_auth(get_token("kent-csc", "partners:read")))
    assert response.status_code == 403


def test_dry_run_marks_released_opinion(client, get_token):
    """ICO data-sharing code: fact and opinion clearly distinguished in what is shared."""
    body = {**KENT_REFERRAL, "data": {"given_name": "Alex", "rag_status": "red"}}
    response = client.post("/api/v1/decisions", json=body,
                           headers=_auth(get_token("kent-csc", "agreements:read")))
    assert response.status_code == 200, response.get_json()
    decision = response.get_json()
    assert set(decision["released"]) == {"given_name", "rag_status"}
    assert decision["opinion"] == ["rag_status"]

"""Who reads what (hub.ledger.access), as a property: for random flows and readers, the
readable bodies and members are exactly what the rules of issue 8 allow, and every view a
reader gets verifies against the entry's leaf."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger import merkle, salted, service, store, verify
from hub.ledger.access import Reader, readable_members
from hub.ledger.events import _COMMON, SCHEMAS, event_time, member_slots, validate_event
from hub.ledger.models import LedgerEntry

PARTNERS = ["police", "csc", "provider", "school"]
GOVERNANCE = {"agreement", "key", "partner"}
# What a recipient is told about what it received (issue 8: never withheld fields or
# reasons, never other recipients, never subject commitments), written out per type.
RECEIVED = {
    "disclosure": {"type", "time", "actor", "ref", "correlation", "kind", "recipients", "agreement",
                   "basis", "purpose", "justification", "fields_released", "transforms", "consent",
                   "payload_digest"},
    "correction": {"type", "time", "actor", "ref", "entry", "recipients", "fields", "reason",
                   "payload_digest"},
    "erasure": {"type", "time", "actor", "ref", "entry", "recipients", "reason", "key_destroyed",
                "payload_digest"},
}
VALUES: dict[str, Any] = {
    "ref": "ref-1", "correlation": "alert-1", "agreement": {"id": "isa", "version": "1",
    "digest": "sha256:" + "ab" * 32}, "basis": ["GDPR_6_1_E"], "purpose": "syv_intervention",
    "justification": "just-1", "subjects": ["c" * 64], "kind": "referral",
    "fields_released": ["ete_status"], "transforms": {"given_name": "initials"},
    "fields_withheld": [{"field": "mental_health", "reason": "not_in_allow_list"}],
    "consent": "given", "payload_digest": "sha256:" + "0" * 64, "reasons": ["no_agreement"],
    "fields": ["ete_status"], "entry": 7, "reason": "inaccurate", "key_destroyed": True,
    "action": "added", "key_id": "kid-1", "alg": "ES256", "partner_type": "police",
    "digest": "sha256:" + "1" * 64, "record": "rec-1", "purposes": ["victims_code_referral"],
    "scope_recipients": ["victim-first"], "explicit": True,
    "given_at": "2026-12-01T09:00:00.000000Z",
}


@st.composite
def events(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(SCHEMAS)))
    spec, required = SCHEMAS[kind]
    optional = sorted(set(spec) | (set(_COMMON) - {"type", "time", "actor"}))
    chosen = set(required) | {k for k in optional if draw(st.booleans())}
    actor = draw(st.sampled_from(PARTNERS))
    event: dict[str, Any] = {"type": kind, "time": event_time(), "actor": {"partner": actor}}
    for key in chosen:
        if key == "recipients":
            event[key] = draw(st.lists(st.sampled_from(PARTNERS), max_size=3, unique=True))
        elif key in {"partner", "parties"}:
            event[key] = actor if key == "partner" else [actor]
        else:
            event[key] = VALUES[key]
    validate_event(event)
    return event


readers = st.builds(
    Reader, st.sampled_from([*PARTNERS, None]), st.booleans()
)


def allowed_by_the_rules(event: dict[str, Any], reader: Reader) -> set[str] | None:
    """Issue 8's table, written out without looking at hub.ledger.access."""
    members = set(event)
    if reader.partner is None:  # the hub (its DPO console, server side) reads everything
        return members
    if event["type"] in GOVERNANCE:  # no personal data: public
        return members
    actor = event["actor"]["partner"] == reader.partner
    recipient = reader.partner in event.get("recipients", [])
    if actor or (reader.audit and recipient):  # the sender's decision; an agency DPO's read
        return members - {"subjects"}
    if recipient and event["type"] in RECEIVED:  # only what it received
        seen = members & RECEIVED[event["type"]]
        if event["recipients"] != [reader.partner]:
            seen.discard("recipients")
        return seen
    return None  # refusals and consultations: their actor only; outsiders: nothing


def stored(event: dict[str, Any], index: int = 0) -> LedgerEntry:
    """The row the store would write (format 2 unless public), without a database."""
    blob = store.canonical_entry(event)
    if event["type"] in GOVERNANCE:
        return LedgerEntry(index=index, entry=blob, format=1, salts=None,
                           leaf_hash=merkle.leaf_hash(blob))
    size = salted.salts_size(len(event), member_slots(event["type"]))
    salts = (bytes(range(256)) * 4)[index : index + size]
    leaf = merkle.leaf_hash(salted.stored_leaf_input(blob, salts))
    return LedgerEntry(index=index, entry=blob, format=2, salts=salts, leaf_hash=leaf)


@settings(max_examples=400, deadline=None)
@given(events(), readers)
def test_readable_members_are_exactly_what_the_rules_allow(event, reader) -> None:
    expected = allowed_by_the_rules(event, reader)
    assert readable_members(event, reader) == (None if expected is None else frozenset(expected))
    if reader.partner is not None and expected is not None:
        assert "subjects" not in expected or event["type"] in GOVERNANCE


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), min_size=1, max_size=12), st.lists(readers, min_size=1, max_size=4))
def test_readable_bodies_of_a_log_equal_the_rules_and_every_view_verifies(flows, who) -> None:
    rows = [stored(event, index) for index, event in enumerate(flows)]
    for reader in who:
        views = {row.index: service.view_of(row, reader) for row in rows}
        readable = {i for i, view in views.items() if view is not None}
        assert readable == {
            i for i, e in enumerate(flows) if allowed_by_the_rules(e, reader) is not None
        }
        for index in readable:
            view = views[index]
            assert view is not None
            assert set(view["entry"]) == allowed_by_the_rules(flows[index], reader)
            leaf = verify.verify_entry_view(view)
            assert leaf == rows[index].leaf_hash
            if view["format"] == 2:  # every slot is accounted for, none twice
                slots = len(view["entry"]) + len(view["digests"])
                assert slots == member_slots(flows[index]["type"])
                assert set(view["salts"]) == set(view["entry"])
                assert all(len(base64.b64decode(s)) == 16 for s in view["salts"].values())

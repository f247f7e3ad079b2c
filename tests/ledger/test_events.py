"""Events carry the s62 items and nothing that identifies a person."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import rfc8785

from hub.ledger import events
from hub.ledger.errors import InvalidEvent
from tests.ledger.conftest import sample_event


def test_subject_commitment_normalises_each_identifier_kind() -> None:
    s = "secret"
    assert events.subject_commitment(s, "pnc", "99/123456a") == events.subject_commitment(
        s, "pnc", " 99/12 3456A "
    )
    assert events.subject_commitment(s, "nhs", "943 476 5919") == events.subject_commitment(
        s, "nhs", "9434765919"
    )
    assert events.subject_commitment(
        s, "name_dob", "Jane  SMITH 2001-02-03"
    ) == events.subject_commitment(s, "name_dob", " jane smith\t2001-02-03")
    want = hmac.new(b"secret", b"nhs\x009434765919", hashlib.sha256).hexdigest()
    assert events.subject_commitment(s, "nhs", "943-476-5919") == want
    assert events.subject_commitment(s, "pnc", "1") != events.subject_commitment(s, "nhs", "1")
    assert events.subject_commitment("other", "nhs", "9434765919") != want
    with pytest.raises(ValueError):
        events.subject_commitment("", "nhs", "9434765919")
    with pytest.raises(ValueError):
        events.subject_commitment(s, "email", "a@b")


def test_entry_holds_no_values() -> None:
    data = {"pnc_id": "99/123456A", "name": "Jane Smith", "health_notes": "asthma"}
    event = events.disclosure_event(
        {"partner": "leics-police"},
        recipients=["leics-yot"],
        agreement={"id": "ISA-0007", "version": "3", "digest": "sha256:" + "0" * 64},
        basis=["CDA_S115"],
        purpose="reducing_reoffending",
        subjects=[events.subject_commitment("k", "pnc", data["pnc_id"])],
        fields_released=["pnc_id", "name"],
        fields_withheld=[{"field": "health_notes", "reason": "special_category"}],
        transforms={"name": "initials"},
        payload_digest=events.payload_digest(rfc8785.dumps(data)),
    )
    blob = rfc8785.dumps(event).decode()
    assert not any(value in blob for value in data.values())


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Jane Smith"},  # unknown key
        {"fields_released": ["pnc_id", "Jane Smith"]},  # a value posing as a field name
        {"fields_released": ["pnc_id", "pnc_id"]},
        {"fields_withheld": [{"field": "health_notes", "reason": "because she has asthma"}]},
        {"fields_withheld": [{"field": "x", "reason": "y", "value": "asthma"}]},
        {"actor": {"partner": "leics-police", "name": "PC Jones"}},
        {"agreement": {"id": "ISA-1", "version": "1", "digest": "not a digest"}},
        {"subjects": ["99/123456A"]},
        {"payload_digest": "sha256:" + "0" * 63},
        {"time": "2026-02-30T10:00:00Z"},
        {"time": "yesterday"},
        {"type": "gossip"},
        {"purpose": "to see what Jane is up to"},
        {"basis": "CDA_S115"},
        {"transforms": {"name": "Jane"}},
        {"recipients": [1]},
    ],
)
def test_smuggling_is_rejected(change: dict) -> None:
    with pytest.raises(InvalidEvent):
        events.validate_event(sample_event() | change)


def test_required_items_are_required() -> None:
    event = sample_event()
    del event["payload_digest"]
    with pytest.raises(InvalidEvent, match="payload_digest"):
        events.validate_event(event)
    with pytest.raises(InvalidEvent):
        events.validate_event(["not", "an", "object"])  # type: ignore[arg-type]


def test_catalogue_pins_field_names() -> None:
    event = sample_event()
    events.validate_event(
        event, field_names=frozenset({"pnc_id", "offence_category", "health_notes"})
    )
    with pytest.raises(InvalidEvent, match="health_notes"):
        events.validate_event(event, field_names=frozenset({"pnc_id", "offence_category"}))


@pytest.mark.parametrize(
    ("kind", "items"),
    [
        (
            "refusal",
            {"recipients": ["leics-yot"], "purpose": "safeguarding", "reasons": ["no_agreement"]},
        ),
        ("consultation", {"ref": "d-1", "purpose": "marac", "fields": ["risk_level"], "entry": 4}),
        ("correction", {"ref": "d-1", "reason": "inaccurate", "entry": 4, "fields": ["address"]}),
        ("erasure", {"ref": "d-1", "reason": "retention_expired", "key_destroyed": True}),
        (
            "agreement",
            {
                "agreement": {"id": "ISA-1", "version": "2", "digest": "sha256:" + "a" * 64},
                "action": "signed",
                "parties": ["leics-police"],
            },
        ),
        (
            "key",
            {
                "partner": "leics-police",
                "action": "added",
                "key_id": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
            },
        ),
        ("partner", {"partner": "leics-police", "action": "added", "partner_type": "police"}),
    ],
)
def test_every_event_type_builds(kind: str, items: dict) -> None:
    event = events.make_event(kind, {"partner": "hub", "user": "dpo-7f3a"}, **items)
    assert event["type"] == kind and event["time"].endswith("Z")


def test_fast_canonical_json_equals_rfc8785_for_every_valid_event() -> None:
    from hub.ledger.store import canonical_entry

    samples = [sample_event(i) for i in range(50)]
    samples.append(
        events.make_event(
            "erasure",
            {"partner": "hub"},
            ref="d-1",
            reason="x",
            key_destroyed=False,
            entry=2**53 - 1,
        )
    )
    for event in samples:
        assert canonical_entry(event) == rfc8785.dumps(event)


def test_non_ascii_digits_are_not_a_time() -> None:
    with pytest.raises(InvalidEvent):
        events.validate_event(sample_event() | {"time": "\u0662026-01-01T00:00:00Z"})

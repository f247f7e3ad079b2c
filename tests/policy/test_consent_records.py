"""Consent as a record (UK GDPR Art 7): live, in scope, explicit where Art 9(2)(a) is relied
on, and withdrawal stopping every later message that relies on it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.policy import RequestValidationError, decide
from hub.policy.consent import ConsentRecord
from hub.policy.reasons import Reason
from tests.policy.conftest import NOW

GIVEN = NOW - dt.timedelta(days=2)
RECORD = ConsentRecord(
    id="vf-consent-0001",
    sender="victim-first",
    given_at=GIVEN,
    purposes=("target_hardening",),
    recipients=("leics-target-hardening",),
    explicit=True,
)
REQUEST = {
    "from": "victim-first",
    "to": "leics-target-hardening",
    "purpose": "target_hardening",
    "data": {"given_name": "A", "access_needs": "wheelchair"},
    "consent": {"state": "given", "record": "vf-consent-0001"},
}


def run(demo, request=REQUEST, records=None, now=NOW):
    return decide(
        request,
        list(demo.agreements),
        demo.catalogues,
        demo.partners,
        now,
        consent_records={RECORD.id: RECORD} if records is None else records,
    )


def refusal(decision):
    assert not decision.allowed
    return decision.refusals[0].reason


def test_a_live_explicit_record_in_scope_carries_the_flow(demo):
    """UK GDPR Art 7(1), Art 9(2)(a): explicit consent carries the access needs."""
    d = run(demo)
    assert d.allowed and set(d.released) == {"given_name", "access_needs"}
    assert d.as_dict()["consent"]["record"] == "vf-consent-0001"


def test_withdrawal_stops_every_later_message(demo):
    """UK GDPR Art 7(3): withdrawal stops later processing, and the refusal says so."""
    withdrawn = dataclasses.replace(RECORD, withdrawn_at=NOW - dt.timedelta(hours=1))
    d = run(demo, records={RECORD.id: withdrawn})
    assert refusal(d) == Reason.CONSENT_WITHDRAWN
    assert "was withdrawn" in d.refusals[0].detail and "Art 7(3)" in d.refusals[0].detail
    # A message decided before the withdrawal was lawful (withdrawal is not retroactive).
    assert run(demo, records={RECORD.id: withdrawn}, now=NOW - dt.timedelta(hours=2)).allowed


def test_record_out_of_scope_is_refused(demo):
    """UK GDPR Art 6(1)(a) "for one or more specific purposes": scope is purposes and recipients."""
    narrow = dataclasses.replace(RECORD, recipients=("leics-sdvs",))
    assert refusal(run(demo, records={RECORD.id: narrow})) == Reason.CONSENT_OUT_OF_SCOPE


def test_explicit_consent_needed_for_art_9_2_a(demo):
    """UK GDPR Art 9(2)(a): consent that is not explicit cannot carry special-category data."""
    plain = dataclasses.replace(RECORD, explicit=False)
    assert refusal(run(demo, records={RECORD.id: plain})) == Reason.CONSENT_NOT_EXPLICIT


def test_a_consent_flow_must_cite_a_record(demo):
    """UK GDPR Art 7(1): the controller must be able to demonstrate consent."""
    body = {**REQUEST, "consent": {"state": "given"}}
    assert refusal(run(demo, request=body)) == Reason.CONSENT_RECORD_MISSING


def test_unknown_or_foreign_record_is_refused(demo):
    other = dataclasses.replace(RECORD, sender="leics-police")
    assert refusal(run(demo, records={RECORD.id: other})) == Reason.CONSENT_RECORD_UNKNOWN
    assert refusal(run(demo, records={})) == Reason.CONSENT_RECORD_UNKNOWN


def test_record_id_must_be_a_short_string(demo):
    with pytest.raises(RequestValidationError):
        run(demo, request={**REQUEST, "consent": {"state": "given", "record": 7}})


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(-72, 72))
def test_record_is_live_exactly_until_withdrawal(demo, offset):
    """UK GDPR Art 7(3): a message at or after withdrawal is refused, before it allowed."""
    withdrawn_at = NOW + dt.timedelta(hours=offset)
    d = run(demo, records={RECORD.id: dataclasses.replace(RECORD, withdrawn_at=withdrawn_at)})
    assert d.allowed == (NOW < withdrawn_at)


SYV = {
    "from": "kent-csc",
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "data": {"given_name": "A", "missing_episodes_count": 3},
    "consent": {"state": "given"},
}


def _with_consent_code(demo):
    """The demo agreements, the kent-csc -> provider flow's tuple naming Art 9(2)(a)."""
    regs = []
    for reg in demo.agreements:
        flows = tuple(
            dataclasses.replace(f, basis=(*f.basis, "GDPR_9_2_A"))
            if (f.sender, f.purpose) == ("kent-csc", "syv_intervention")
            else f
            for f in reg.agreement.flows
        )
        regs.append(dataclasses.replace(reg, agreement=dataclasses.replace(reg.agreement, flows=flows)))
    return regs


def test_preferred_flow_on_a_gateway_needs_no_record_uk_gdpr_art_7_1(demo):
    """UK GDPR Art 7(1) binds a controller *relying on* consent: a preferred flow rests on its
    gateway and Art 6(1)(e), so consent given there (good practice) needs no record."""
    assert run(demo, request=SYV, records={}).allowed
    not_sought = {**SYV, "consent": {"state": "not_sought", "reason": "unsafe"}}
    assert run(demo, request=not_sought, records={}).allowed


def test_preferred_flow_relying_on_a_consent_code_needs_a_record_uk_gdpr_art_7_1(demo):
    """A given message whose tuple names a consent code (here Art 9(2)(a)) relies on consent:
    it must cite a record (the engine's second line; the validator refuses such a tuple)."""
    regs = _with_consent_code(demo)
    d = decide(SYV, regs, demo.catalogues, demo.partners, NOW, consent_records={})
    assert refusal(d) == Reason.CONSENT_RECORD_MISSING
    not_sought = {**SYV, "consent": {"state": "not_sought", "reason": "unsafe"}}
    d = decide(not_sought, regs, demo.catalogues, demo.partners, NOW, consent_records={})
    assert d.refusals == () or Reason.CONSENT_RECORD_MISSING not in {r.reason for r in d.refusals}

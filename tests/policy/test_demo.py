"""The shipped demo partnership: every agreement valid, signed and in force; flow table."""

from __future__ import annotations

import shutil

import pytest

from hub.policy import (
    Reason,
    decide,
    load_catalogues,
    render_agreement_template,
    sign_agreement_file,
    verify_agreement_file,
)
from hub.policy.agreement import parse_agreement
from hub.policy.catalogue import read_toml
from hub.policy.errors import PolicyFileError
from tests.policy.conftest import CATALOGUES, KEYS, NOW, PARTNERS, ROOT, SECRET, private_key


def test_every_demo_agreement_is_in_force(demo):
    assert len(demo.agreements) >= 10
    statuses = demo.statuses(NOW)
    assert {k: s.status for k, s in statuses.items() if not s.in_force} == {}
    for reg in demo.agreements:
        assert reg.errors == ()


def test_every_seed_is_covered(demo):
    seeds = set()
    for path in (ROOT / "policies" / "agreements").glob("*.toml"):
        seeds.add(path.read_text().splitlines()[1].split()[2].rstrip("."))
    assert {"000", "001", "002", "003", "004"} <= seeds


# (agreement, from, to, purpose, data, consent, released, withheld {field: reason})
TABLE = [
    (
        "leics-victim-referrals",
        "leics-police",
        "victim-first",
        "victims_code_referral",
        {
            "given_name": "A",
            "crime_type": "burglary",
            "victim_current_address": "1 High St",
            "perpetrator_name": "B",
            "incident_narrative": "x",
            "intelligence_text": "x",
        },
        "given",
        {"given_name", "crime_type", "victim_current_address"},
        {
            "perpetrator_name": Reason.NOT_IN_ALLOW_LIST,
            "incident_narrative": Reason.NOT_IN_ALLOW_LIST,
            "intelligence_text": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "leics-victim-referrals",
        "victim-first",
        "leics-police",
        "referral_outcome",
        {"crime_reference": "C1", "outcome_summary": "supported", "dash_score": 15},
        "given",
        {"crime_reference", "outcome_summary"},
        {"dash_score": Reason.OPINION_ON_FACT_ONLY_FLOW},
    ),
    (
        "leics-target-hardening",
        "victim-first",
        "leics-target-hardening",
        "target_hardening",
        {
            "given_name": "A",
            "victim_current_address": "1 High St",
            "access_needs": "wheelchair",
            "dash_score": 20,
            "children_in_household": "x",
            "mental_health": "x",
        },
        "given",
        {"given_name", "victim_current_address", "access_needs"},
        {
            "dash_score": Reason.NOT_IN_ALLOW_LIST,
            "children_in_household": Reason.NOT_IN_ALLOW_LIST,
            "mental_health": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "leics-vf-sdvs",
        "victim-first",
        "leics-sdvs",
        "specialist_support_referral",
        {"given_name": "A", "dash_score": 16, "victim_current_address": "x"},
        "given",
        {"given_name", "dash_score"},
        {"victim_current_address": Reason.NOT_IN_ALLOW_LIST},
    ),
    (
        "tri-custody-drug-test",
        "met-police",
        "tri-borough-rr",
        "required_assessment",
        {
            "pnc_id": "1",
            "drug_test_result": "positive",
            "trigger_offence": "theft",
            "previous_convictions": "x",
            "co_accused": "x",
        },
        "not_sought",
        {"pnc_id", "drug_test_result", "trigger_offence"},
        {"previous_convictions": Reason.NOT_IN_ALLOW_LIST, "co_accused": Reason.NOT_IN_ALLOW_LIST},
    ),
    (
        "tri-prison-release",
        "hmp-wandsworth",
        "tri-borough-rr",
        "resettlement",
        {"prison_number": "A1", "release_date": "2026-12-01", "intelligence_text": "x"},
        "given",
        {"prison_number", "release_date"},
        {"intelligence_text": Reason.NOT_IN_ALLOW_LIST},
    ),
    (
        "tri-non-engagement",
        "tri-borough-rr",
        "met-police",
        "enforcement",
        {"pnc_id": "1", "non_engagement_flag": True, "rag_status": "red", "substance_misuse": "x"},
        "not_sought",
        {"pnc_id", "non_engagement_flag"},
        {
            "rag_status": Reason.OPINION_ON_FACT_ONLY_FLOW,
            "substance_misuse": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "tri-iom",
        "probation-london",
        "met-police",
        "integrated_offender_management",
        {"pnc_id": "1", "intelligence_text": "x", "risk_level": "high"},
        "not_sought",
        {"pnc_id", "intelligence_text", "risk_level"},
        {},
    ),
    (
        "kent-syv-referral",
        "kent-csc",
        "kent-syv-provider",
        "syv_intervention",
        {
            "given_name": "A",
            "missing_episodes_count": 3,
            "ete_status": "neet",
            "arrests_count": 2,
            "mental_health": "x",
            "social_care_notes": "x",
            "siblings": "x",
        },
        "given",
        {"given_name", "missing_episodes_count", "ete_status", "arrests_count"},
        {
            "mental_health": Reason.NOT_IN_ALLOW_LIST,
            "social_care_notes": Reason.NOT_IN_ALLOW_LIST,
            "siblings": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "kent-syv-intelligence",
        "kent-syv-provider",
        "kent-police",
        "crime_prevention",
        {"given_name": "A", "concern_summary": "x", "mental_health": "x"},
        "not_sought",
        {"given_name", "concern_summary"},
        {"mental_health": Reason.NOT_IN_ALLOW_LIST},
    ),
    (
        "kent-syv-outcomes",
        "kent-syv-provider",
        "medway-csc",
        "outcome_monitoring",
        {
            "given_name": "Jo",
            "date_of_birth": "2010-05-01",
            "arrests_count": 1,
            "rag_status": "red",
        },
        "not_sought",
        {"given_name", "date_of_birth", "arrests_count"},
        {"rag_status": Reason.OPINION_ON_FACT_ONLY_FLOW},
    ),
    (
        "sutton-safeguarding-concerns",
        "sutton-outreach",
        "sutton-yot",
        "safeguarding_concern",
        {"given_name": "A", "concern_summary": "x", "religion": "x"},
        "not_sought",
        {"given_name", "concern_summary"},
        {"religion": Reason.NOT_IN_ALLOW_LIST},
    ),
    (
        "sutton-community-marac",
        "met-police",
        "safer-sutton",
        "community_marac_referral",
        {"given_name": "A", "victim_current_address": "x", "marac_criterion": "repeat"},
        "given",
        {"given_name", "victim_current_address", "marac_criterion"},
        {},
    ),
    (
        "sutton-community-marac",
        "safer-sutton",
        "sutton-yot",
        "community_marac_alert",
        {
            "given_name": "A",
            "marac_case_number": "M1",
            "risk_level": "high",
            "victim_current_address": "x",
        },
        "given",
        {"given_name", "marac_case_number"},
        {
            "risk_level": Reason.NOT_IN_ALLOW_LIST,
            "victim_current_address": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "dudley-encompass",
        "west-mids-police",
        "dudley-school",
        "operation_encompass",
        {
            "given_name": "A",
            "voice_of_child": "x",
            "child_present": True,
            "perpetrator_name": "x",
            "previous_convictions": "x",
        },
        "not_sought",
        {"given_name", "voice_of_child", "child_present"},
        {
            "perpetrator_name": Reason.NOT_IN_ALLOW_LIST,
            "previous_convictions": Reason.NOT_IN_ALLOW_LIST,
        },
    ),
    (
        "dudley-step-together",
        "west-mids-police",
        "step-together",
        "school_route_safety",
        {"given_name": "Sam", "school_name": "x", "child_protection_status": "cin"},
        "not_sought",
        {"given_name", "school_name"},
        {"child_protection_status": Reason.NOT_IN_ALLOW_LIST},
    ),
]


@pytest.mark.parametrize("row", TABLE, ids=[f"{r[0]}:{r[1]}->{r[2]}" for r in TABLE])
def test_demo_flow_table(demo, row):
    agreement, sender, recipient, purpose, data, consent, released, withheld = row
    req = {
        "from": sender,
        "to": recipient,
        "purpose": purpose,
        "data": data,
        "consent": {
            "state": consent,
            **({"reason": "prejudice"} if consent == "not_sought" else {}),
        },
        "justification": "safety plan agreed at MARAC",
    }
    d = decide(
        req, list(demo.agreements), demo.catalogues, demo.partners, NOW, keyed_hash_secret=SECRET
    )
    assert d.allowed and d.agreement_id == agreement
    assert set(d.released) == released
    assert {w.field: w.reason for w in d.withheld} == withheld


def test_demo_transforms(demo):
    req = {
        "from": "kent-syv-provider",
        "to": "kent-csc",
        "purpose": "outcome_monitoring",
        "data": {"given_name": "Jo Ann", "date_of_birth": "2010-05-01"},
    }
    d = decide(req, list(demo.agreements), demo.catalogues, demo.partners, NOW)
    assert d.released == {"given_name": "J.A.", "date_of_birth": "16-17"}


def test_sign_and_verify_file(tmp_path):
    src = ROOT / "policies" / "agreements" / "tri-non-engagement.toml"
    path = tmp_path / src.name
    shutil.copy(src, path)
    report = verify_agreement_file(path, CATALOGUES, PARTNERS, KEYS, NOW)
    assert report.status.status == "draft" and len(report.status.reasons) == 2
    for party in ("tri-borough-rr", "met-police"):
        sign_agreement_file(path, party, private_key(party))
    report = verify_agreement_file(path, CATALOGUES, PARTNERS, KEYS, NOW)
    assert report.in_force, report.lines()
    path.write_text(path.read_text().replace("retention_days = 365", "retention_days = 366"))
    report = verify_agreement_file(path, CATALOGUES, PARTNERS, KEYS, NOW)
    assert not report.in_force and "signature_invalid_signature" in {
        r.code for r in report.status.reasons
    }
    with pytest.raises(PolicyFileError):
        sign_agreement_file(path, "victim-first", private_key("victim-first"))


def test_template_has_every_heading(tmp_path):
    text = render_agreement_template("new-isa", ["met-police", "sutton-csc"])
    path = tmp_path / "new-isa.toml"
    path.write_text(text)
    agreement = parse_agreement(read_toml(path), str(path))
    assert agreement.id == "new-isa" and len(agreement.parties) == 2
    assert set(agreement.governance) >= {"security", "retention_and_disposal", "review"}


def test_catalogue_errors_name_file_field_and_line(tmp_path):
    (tmp_path / "fields.toml").write_text(
        '[fields]\nx = { class = "NOPE", type = "string", description = "d" }\n'
    )
    (tmp_path / "lawful_bases.toml").write_text("[bases]\n")
    with pytest.raises(PolicyFileError, match=r"fields\.toml: fields\.x\.class"):
        load_catalogues(tmp_path)
    (tmp_path / "fields.toml").write_text("[fields]\n\nx = = 1\n")
    with pytest.raises(PolicyFileError) as err:
        load_catalogues(tmp_path)
    assert err.value.line == 3 and "fields.toml:3" in str(err.value)

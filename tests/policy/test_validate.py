"""Every validator rule of docs/law.md, one failing agreement each."""

from __future__ import annotations

import pytest

from hub.policy import parse_agreement, validate_agreement
from tests.policy.conftest import CATALOGUES, PARTNERS, document, flow


def codes(doc) -> set[str]:
    agreement = parse_agreement(doc, "test.toml")
    return {
        p.code for p in validate_agreement(agreement, CATALOGUES, PARTNERS) if p.severity == "error"
    }


def test_baseline_flow_is_valid():
    assert codes(document()) == set()


CASES = [
    # CDA_S115 needs the recipient to be a relevant authority (s115(1))
    (
        "s115 to non-relevant authority",
        flow("tri-borough-rr", "victim-first"),
        "recipient_not_eligible",
    ),
    # Art 6(1)(ea) not for public authorities
    (
        "6(1)(ea) by a public authority",
        flow("met-police", "sutton-csc", basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"]),
        "sender_not_eligible",
    ),
    # SC_* needs an Art 9 condition
    (
        "health without art 9",
        flow(
            basis=["CDA_S115", "GDPR_6_1_EA", "ART10", "SCH1_P29"],
            consent="required",
            consent_exemption=None,
        ),
        "special_category_without_art9",
    ),
    # CRIM needs ART10 or DPA_PART3
    (
        "crime without art 10",
        flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10"]),
        "criminal_offence_without_art10",
    ),
    # DPA_PART3 only between competent authorities
    (
        "part 3 from a non-competent authority",
        flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "DPA_PART3"]),
        "sender_not_eligible",
    ),
    (
        "part 3 to a non-competent authority",
        flow("met-police", "sutton-csc", basis=["CDA_S115", "GDPR_6_1_E", "SCH1_P10", "DPA_PART3"]),
        "recipient_not_eligible",
    ),
    # an Art 6 basis is always needed
    ("no art 6", flow(basis=["CDA_S115", "SCH1_P10", "ART10"]), "no_art6_basis"),
    # PCSC 2022 s16(2): only between the bodies it lists
    (
        "s16(2) to a voluntary provider",
        flow(
            "met-police",
            "step-together",
            purpose="serious_violence_prevention",
            basis=["PCSC_S16", "GDPR_6_1_E", "SCH1_P10", "ART10"],
        ),
        "recipient_not_eligible",
    ),
    # PCSC 2022 s16(4)(b): no personal information from a health or social care authority
    (
        "s16(4)(b) from social care",
        flow(
            "sutton-csc",
            "met-police",
            purpose="serious_violence_prevention",
            basis=["PCSC_S16", "GDPR_6_1_E", "SCH1_P10", "ART10"],
            fields={"given_name": "release"},
        ),
        "sender_excluded_by_statute",
    ),
    # class not justified by any gateway / Art 6 code
    (
        "class not justified",
        flow(
            "met-police",
            "tri-borough-rr",
            purpose="required_assessment",
            basis=["DA05_RA", "GDPR_6_1_C", "SCH1_P6", "ART10"],
            consent_exemption="statutory_requirement",
            fields={"school_name": "release"},
        ),
        "class_not_justified_by_basis",
    ),
    # WHERE needs a safety justification, never to perpetrator-facing recipients
    (
        "where without justification",
        flow(fields={"secret_address": "release"}),
        "where_without_safety_justification",
    ),
    (
        "where to probation",
        flow(
            "tri-borough-rr",
            "probation-london",
            fields={"refuge_flag": "release"},
            safety_justification="x",
        ),
        "where_to_perpetrator_facing",
    ),
    # consent not_required must name the exemption, and it must match the tuple
    ("no exemption", flow(consent_exemption=None), "consent_exemption_missing"),
    (
        "exemption without para 18",
        flow(consent_exemption="para18_2_c"),
        "consent_exemption_basis_mismatch",
    ),
    (
        "consent basis without consent",
        flow(
            basis=["CDA_S115", "GDPR_6_1_A", "SCH1_P10", "ART10"], fields={"given_name": "release"}
        ),
        "consent_basis_without_consent",
    ),
    # processors only under PROCESSOR agreements
    (
        "contractor under an ISA",
        flow(
            "victim-first",
            "leics-target-hardening",
            basis=["GDPR_6_1_A"],
            consent="required",
            consent_exemption=None,
            fields={"given_name": "release"},
        ),
        "processor_outside_processor_agreement",
    ),
    # catalogue checks
    ("unknown field", flow(fields={"shoe_size": "release"}), "unknown_field"),
    ("transform not allowed", flow(fields={"pnc_id": "initials"}), "transform_not_allowed"),
    (
        "unknown basis",
        flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10", "MAGIC"]),
        "unknown_basis",
    ),
    (
        "6(1)(e) without a gateway",
        flow(
            "met-police",
            "sutton-csc",
            basis=["GDPR_6_1_E"],
            consent="preferred",
            consent_exemption=None,
            fields={"given_name": "release"},
        ),
        "basis_missing_companion",
    ),
    (
        "ART10 without a Sch 1 condition",
        flow(basis=["CDA_S115", "GDPR_6_1_EA", "ART10"], fields={"offence": "release"}),
        "basis_missing_companion",
    ),
    (
        "opinion on fact-only",
        flow(fact_only=True, fields={"rag_status": "release"}),
        "opinion_on_fact_only_flow",
    ),
    ("unknown partner", flow(recipient="nobody"), "unknown_partner"),
    (
        "flow to self",
        flow("met-police", "met-police", basis=["CDA_S115", "GDPR_6_1_E", "SCH1_P10", "ART10"]),
        "flow_to_self",
    ),
    ("return flow without outbound", flow(return_flow=True), "return_flow_without_outbound"),
]


@pytest.mark.parametrize(("label", "bad_flow", "code"), CASES, ids=[c[0] for c in CASES])
def test_rule(label, bad_flow, code):
    bad_flow = {k: v for k, v in bad_flow.items() if v is not None}
    assert code in codes(document(bad_flow))


def test_flow_party_must_be_agreement_party():
    doc = document()
    doc["parties"] = doc["parties"][:1]
    assert "flow_party_not_in_agreement" in codes(doc)


def test_purpose_must_be_declared():
    assert "purpose_not_declared" in codes(document(purposes=["other"]))


def test_s115_acting_for_a_relevant_authority_is_allowed():
    ok = flow("tri-borough-rr", "victim-first", acting_for="met-police")
    assert "recipient_not_eligible" not in codes(document(ok))


def test_processor_agreement_accepts_contractor():
    f = flow(
        "victim-first",
        "leics-target-hardening",
        basis=["GDPR_6_1_A"],
        consent="required",
        fields={"given_name": "release"},
    )
    f.pop("consent_exemption")
    doc = document(f, type="PROCESSOR")
    doc["parties"][1]["role"] = "processor"
    assert codes(doc) == set()


def test_processor_agreement_needs_controller_and_processor():
    assert "processor_roles" in codes(document(type="PROCESSOR"))


def test_dates_and_duplicates():
    doc = document(flow(), flow())
    doc["effective_to"] = doc["effective_from"].replace(year=2025)
    found = codes(doc)
    assert {"dates_inverted", "duplicate_flow"} <= found


def test_problem_names_file_and_path():
    agreement = parse_agreement(
        document(flow(fields={"shoe_size": "release"})), "policies/agreements/x.toml"
    )
    (problem,) = validate_agreement(agreement, CATALOGUES, PARTNERS)
    assert problem.file == "policies/agreements/x.toml"
    assert problem.path == "flows[0].fields.shoe_size"

"""The law the catalogues now say: gateway parties by statutory role, purposes as codes, the
Part 3 regime for sensitive processing, and the records an agreement must keep.

Each test names the provision it checks. ``REFUSALS`` drafts one agreement per refusal reason,
and ``test_every_refusal_reason_is_reachable`` proves none is dead code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.policy import PolicyFileError, parse_agreement, validate_agreement
from hub.policy.partner_info import PartnerInfo, load_partners
from hub.policy.problems import STATUTES
from hub.policy.vocabulary import implied_flags, role_flag_problems
from tests.policy.conftest import CATALOGUES, NOW, PARTNERS, ROOT, document, flow

ROLES = sorted(CATALOGUES.roles)
BASES = CATALOGUES.bases


def problems(doc: dict[str, Any], partners: dict[str, PartnerInfo] | None = None):
    doc = dict(doc, flows=[_strip(f) for f in doc["flows"]])
    agreement = parse_agreement(doc, "test.toml")
    return validate_agreement(agreement, CATALOGUES, partners or PARTNERS)


def codes(doc: dict[str, Any], partners: dict[str, PartnerInfo] | None = None) -> set[str]:
    return {p.code for p in problems(doc, partners) if p.severity == "error"}


def partner(pid: str, *roles: str, ptype: str = "voluntary_provider") -> PartnerInfo:
    """A synthetic partner whose flags are exactly what its roles imply."""
    flags = implied_flags(roles, CATALOGUES.roles)
    return PartnerInfo(id=pid, name=pid, type=ptype, statutory_roles=roles, **flags)


def with_partners(*extra: PartnerInfo) -> dict[str, PartnerInfo]:
    return {**PARTNERS, **{p.id: p for p in extra}}


POLICE_TO_YOT = {
    "from": "met-police",
    "to": "sutton-yot",
    "purpose": "serious_violence_prevention",
    "basis": ["PCSC_S16", "GDPR_6_1_E", "SCH1_P10", "ART10"],
    "consent": "not_required",
    "consent_exemption": "para10_prejudice",
    "retention_days": 365,
    "fields": {"given_name": "release", "offence": "release", "substance_misuse": "release"},
}
PROBATION_TO_POLICE = {
    "from": "probation-london",
    "to": "met-police",
    "purpose": "integrated_offender_management",
    "basis": ["OMA07_S14", "DPA_PART3", "SCH8_P1"],
    "consent": "not_required",
    "consent_exemption": "part3_law_enforcement_task",
    "strictly_necessary": "The plan cannot be enforced without it.",
    "retention_days": 730,
    "fields": {"given_name": "release", "licence_conditions": "release", "substance_misuse": "release"},
}


# --- CDA 1998 s115 -------------------------------------------------------------------------


def test_s115_recipient_must_hold_a_s115_2_role():
    """CDA 1998 s115(1)-(2): disclosure to a relevant authority; a victims' hub is none."""
    assert "recipient_not_eligible" in codes(document(flow("tri-borough-rr", "victim-first")))


def test_s115_acting_for_evidenced_by_the_authority_signing():
    """s115(1) "a person acting on behalf of such an authority": the authority is a party."""
    f = flow("tri-borough-rr", "step-together", acting_for="met-police")
    doc = document(f)
    doc["parties"].append({"id": "met-police", "role": "controller", "signatory": "Inspector"})
    assert codes(doc) == set()


def test_s115_acting_for_evidenced_by_a_contract_reference():
    """s115(1): or the contract or processor reference is recorded on the flow."""
    f = flow(
        "tri-borough-rr",
        "step-together",
        acting_for="met-police",
        acting_for_contract="MPS-VRU-2026-014",
    )
    assert codes(document(f)) == set()


def test_s115_acting_for_without_evidence_is_refused():
    """s115(1): an unevidenced claim to act for an authority does not make a recipient one."""
    f = flow("tri-borough-rr", "step-together", acting_for="met-police")
    assert codes(document(f)) == {"acting_for_not_evidenced"}


def test_s115_acting_for_a_body_that_is_not_a_relevant_authority():
    """s115(1): acting for a non-relevant authority gains nothing."""
    f = flow("tri-borough-rr", "step-together", acting_for="victim-first", acting_for_contract="C")
    assert "recipient_not_eligible" in codes(document(f))


@settings(max_examples=60, deadline=None)
@given(roles=st.lists(st.sampled_from(ROLES), unique=True, max_size=3))
def test_s115_recipient_eligibility_is_exactly_the_s115_2_list(roles):
    """CDA 1998 s115(2): whatever roles a recipient holds, s115 accepts it iff one is listed."""
    recipient = partner("someone", *roles)
    doc = document(flow("tri-borough-rr", "someone"))
    found = codes(doc, with_partners(recipient))
    listed = set(roles) & set(BASES["CDA_S115"].recipient_roles)
    assert ("recipient_not_eligible" in found) == (not listed)


# --- PCSC 2022 s16 -------------------------------------------------------------------------


def test_s16_between_listed_bodies_is_valid_with_health_data():
    """PCSC 2022 s16(2), s16(4): police to a YOT may carry health data (not patient information).

    Statute, not the domain notes: s16(4) does not bar whole field classes from every sender.
    """
    assert codes(document(POLICE_TO_YOT)) == set()


def test_s16_4_a_bars_patient_information_from_any_sender():
    """PCSC 2022 s16(4)(a): "the disclosure of patient information"."""
    f = dict(POLICE_TO_YOT, fields={"given_name": "release", "mental_health": "release"})
    assert codes(document(f)) == {"field_excluded_by_statute"}


def test_s16_4_b_bars_personal_information_from_a_social_care_authority():
    """PCSC 2022 s16(4)(b): personal information by a health or social care authority."""
    f = dict(POLICE_TO_YOT, **{"from": "sutton-csc", "to": "met-police"})
    f["basis"] = ["PCSC_S16", "GDPR_6_1_E", "SCH1_P10", "ART10"]
    assert "sender_excluded_by_statute" in codes(document(f))


def test_s16_2_bars_a_voluntary_sender():
    """PCSC 2022 s16(2): the discloser must be a listed body."""
    f = dict(POLICE_TO_YOT, **{"from": "step-together", "to": "met-police"})
    f["basis"] = ["PCSC_S16", "GDPR_6_1_EA", "SCH1_P10", "ART10"]
    assert "sender_not_eligible" in codes(document(f))


@settings(max_examples=60, deadline=None)
@given(roles=st.lists(st.sampled_from(ROLES), unique=True, min_size=1, max_size=3))
def test_s16_4_b_exclusion_follows_the_senders_roles(roles):
    """PCSC 2022 s16(4)(b): excluded iff the sender holds a health or social care role."""
    sender = partner("sender-x", *roles)
    f = dict(POLICE_TO_YOT, **{"from": "sender-x"}, fields={"given_name": "release"})
    f["basis"] = ["PCSC_S16", "SCH1_P10", "ART10"] + (
        ["GDPR_6_1_E"] if sender.public_authority else ["GDPR_6_1_EA"]
    )
    found = codes(document(f), with_partners(sender))
    excluded = set(roles) & set(BASES["PCSC_S16"].sender_roles_excluded)
    assert ("sender_excluded_by_statute" in found) == bool(excluded)


# --- OMA 2007 s14 ---------------------------------------------------------------------------


def test_oma07_s14_needs_probation_or_the_secretary_of_state_at_one_end():
    """OMA 2007 s14: the Secretary of State (prisons) or a probation provider at one end."""
    f = dict(PROBATION_TO_POLICE, **{"from": "met-police", "to": "sutton-yot"})
    assert "no_required_party_at_either_end" in codes(document(f))
    assert codes(document(PROBATION_TO_POLICE)) == set()


# --- purposes as codes ---------------------------------------------------------------------


def test_purpose_must_be_a_catalogue_code():
    """UK GDPR Art 5(1)(b): purposes specified, explicit and legitimate; codes, not free text."""
    assert "unknown_purpose" in codes(document(flow(purpose="gossip")))


@settings(max_examples=40, deadline=None)
@given(purpose=st.sampled_from(sorted(CATALOGUES.purposes)))
def test_gateway_serves_only_its_statutory_purposes(purpose):
    """CDA 1998 s115(1) "for the purposes of any provision of this Act": any other purpose is
    refused; every purpose it lists is accepted."""
    found = codes(document(flow(purpose=purpose)))
    served = purpose in BASES["CDA_S115"].purposes
    assert ("purpose_not_served_by_gateway" in found) == (not served)


# --- DPA 2018 Part 3 --------------------------------------------------------------------------


def test_part3_sensitive_processing_needs_a_schedule_8_condition():
    """DPA 2018 s35(5)(b): a Schedule 8 condition, not a Sch 1 one."""
    f = dict(PROBATION_TO_POLICE, basis=["OMA07_S14", "DPA_PART3"])
    assert codes(document(f)) == {"sensitive_processing_without_sch8"}


def test_part3_rejects_a_schedule_1_condition():
    """DPA 2018 s35 and Sch 8 govern Part 3; Sch 1 (UK GDPR Art 9) is the wrong regime."""
    f = dict(PROBATION_TO_POLICE, basis=["OMA07_S14", "DPA_PART3", "SCH8_P1", "SCH1_P10"])
    assert "wrong_regime_sch1_under_part3" in codes(document(f))


def test_uk_gdpr_rejects_a_schedule_8_condition():
    """DPA 2018 s10, Sch 1 govern UK GDPR processing; Sch 8 belongs to Part 3."""
    f = flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10", "SCH8_P1"])
    assert "wrong_regime_sch8_under_gdpr" in codes(document(f))


def test_part3_needs_strict_necessity_stated():
    """DPA 2018 s35(5)(a): sensitive processing without consent must be strictly necessary."""
    f = dict(PROBATION_TO_POLICE, strictly_necessary=None)
    assert codes(document(f)) == {"strict_necessity_not_stated"}


def test_part3_consent_route_needs_no_schedule_8_condition():
    """DPA 2018 s35(4): with consent (and an APD), no Sch 8 condition is needed."""
    f = dict(
        PROBATION_TO_POLICE,
        basis=["OMA07_S14", "DPA_PART3"],
        consent="required",
        consent_exemption=None,
        strictly_necessary=None,
    )
    assert codes(document(f)) == set()


def test_part3_only_for_a_law_enforcement_purpose():
    """DPA 2018 s31: Part 3 covers only the law-enforcement purposes."""
    f = dict(PROBATION_TO_POLICE, purpose="safeguarding_children")
    f["basis"] = ["CA04_S10_S11", "DPA_PART3", "SCH8_P1"]
    assert "part3_purpose_not_law_enforcement" in codes(document(f))


def test_part3_sensitive_processing_needs_an_appropriate_policy_document():
    """DPA 2018 s35(5)(c), s42: an appropriate policy document must be in place."""
    doc = document(PROBATION_TO_POLICE)
    del doc["appropriate_policy_document"]
    assert codes(doc) == {"apd_missing"}


# --- DPA 2018 Sch 1 --------------------------------------------------------------------------


def test_sch1_part2_condition_needs_an_appropriate_policy_document():
    """DPA 2018 Sch 1 para 5: a Part 2 condition (para 18) needs an APD."""
    doc = document(flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P18", "ART10"],
                        consent_exemption="para18_2_c"))
    del doc["appropriate_policy_document"]
    assert codes(doc) == {"apd_missing"}


def test_sch1_para10_to_a_competent_authority_needs_no_apd():
    """DPA 2018 Sch 1 para 10: no APD for a disclosure to a competent authority."""
    doc = document(flow())  # tri-borough-rr -> met-police under para 10
    del doc["appropriate_policy_document"]
    assert codes(doc) == set()


@pytest.mark.parametrize("condition", ["SCH1_P10", "SCH1_P18"])
def test_without_consent_conditions_cannot_carry_a_consent_flow(condition):
    """DPA 2018 Sch 1 para 10(1)(b) and para 18(1)(c): processing *without* consent only."""
    f = flow(
        basis=["CDA_S115", "GDPR_6_1_EA", condition, "ART10"],
        consent="required",
        consent_exemption=None,
        fields={"given_name": "release", "offence": "release"},
    )
    assert "without_consent_condition_on_consent_flow" in codes(document(f))


def test_explicit_consent_carries_special_category_on_a_consent_flow():
    """UK GDPR Art 9(2)(a): explicit consent can carry special-category data."""
    f = flow(
        "victim-first",
        "leics-sdvs",
        purpose="specialist_support_referral",
        basis=["GDPR_6_1_A", "GDPR_9_2_A"],
        consent="required",
        consent_exemption=None,
        fields={"given_name": "release", "disability": "release"},
    )
    assert codes(document(f)) == set()


# --- records the agreement keeps -------------------------------------------------------------


def test_dpia_reference_is_required():
    """UK GDPR Art 35: the DPIA behind the sharing is recorded."""
    doc = document()
    del doc["dpia_reference"]
    assert codes(doc) == {"dpia_reference_missing"}


def test_statutory_requirement_needs_a_duty_not_a_power():
    """UK GDPR Art 6(1)(c), 6(3): OMA 2007 s14 "may disclose" is a power, not a requirement."""
    f = dict(PROBATION_TO_POLICE, consent_exemption="statutory_requirement")
    f["basis"] = ["OMA07_S14", "DPA_PART3", "SCH8_P1", "GDPR_6_1_C", "DA05_RA"]
    assert "statutory_requirement_without_duty" not in codes(document(f))  # DA05_RA is a duty
    f["basis"] = ["OMA07_S14", "DPA_PART3", "SCH8_P1", "GDPR_6_1_C"]
    assert "statutory_requirement_without_duty" in codes(document(f))


def test_perpetrator_facing_override_needs_a_reason():
    """UK GDPR Art 5(2) accountability: overriding the high-privacy default is explained."""
    doc = document(flow("tri-borough-rr", "probation-london", basis=[
        "CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"]))
    doc["parties"][1]["perpetrator_facing"] = False
    assert "perpetrator_facing_override_without_reason" in codes(doc)
    doc["parties"][1]["perpetrator_facing_reason"] = "Receives as the victim's safeguarding lead."
    assert "perpetrator_facing_override_without_reason" not in codes(doc)


def test_review_history_is_parsed_and_its_absence_warned():
    """ICO data-sharing code: review the arrangement; the history is part of the record."""
    doc = document()
    agreement = parse_agreement(doc, "test.toml")
    assert agreement.review_history[0].date == dt.date(2026, 6, 1)
    del doc["review_history"]
    warned = {p.code for p in problems(doc) if p.severity == "warning"}
    assert "no_review_recorded" in warned


# --- partner files: roles and flags agree ----------------------------------------------------


def test_partner_flags_must_agree_with_statutory_roles(tmp_path: Path):
    """DPA 2018 s30, Sch 7: a chief officer of police is a competent authority; a file that
    says otherwise is refused, naming the file."""
    text = (ROOT / "policies" / "partners" / "kent-police.toml").read_text()
    (tmp_path / "kent-police.toml").write_text(
        text.replace("competent_authority = true", "competent_authority = false")
    )
    with pytest.raises(PolicyFileError, match=r"kent-police\.toml: statutory_roles"):
        load_partners(tmp_path, CATALOGUES.roles)


def test_unknown_role_is_refused():
    assert role_flag_problems(["wizard"], {}, CATALOGUES.roles) == [
        "unknown statutory role 'wizard'"
    ]


def test_every_demo_partner_flag_is_derived_from_its_roles():
    for info in PARTNERS.values():
        if info.statutory_roles:
            flags = implied_flags(info.statutory_roles, CATALOGUES.roles)
            assert flags == {k: info.flag(k) for k in flags}, info.id


# --- every refusal reason reachable from a drafted agreement --------------------------------


def _drop(key: str):
    def edit(doc: dict[str, Any]) -> None:
        del doc[key]

    return edit


def _party(**kw: Any):
    def edit(doc: dict[str, Any]) -> None:
        doc["parties"][1].update(kw)

    return edit


def _doc(**kw: Any):
    def edit(doc: dict[str, Any]) -> None:
        doc.update(kw)

    return edit


DEFAULT = flow()
# (reason code, flows, edit of the drafted document)
REFUSALS: list[tuple[str, list[dict[str, Any]], Any]] = [
    ("duplicate_party", [DEFAULT], lambda d: d["parties"].append(dict(d["parties"][0]))),
    ("unknown_partner", [flow(recipient="nobody")], None),
    ("dates_inverted", [DEFAULT], _doc(effective_to=dt.date(2025, 1, 1))),
    ("processor_roles", [DEFAULT], _doc(type="PROCESSOR")),
    ("processor_outside_processor_agreement",
     [flow("victim-first", "leics-target-hardening", basis=["GDPR_6_1_A"], consent="required",
           consent_exemption=None, purpose="target_hardening", fields={"given_name": "release"})],
     None),
    ("duplicate_flow", [DEFAULT, DEFAULT], None),
    ("purpose_not_declared", [DEFAULT], _doc(purposes=["crime_prevention"])),
    ("unknown_purpose", [flow(purpose="gossip")], None),
    ("unknown_basis", [flow(basis=[*DEFAULT["basis"], "MAGIC"])], None),
    ("flow_party_not_in_agreement", [DEFAULT],
     lambda d: d["parties"].pop()),
    ("flow_to_self", [flow("met-police", "met-police")], None),
    ("return_flow_without_outbound", [flow(return_flow=True)], None),
    ("no_art6_basis", [flow(basis=["CDA_S115", "SCH1_P10", "ART10"])], None),
    ("basis_missing_companion", [flow(basis=["CDA_S115", "GDPR_6_1_EA", "ART10"],
                                      fields={"offence": "release"})], None),
    ("consent_basis_without_consent", [flow(basis=["CDA_S115", "GDPR_6_1_A"],
                                            fields={"given_name": "release"})], None),
    ("sender_not_eligible", [flow("met-police", "sutton-csc")], None),
    ("recipient_not_eligible", [flow("tri-borough-rr", "victim-first")], None),
    ("acting_for_not_evidenced", [flow("tri-borough-rr", "step-together",
                                       acting_for="met-police")], None),
    ("no_required_party_at_either_end", [dict(PROBATION_TO_POLICE, **{"from": "met-police",
                                                                     "to": "sutton-yot"})], None),
    ("sender_excluded_by_statute", [dict(POLICE_TO_YOT, **{"from": "sutton-csc"})], None),
    ("purpose_not_served_by_gateway", [flow(purpose="victims_code_referral")], None),
    ("field_excluded_by_statute", [dict(POLICE_TO_YOT, fields={"mental_health": "release"})],
     None),
    ("unknown_field", [flow(fields={"shoe_size": "release"})], None),
    ("transform_not_allowed", [flow(fields={"pnc_id": "initials"})], None),
    ("opinion_on_fact_only_flow", [flow(fact_only=True, fields={"rag_status": "release"})], None),
    ("class_not_justified_by_basis", [flow(basis=["GDPR_6_1_E"], consent="preferred",
                                           consent_exemption=None, sender="met-police",
                                           recipient="sutton-csc")], None),
    ("class_excluded_by_basis", [flow(fields={"intelligence_text": "release"},
                                      basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"])],
     None),
    ("special_category_without_art9", [flow(basis=["CDA_S115", "GDPR_6_1_EA", "ART10",
                                                   "SCH1_P29"], consent="required",
                                            consent_exemption=None)], None),
    ("criminal_offence_without_art10", [flow(basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10"])],
     None),
    ("sensitive_processing_without_sch8", [dict(PROBATION_TO_POLICE,
                                                basis=["OMA07_S14", "DPA_PART3"])], None),
    ("strict_necessity_not_stated", [dict(PROBATION_TO_POLICE, strictly_necessary=None)], None),
    ("wrong_regime_sch1_under_part3", [dict(PROBATION_TO_POLICE, basis=[
        "OMA07_S14", "DPA_PART3", "SCH8_P1", "SCH1_P10"])], None),
    ("wrong_regime_sch8_under_gdpr", [flow(basis=[*DEFAULT["basis"], "SCH8_P1"])], None),
    ("part3_purpose_not_law_enforcement", [dict(PROBATION_TO_POLICE,
                                                purpose="safeguarding_children",
                                                basis=["CA04_S10_S11", "DPA_PART3",
                                                       "SCH8_P1"])], None),
    ("apd_missing", [PROBATION_TO_POLICE], _drop("appropriate_policy_document")),
    ("dpia_reference_missing", [DEFAULT], _drop("dpia_reference")),
    ("perpetrator_facing_override_without_reason", [DEFAULT], _party(perpetrator_facing=True)),
    ("statutory_requirement_without_duty", [dict(PROBATION_TO_POLICE,
                                                 consent_exemption="statutory_requirement",
                                                 basis=["OMA07_S14", "DPA_PART3", "SCH8_P1",
                                                        "GDPR_6_1_C"])], None),
    ("without_consent_condition_on_consent_flow", [flow(
        basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"], consent="required",
        consent_exemption=None, fields={"offence": "release"})], None),
    ("where_without_safety_justification", [flow(fields={"secret_address": "release"})], None),
    ("where_to_perpetrator_facing", [flow("tri-borough-rr", "probation-london",
                                          fields={"refuge_flag": "release"},
                                          safety_justification="x")], None),
    ("consent_exemption_missing", [flow(consent_exemption=None)], None),
    ("child_rule_outside_allow_list", [flow(children={"withhold": ["siblings"]})], None),
    ("consent_exemption_basis_mismatch", [flow(consent_exemption="para18_2_c")], None),
]
# Warnings and file-level problems are not refusals of a drafted agreement's content.
NOT_REFUSALS = {"review_after_expiry", "unused_purpose", "no_review_recorded",
                "consent_exemption_unexpected", "id_mismatch"}


def _strip(f: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in f.items() if v is not None}


@pytest.mark.parametrize(("code", "flows", "edit"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_reason_from_a_drafted_agreement(code, flows, edit):
    """Each refusal reason, reached from a drafted agreement, cites its statute."""
    doc = document(*[_strip(f) for f in flows])
    if edit is not None:
        edit(doc)
    found = [p for p in problems(doc) if p.severity == "error"]
    hit = [p for p in found if p.code == code]
    assert hit, [p.code for p in found]
    assert all(p.citation for p in hit)


# Reasons whose statute is the gateway's own reference (carried on the problem itself).
GATEWAY_REASONS = {
    "sender_not_eligible",
    "recipient_not_eligible",
    "acting_for_not_evidenced",
    "no_required_party_at_either_end",
    "sender_excluded_by_statute",
    "purpose_not_served_by_gateway",
    "field_excluded_by_statute",
}


def test_every_refusal_reason_is_reachable():
    assert {r[0] for r in REFUSALS} == (set(STATUTES) | GATEWAY_REASONS) - NOT_REFUSALS


# --- the re-drafted demo agreements ---------------------------------------------------------

# (agreement, flow index, from, to, purpose, gateway(s), regime)
DEMO_TABLE = [
    ("dudley-encompass", 0, "west-mids-police", "dudley-school", "operation_encompass",
     {"VPA24_ENCOMPASS"}, "uk_gdpr"),
    ("dudley-step-together", 0, "west-mids-police", "step-together", "school_route_safety",
     {"POLICE_COMMON_LAW"}, "uk_gdpr"),
    ("dudley-step-together", 1, "step-together", "west-mids-police", "school_route_safety",
     {"CDA_S115"}, "uk_gdpr"),
    ("kent-missing-children", 0, "kent-police", "kent-csc", "missing_child_alert",
     {"CA04_S10_S11"}, "uk_gdpr"),
    ("kent-missing-children", 1, "kent-police", "medway-csc", "missing_child_alert",
     {"CA04_S10_S11"}, "uk_gdpr"),
    ("kent-syv-intelligence", 0, "kent-syv-provider", "kent-police", "crime_prevention",
     {"CDA_S115"}, "uk_gdpr"),
    ("kent-syv-outcomes", 0, "kent-syv-provider", "kent-csc", "outcome_monitoring",
     {"CDA_S115"}, "uk_gdpr"),
    ("kent-syv-outcomes", 1, "kent-syv-provider", "medway-csc", "outcome_monitoring",
     {"CDA_S115"}, "uk_gdpr"),
    ("kent-syv-referral", 0, "kent-csc", "kent-syv-provider", "syv_intervention",
     {"CA04_S10_S11"}, "uk_gdpr"),
    ("kent-syv-referral", 1, "medway-csc", "kent-syv-provider", "syv_intervention",
     {"CA04_S10_S11"}, "uk_gdpr"),
    ("leics-target-hardening", 0, "victim-first", "leics-target-hardening", "target_hardening",
     set(), "uk_gdpr"),
    ("leics-target-hardening", 1, "leics-target-hardening", "victim-first",
     "target_hardening_feedback", set(), "uk_gdpr"),
    ("leics-vf-sdvs", 0, "victim-first", "leics-sdvs", "specialist_support_referral", set(),
     "uk_gdpr"),
    ("leics-vf-sdvs", 1, "leics-sdvs", "victim-first", "specialist_support_referral", set(),
     "uk_gdpr"),
    ("leics-victim-referrals", 0, "leics-police", "victim-first", "victims_code_referral",
     {"DVCVA04_S32"}, "uk_gdpr"),
    ("leics-victim-referrals", 1, "victim-first", "leics-police", "referral_outcome", set(),
     "uk_gdpr"),
    ("sutton-community-marac", 0, "met-police", "safer-sutton", "community_marac_referral",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 1, "sutton-outreach", "safer-sutton", "community_marac_referral",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 2, "safer-sutton", "met-police", "community_marac_alert",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 3, "safer-sutton", "sutton-yot", "community_marac_alert",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 4, "safer-sutton", "sutton-csc", "community_marac_alert",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 5, "met-police", "safer-sutton", "marac_research_return",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 6, "sutton-csc", "safer-sutton", "marac_research_return",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 7, "met-police", "safer-sutton", "marac_action_update",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 8, "sutton-csc", "safer-sutton", "marac_action_update",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-community-marac", 9, "sutton-outreach", "safer-sutton", "marac_action_update",
     {"CDA_S115"}, "uk_gdpr"),
    ("leics-marac", 0, "victim-first", "leics-police", "marac_referral", {"CDA_S115"}, "uk_gdpr"),
    ("leics-marac", 1, "leics-sdvs", "leics-police", "marac_referral", {"CDA_S115"}, "uk_gdpr"),
    ("leics-marac", 2, "leics-police", "victim-first", "marac_research", {"POLICE_COMMON_LAW"},
     "uk_gdpr"),
    ("leics-marac", 3, "leics-police", "leics-sdvs", "marac_research", {"POLICE_COMMON_LAW"},
     "uk_gdpr"),
    ("leics-marac", 4, "victim-first", "leics-police", "marac_research_return", {"CDA_S115"},
     "uk_gdpr"),
    ("leics-marac", 5, "leics-sdvs", "leics-police", "marac_research_return", {"CDA_S115"},
     "uk_gdpr"),
    ("leics-marac", 6, "victim-first", "leics-police", "marac_action_update", {"CDA_S115"},
     "uk_gdpr"),
    ("leics-marac", 7, "leics-sdvs", "leics-police", "marac_action_update", {"CDA_S115"},
     "uk_gdpr"),
    ("sutton-safeguarding-concerns", 0, "sutton-outreach", "met-police", "safeguarding_concern",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-safeguarding-concerns", 1, "sutton-outreach", "sutton-yot", "safeguarding_concern",
     {"CDA_S115"}, "uk_gdpr"),
    ("sutton-safeguarding-concerns", 2, "sutton-outreach", "sutton-csc", "safeguarding_concern",
     {"CDA_S115"}, "uk_gdpr"),
    ("tri-custody-drug-test", 0, "met-police", "tri-borough-rr", "required_assessment",
     {"DA05_RA"}, "uk_gdpr"),
    ("tri-iom", 0, "probation-london", "met-police", "integrated_offender_management",
     {"OMA07_S14"}, "part3"),
    ("tri-iom", 1, "met-police", "probation-london", "integrated_offender_management",
     {"OMA07_S14"}, "part3"),
    ("tri-non-engagement", 0, "tri-borough-rr", "met-police", "enforcement", {"CDA_S115"},
     "uk_gdpr"),
    ("tri-prison-release", 0, "hmp-wandsworth", "tri-borough-rr", "resettlement",
     {"OMA07_S14"}, "uk_gdpr"),
    ("tri-serious-further-offence", 0, "probation-london", "met-police",
     "serious_further_offence_alert", {"OMA07_S14"}, "part3"),
]


def test_demo_table_covers_every_flow(demo):
    flows = {(r.agreement.id, f.index) for r in demo.agreements for f in r.agreement.flows}
    assert flows == {(row[0], row[1]) for row in DEMO_TABLE}


@pytest.mark.parametrize("row", DEMO_TABLE, ids=[f"{r[0]}#{r[1]}" for r in DEMO_TABLE])
def test_redrafted_demo_flow(demo, row):
    """Every re-drafted demo flow: its parties, purpose, gateway and regime, valid as signed;
    each gateway serves the purpose and its parties hold the roles its statute names."""
    aid, index, sender, recipient, purpose, gateways, regime = row
    reg = next(r for r in demo.agreements if r.agreement.id == aid)
    assert reg.problems == () or all(p.severity == "warning" for p in reg.problems)
    f = reg.agreement.flows[index]
    assert (f.sender, f.recipient, f.purpose) == (sender, recipient, purpose)
    found = {c for c in f.basis if BASES[c].kind == "gateway"}
    assert found == gateways
    assert ("part3" if "DPA_PART3" in f.basis else "uk_gdpr") == regime
    for code in gateways:
        assert purpose in BASES[code].purposes
    assert demo.statuses(NOW)[(aid, reg.agreement.version)].in_force


def test_every_demo_flow_is_traced_to_its_seed():
    for path in (ROOT / "policies" / "agreements").glob("*.toml"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line == "[[flows]]":
                assert lines[i - 1].startswith("# Seed "), f"{path.name}:{i + 1}"


def test_verify_names_the_statute_behind_a_refusal(demo):
    """``hub agreements verify`` prints the reason code and the statute for each refusal."""
    from hub.policy.status import agreement_status, register_agreement

    reg = next(r for r in demo.agreements if r.agreement.id == "tri-iom")
    doc = dict(reg.document)
    doc["flows"] = [dict(f) for f in doc["flows"]]
    doc["flows"][0]["basis"] = ["OMA07_S14", "DPA_PART3"]
    bad = register_agreement(doc, [], CATALOGUES, PARTNERS, demo.keys)
    status = agreement_status(bad, NOW, ())
    text = " ".join(r.message for r in status.reasons)
    assert "sensitive_processing_without_sch8" in text and "DPA 2018 s35" in text


def test_partner_info_is_frozen():
    info = PARTNERS["met-police"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.statutory_roles = ()  # type: ignore[misc]


# --- fact and opinion ------------------------------------------------------------------------


def test_released_opinion_is_marked_and_stays_marked_through_transforms():
    """ICO data-sharing code: "fact and opinion clearly distinguished"; the mark is by field,
    so it survives whatever transform the flow applies."""
    from hub.policy import decide
    from tests.policy.conftest import SECRET, register

    f = flow(fields={"given_name": "initials", "rag_status": "release", "pnc_id": "release"})
    reg = register(document(f))
    req = {
        "from": "tri-borough-rr",
        "to": "met-police",
        "purpose": "enforcement",
        "data": {"given_name": "Jo Ann", "rag_status": "red", "pnc_id": "1"},
        "consent": {"state": "not_sought", "reason": "prejudice"},
    }
    d = decide(req, [reg], CATALOGUES, PARTNERS, NOW, keyed_hash_secret=SECRET)
    assert d.opinion == ("rag_status",)
    assert d.as_dict()["opinion"] == ["rag_status"]
    assert "given_name" not in d.opinion

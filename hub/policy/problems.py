"""A validation problem, and the statute behind each refusal reason.

``hub agreements verify`` prints every problem with its reason code *and* the law that makes it
a problem, so a DPO reading a refusal knows which provision to check. Rules whose statute
depends on the code in the tuple (a gateway's party lists, its purposes) pass the catalogue's
``reference`` explicitly; the rest take the citation from :data:`STATUTES`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Reason code -> the provision that makes it a refusal (or a warning).
STATUTES: dict[str, str] = {
    "duplicate_party": "ICO data-sharing code (parties)",
    "unknown_partner": "ICO data-sharing code (parties)",
    "dates_inverted": "ICO data-sharing code (review and termination)",
    "review_after_expiry": "ICO data-sharing code (review)",
    "processor_roles": "UK GDPR Art 28(3)",
    "processor_outside_processor_agreement": "UK GDPR Art 28(3)",
    "duplicate_flow": "ICO data-sharing code (data items)",
    "unused_purpose": "UK GDPR Art 5(1)(b)",
    "purpose_not_declared": "UK GDPR Art 5(1)(b)",
    "unknown_purpose": "UK GDPR Art 5(1)(b); policies/lawful_bases.toml [purposes]",
    "unknown_basis": "policies/lawful_bases.toml",
    "flow_party_not_in_agreement": "ICO data-sharing code (parties)",
    "flow_to_self": "ICO data-sharing code (data flows)",
    "return_flow_without_outbound": "ICO data-sharing code (data flows)",
    "no_art6_basis": "UK GDPR Art 6(1); DPA 2018 s35(2) (Part 3)",
    "basis_missing_companion": "UK GDPR Art 6(3)",
    "consent_basis_without_consent": (
        "UK GDPR Art 6(1)(a), Art 7, Art 9(2)(a); DPA 2018 Sch 1 para 29"
    ),
    "unknown_field": "UK GDPR Art 5(1)(c) (data minimisation)",
    "transform_not_allowed": "UK GDPR Art 5(1)(c)",
    "opinion_on_fact_only_flow": "ICO data-sharing code (fact and opinion distinguished)",
    "class_not_justified_by_basis": "UK GDPR Art 5(1)(a), Art 6(3)",
    "class_excluded_by_basis": "the gateway's statute (see the code in the message)",
    "special_category_without_art9": "UK GDPR Art 9(1); DPA 2018 s10, Sch 1",
    "criminal_offence_without_art10": "UK GDPR Art 10; DPA 2018 s10(5), s11(2)",
    "sensitive_processing_without_sch8": "DPA 2018 s35(3)-(5), Sch 8",
    "strict_necessity_not_stated": "DPA 2018 s35(5)(a)",
    "wrong_regime_sch1_under_part3": "DPA 2018 s35, Sch 8 (Part 3), not s10, Sch 1",
    "wrong_regime_sch8_under_gdpr": "DPA 2018 s10, Sch 1 (UK GDPR), not s35, Sch 8",
    "part3_purpose_not_law_enforcement": "DPA 2018 s29, s31",
    "apd_missing": "DPA 2018 Sch 1 para 5 and para 39; s35(4)-(5), s42",
    "dpia_reference_missing": "UK GDPR Art 35",
    "no_review_recorded": "ICO data-sharing code (review); UK GDPR Art 5(2)",
    "perpetrator_facing_override_without_reason": (
        "UK GDPR Art 5(2) (accountability); 2024 safeguarding advice"
    ),
    "statutory_requirement_without_duty": "UK GDPR Art 6(1)(c), Art 6(3)",
    "without_consent_condition_on_consent_flow": "DPA 2018 Sch 1 para 10(1)(b), para 18(1)(c)",
    "where_without_safety_justification": (
        "2024 safeguarding advice (protect anyone who could be harmed)"
    ),
    "where_to_perpetrator_facing": "2024 safeguarding advice; SafeLives MARAC guidance",
    "consent_exemption_missing": "DPA 2018 Sch 1 para 10(1)(b), para 18(2); s35(2)",
    "consent_exemption_basis_mismatch": "DPA 2018 Sch 1 para 10, para 18(2); s35(2)(b)",
    "consent_exemption_unexpected": "DPA 2018 Sch 1 para 10, para 18",
    "id_mismatch": "hub policy file layout",
    "child_rule_outside_allow_list": "ICO data-sharing code (children); UK GDPR Art 5(1)(c)",
}


@dataclass(frozen=True)
class Problem:
    """One reason an agreement is refused (``error``) or needs attention (``warning``)."""

    file: str
    path: str
    code: str
    message: str
    severity: str = "error"
    statute: str = ""  # empty: take it from STATUTES by code

    @property
    def citation(self) -> str:
        """The provision behind this problem."""
        return self.statute or STATUTES.get(self.code, "")

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message} [{self.code}; {self.citation}]"

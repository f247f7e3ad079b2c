"""The demo partnership's scripted messages: who sends what to whom, for which purpose.

Every message follows a flow in ``policies/agreements/`` (seeds 001, 000 and 003) and
deliberately carries a few fields its flow does not allow, so the report shows the hub
withholding them field by field. Values are invented demo data: no real person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class Message:
    """One scripted share. ``to`` is ``None`` for an alert (the hub picks recipients)."""

    title: str
    sender: str
    to: str | None
    body: dict[str, Any]
    kind: str = "referral"  # or "alert"
    story: str = ""
    expect_refused: bool = False
    # On a consent flow the sender first records the consent it holds (UK GDPR Art 7(1)) and
    # cites it: the record's extra members (e.g. ``explicit``); its scope is this message's.
    consent_record: dict[str, Any] | None = None


def _days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def victim_first_referrals() -> list[Message]:
    """Seed 003: Leicestershire Police's daily download of victims who accepted referral."""
    justification = (
        "Victim accepted referral to Victim First at first contact; Victim First writes to "
        "and visits the home address she gave."
    )
    priya = {
        "given_name": "Priya",
        "family_name": "Sharma",
        "date_of_birth": "1987-06-14",
        "gender": "female",
        "crime_reference": "LP/24817/26",
        "victim_current_address": "14 Aylestone Road, Leicester",
        "postcode": "LE2 7LA",
        "phone_primary": "07700 900123",
        "phone_primary_safe_to_call": True,
        "contact_preference": "phone",
        "safe_time": "Weekdays 10:00-12:00",
        "crime_type": "Burglary (dwelling)",
        "offence_date": _days_ago(3),
        "repeat_victim": True,
        "victims_code_category": "enhanced",
        "vulnerability_summary": "Lives alone; second burglary this year",
        # Not on the police -> Victim First allow-list: the hub withholds them.
        "ethnicity": "British Indian",
        "intelligence_text": "Suspect vehicle linked to a local burglary series",
    }
    tom = {
        "given_name": "Tom",
        "family_name": "Okafor",
        "date_of_birth": "1999-01-22",
        "crime_reference": "LP/24902/26",
        "email": "tom.okafor@example.org",
        "contact_preference": "email",
        "crime_type": "Assault occasioning actual bodily harm",
        "offence_date": _days_ago(2),
        "repeat_victim": False,
        "victims_code_category": "standard",
        "previous_convictions": "None recorded",
    }
    body = {"to": "victim-first", "purpose": "victims_code_referral", "consent": {"state": "given"}}
    return [
        Message(
            "Police daily download to Victim First (1 of 2)",
            "leics-police",
            "victim-first",
            {**body, "data": priya, "justification": justification},
            consent_record={},
            story="Victim accepted referral; current address released under the flow's "
            "safety justification. Ethnicity and intelligence are not on the allow-list.",
        ),
        Message(
            "Police daily download to Victim First (2 of 2)",
            "leics-police",
            "victim-first",
            {**body, "data": tom},
            consent_record={},
            story="A second victim; his previous convictions never leave the police.",
        ),
    ]


def target_hardening_job() -> Message:
    """Seed 003: Victim First instructs the target-hardening contractor (Art 28 processor)."""
    return Message(
        "Victim First to the target-hardening contractor",
        "victim-first",
        "leics-target-hardening",
        {
            "to": "leics-target-hardening",
            "purpose": "target_hardening",
            "consent": {"state": "given"},
            "justification": "Locks fitted at the victim's home at her request (consent given).",
            "data": {
                "given_name": "Priya",
                "family_name": "Sharma",
                "victim_current_address": "14 Aylestone Road, Leicester",
                "postcode": "LE2 7LA",
                "phone_primary": "07700 900123",
                "phone_primary_safe_to_call": True,
                "safe_time": "Weekdays 10:00-12:00",
                "access_needs": "Uses a wheelchair; allow time to answer the door",
                "tenure_permission": "tenant_permission_given",
                "works_required": "Door and window locks, door chain, video doorbell",
                "urgency": "emergency",
                "provider_reference": "VF-2026-0142",
                # A processor gets the minimum to do the job: none of these.
                "date_of_birth": "1987-06-14",
                "crime_type": "Burglary (dwelling)",
                "vulnerability_summary": "Lives alone; second burglary this year",
            },
        },
        # The flow names Art 9(2)(a), so the record must be explicit.
        consent_record={"explicit": True},
        story="The contractor needs name, address, phone and access needs, not the crime.",
    )


def kent_syv_referral() -> Message:
    """Seed 001: Kent children's services triage to the serious youth violence provider."""
    return Message(
        "Kent children's services to the serious youth violence provider",
        "kent-csc",
        "kent-syv-provider",
        {
            "to": "kent-syv-provider",
            "purpose": "syv_intervention",
            "consent": {"state": "given"},
            "data": {
                "given_name": "Jayden",
                "family_name": "Reid",
                "date_of_birth": "2010-03-09",
                "gender": "male",
                "la_case_number": "KCC-558201",
                "school_name": "Oakfield Academy",
                "ete_status": "missing_education",
                "exclusions_count": 2,
                "missing_episodes_count": 4,
                "last_missing_date": _days_ago(9),
                "exploitation_tier": "significant",
                "arrests_count": 1,
                "offence_category": "drugs_supply",
                "rag_status": "red",
                # The agreement says: no health, CSC notes, siblings or intelligence.
                "mental_health": "CAMHS referral for anxiety and low mood",
                "social_care_notes": "Child in need plan since March; mother engaging",
                "siblings": "Sister aged 7",
            },
        },
        story="Risks, missing episodes and ETE go; health, CSC notes and siblings stay.",
    )


def marac_alert() -> Message:
    """Seed 000: the Community MARAC co-ordinator's high-risk alert to each agency."""
    return Message(
        "Community MARAC high-risk alert (fan-out)",
        "safer-sutton",
        None,
        {
            "kind": "marac_high_risk",
            "purpose": "community_marac_alert",
            "consent": {"state": "not_sought", "reason": "unsafe"},
            "data": {
                "given_name": "Maria",
                "family_name": "Costa",
                "date_of_birth": "1979-11-02",
                "marac_case_number": "SCM-2026-031",
                "offence_date": _days_ago(6),
                "marac_criterion": "visible_high_risk",
                "dash_score": 17,  # the evidence for "visible high risk" (SafeLives: 14+)
                "perpetrator_name": "Daniel Hart",
                "perpetrator_date_of_birth": "1975-05-17",
                "children_in_household": "Two children, aged 6 and 9",
                "actions": "Police: flag address for priority response. CSC: strategy check.",
                "risk_level": "very_high",
                # WHERE data: never on these flows, never to a perpetrator-facing agency.
                "victim_current_address": "3 Mulgrave Road, Sutton",
            },
        },
        kind="alert",
        story="Each agency gets its own decision: the DASH score stays with the co-ordinator, "
        "the YOT (perpetrator-facing) gets no risk level, nobody gets her address.",
    )


def refused_job() -> Message:
    """A target-hardening job for a victim who refused consent: the flow requires it."""
    return Message(
        "Victim First to the contractor, consent refused",
        "victim-first",
        "leics-target-hardening",
        {
            "to": "leics-target-hardening",
            "purpose": "target_hardening",
            "consent": {"state": "refused"},
            "data": {
                "given_name": "Tom",
                "family_name": "Okafor",
                "works_required": "Door locks",
                "urgency": "standard",
            },
        },
        story="The processor flow needs consent; without it nothing leaves Victim First.",
        expect_refused=True,
    )


def messages() -> list[Message]:
    """The scripted run, in order."""
    return [
        *victim_first_referrals(),
        target_hardening_job(),
        kent_syv_referral(),
        marac_alert(),
        refused_job(),
    ]

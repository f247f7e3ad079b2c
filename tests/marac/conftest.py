"""Fixtures for the MARAC tests: the demo partnership synced, a session, the sharing context,
referrals sent through the real referral service, and the actors of each agency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from hub import db
from hub.marac import MaracActor
from hub.sharing.context import SharingContext
from hub.sharing.referrals import send_referral

LEICS_COORDINATOR = MaracActor(
    "leics-police", person_pseudonym="p-leics-coord", roles=frozenset({"marac_coordinator"})
)
SUTTON_COORDINATOR = MaracActor(
    "safer-sutton", person_pseudonym="p-sutton-coord", roles=frozenset({"marac_coordinator"})
)
VICTIM_FIRST = MaracActor.from_client("victim-first")
SDVS = MaracActor("leics-sdvs", person_pseudonym="p-sdvs-rep", roles=frozenset({"agency_rep"}))
MET = MaracActor("met-police", person_pseudonym="p-met-rep", roles=frozenset({"agency_rep"}))
CSC = MaracActor.from_client("sutton-csc")
YOT_REP = MaracActor("sutton-yot", person_pseudonym="p-yot-rep", roles=frozenset({"agency_rep"}))
YOT_COORDINATOR_ROLE = MaracActor(
    "sutton-yot", person_pseudonym="p-yot-x", roles=frozenset({"marac_coordinator", "dpo"})
)
YOT_CLIENT = MaracActor.from_client("sutton-yot")
OUTSIDER = MaracActor.from_client("kent-police")

VICTIM = {"given_name": "Jo", "family_name": "Marsh", "date_of_birth": "1988-03-14"}
CANARY_ADDRESS = "Canary-Address-12-Hidden-Way"


def leics_referral(
    sender: str = "victim-first",
    victim: dict[str, Any] | None = None,
    children: str | None = "Two children, aged 4 and 7",
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        **(victim or VICTIM),
        "victim_current_address": CANARY_ADDRESS,
        "marac_criterion": "visible_high_risk",
        "dash_score": 16,
        "dash_answers": "Canary-Dash-Answers",
        "risk_level": "very_high",
        "perpetrator_name": "Lee Hart",
        "offence_date": "2026-11-20",
        **extra,
    }
    if children:
        data["children_in_household"] = children
    return {
        "to": "leics-police",
        "purpose": "marac_referral",
        "consent": {"state": "not_sought", "reason": "unsafe"},
        "justification": "marac-safety-planning",
        "data": data,
    }


def sutton_referral(
    victim: dict[str, Any] | None = None, children: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        **(victim or VICTIM),
        "victim_current_address": CANARY_ADDRESS,
        "marac_criterion": "professional_judgement",
        "professional_judgement": "Escalating harassment of a vulnerable neighbour",
        "risk_level": "high",
        "perpetrator_name": "Dan Hill",
        "offence": "harassment",
    }
    if children:
        data["children_in_household"] = children
    return {
        "to": "safer-sutton",
        "purpose": "community_marac_referral",
        "consent": {"state": "not_sought", "reason": "unsafe"},
        "justification": "marac-safety-planning",
        "data": data,
    }


@pytest.fixture
def ctx(app: Flask, demo_partners: list[str]) -> SharingContext:
    return app.extensions["hub.sharing"]  # type: ignore[no-any-return]


@pytest.fixture
def session(app: Flask, ctx: SharingContext) -> Iterator[Session]:
    with db.make_sessionmaker(app.extensions["hub.engine"])() as s:
        yield s


@pytest.fixture
def refer(session: Session, ctx: SharingContext) -> Callable[..., dict[str, Any]]:
    """Send a referral through the real service; returns its 201 body."""

    def _refer(sender: str, body: dict[str, Any]) -> dict[str, Any]:
        outcome = send_referral(session, ctx, sender, body)
        assert outcome.status == 201, outcome.body
        return outcome.body

    return _refer

"""Fixtures for the DPO console's services: a partnership with a seeded subject.

Everything is seeded through the real API (real client assertions, real decisions, real
ledger entries), so the projection the services read is the one production writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from hub.audit.scope import Viewer
from tests.sharing.conftest import (  # noqa: F401
    KENT_REFERRAL,
    VICTIM_REFERRAL,
    auth,
    consented,
    send,
)

SUBJECT = {"given_name": KENT_REFERRAL["data"]["given_name"], "family_name": "Smith",
           "date_of_birth": "2010-04-01"}  # fmt: skip
OTHER = {**KENT_REFERRAL["data"], "given_name": "Other", "family_name": "Person"}


@dataclasses.dataclass
class Seeded:
    """Ledger indexes of what the seed wrote about the subject, and about others."""

    disclosures: list[int]
    refusals: list[int]
    views: list[int]
    other_agency: list[int]  # leics-police -> victim-first: neither Kent agency is a party
    unrelated: list[int]  # about another person


def viewer(partner: str, *roles: str) -> Viewer:
    return Viewer(partner_id=partner, roles=frozenset(roles), pseudonym="u-0123456789abcdef")


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with app.extensions["hub.sessionmaker"]() as session:
        yield session


@pytest.fixture
def subject_secret(app: Flask) -> bytes:
    return app.extensions["hub.sharing"].subject_secret  # type: ignore[no-any-return]


@pytest.fixture
def seeded(client, send, auth, consented) -> Seeded:  # noqa: F811
    """Two disclosures and one refusal about SUBJECT, the recipient's inbox read (a view),
    one disclosure about another person and one between two other agencies."""
    first = send("kent-csc", KENT_REFERRAL)
    assert first.status_code == 201, first.get_json()
    second = send("kent-csc", {**KENT_REFERRAL, "purpose": "syv_intervention"})
    refused = send("kent-csc", {**KENT_REFERRAL, "to": "kent-police"})
    assert refused.status_code == 403
    other = send("kent-csc", {**KENT_REFERRAL, "data": OTHER})
    leics = send("leics-police", consented("leics-police", VICTIM_REFERRAL))
    assert leics.status_code == 201, leics.get_json()
    inbox = client.get("/api/v1/inbox", headers=auth("kent-syv-provider"))
    assert inbox.status_code == 200
    views = _consultations_after(client.application, first.get_json()["receipt"]["index"])
    return Seeded(
        disclosures=[first.get_json()["receipt"]["index"], second.get_json()["receipt"]["index"]],
        refusals=[refused.get_json()["ledger_index"]],
        views=views,
        other_agency=[leics.get_json()["receipt"]["index"]],
        unrelated=[other.get_json()["receipt"]["index"]],
    )


def _consultations_after(app: Flask, start: int) -> list[int]:
    """Inbox reads that name the subject (the recipient's consultation entries)."""
    from sqlalchemy import select

    from hub.ledger.projection import AuditEvent, AuditSubject
    from hub.sharing.subjects import subject_commitments

    secret = app.extensions["hub.sharing"].subject_secret
    commitments = subject_commitments(secret, SUBJECT)
    with app.extensions["hub.sessionmaker"]() as session:
        query = (
            select(AuditEvent.index)
            .join(AuditSubject, AuditSubject.index == AuditEvent.index)
            .where(AuditEvent.type == "consultation", AuditEvent.index > start,
                   AuditSubject.commitment.in_(commitments))
            .distinct()
        )  # fmt: skip
        return sorted(session.scalars(query))


@pytest.fixture
def verifier_key(app: Flask, settings) -> str:
    from hub.ledger.service import log_verifier_key

    return log_verifier_key(app.extensions["hub.signing_key"], settings.log_origin)


@pytest.fixture
def sign_now(app: Flask, settings) -> Callable[[], Any]:
    """Sign a checkpoint of the current tree (so entries can be verified)."""
    from hub.ledger.checkpoint import sign_checkpoint

    def _sign() -> Any:
        with app.extensions["hub.sessionmaker"]() as session:
            checkpoint = sign_checkpoint(session, app.extensions["hub.signing_key"],
                                         settings.log_origin)  # fmt: skip
            session.commit()
            return checkpoint

    return _sign

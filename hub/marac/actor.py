"""Who is acting on a MARAC: a signed-in person or a partner's API client."""

from __future__ import annotations

import dataclasses
from typing import Any

COORDINATOR_ROLE = "marac_coordinator"


@dataclasses.dataclass(frozen=True)
class MaracActor:
    """The caller as the MARAC services need them (no Flask objects).

    Exactly one of ``person_pseudonym`` (a console person, ``actor.user`` on the ledger) and
    ``client_id`` (a partner system's OAuth client) is set.
    """

    partner_id: str
    person_pseudonym: str | None = None
    client_id: str | None = None
    roles: frozenset[str] = frozenset()

    @classmethod
    def from_person(cls, person: Any) -> MaracActor:
        """From a console person (``hub.web.access.SignedInPerson``)."""
        return cls(
            partner_id=person.partner_id,
            person_pseudonym=person.pseudonym,
            roles=frozenset(person.roles),
        )

    @classmethod
    def from_client(cls, partner_id: str, client_id: str | None = None) -> MaracActor:
        """From an API bearer token: the partner's own system (an agency, not a person)."""
        return cls(partner_id=partner_id, client_id=client_id or partner_id)

    @property
    def ledger_actor(self) -> dict[str, str]:
        """The ``actor`` of the ledger entries this caller causes."""
        if self.person_pseudonym:
            return {"partner": self.partner_id, "user": self.person_pseudonym}
        return {"partner": self.partner_id, "client": self.client_id or self.partner_id}

    @property
    def signer(self) -> str:
        """Who signs for the agency: the person's pseudonym or the client id."""
        return self.person_pseudonym or self.client_id or self.partner_id

    @property
    def is_coordinator_role(self) -> bool:
        return COORDINATOR_ROLE in self.roles

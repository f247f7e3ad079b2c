"""Consent as a record: who gave it, when, for what and to whom, and whether it was withdrawn.

UK GDPR Art 7(1): a controller relying on consent must be able to show it was given; Art 7(3):
it can be withdrawn at any time, and withdrawal stops every later processing that relies on it.
A message on a consent flow cites a record by id; the engine checks the record is live at the
decision time and covers this purpose and recipient, and that it is *explicit* where the tuple
relies on explicit consent (Art 9(2)(a)) for special-category data. The record carries no
personal data (the subject is identified only by the sender's own case reference, if at all),
so a reason text can name it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from hub.policy.agreement import Flow
from hub.policy.reasons import Reason

# Basis codes that *are* consent: UK GDPR Art 6(1)(a), Art 9(2)(a), DPA 2018 Sch 1 para 29.
CONSENT_BASES = frozenset({"GDPR_6_1_A", "GDPR_9_2_A", "SCH1_P29"})


@dataclass(frozen=True)
class ConsentRecord:
    """One consent, as the sender (the controller that obtained it) recorded it."""

    id: str
    sender: str  # the partner that obtained the consent and cites it
    given_at: dt.datetime
    purposes: tuple[str, ...]  # purpose codes the consent covers
    recipients: tuple[str, ...]  # partner ids the consent covers
    explicit: bool = False  # UK GDPR Art 9(2)(a): an express statement of consent
    withdrawn_at: dt.datetime | None = None

    def live_at(self, now: dt.datetime) -> bool:
        """Given by ``now`` and not withdrawn by then (Art 7(3) is not retroactive)."""
        return self.given_at <= now and (self.withdrawn_at is None or now < self.withdrawn_at)


def record_problem(
    record_id: str | None,
    records: Mapping[str, ConsentRecord] | None,
    *,
    sender: str,
    recipient: str,
    purpose: str,
    flow: Flow,
    now: dt.datetime,
    state: str = "given",
) -> tuple[Reason, str] | None:
    """Why the cited consent record cannot carry this message, or None if it can.

    ``records`` is None when the caller keeps no consent records: then only a cited record is
    checked (and, being unknown, refused). With records (the API always passes them), a message
    must cite one where consent is the lawful basis relied on (Art 7(1): the controller must be
    able to *show* it): every message on a flow whose consent is 'required', and a ``given``
    message on a 'preferred' flow whose tuple names a consent code. A 'preferred' flow rests on
    a gateway or public task; consent sought there is good practice (confidentiality), not the
    Art 6/9 basis, so ``given`` or ``not_sought`` with a reason needs no record.
    """
    if record_id is None:
        relies = flow.consent == "required" or (
            state == "given" and bool(CONSENT_BASES & set(flow.basis))
        )
        if records is not None and relies:
            return (
                Reason.CONSENT_RECORD_MISSING,
                "the flow relies on consent (UK GDPR Art 7(1)): cite a live consent record "
                "in consent.record (POST /api/v1/consents)",
            )
        return None
    record = (records or {}).get(record_id)
    if record is None or record.sender != sender:
        return Reason.CONSENT_RECORD_UNKNOWN, f"consent record {record_id} is not {sender}'s"
    if record.withdrawn_at is not None and now >= record.withdrawn_at:
        return (
            Reason.CONSENT_WITHDRAWN,
            f"consent record {record_id} was withdrawn at {record.withdrawn_at.isoformat()}; "
            "no message may rely on it after that (UK GDPR Art 7(3))",
        )
    if not record.live_at(now):
        return Reason.CONSENT_RECORD_UNKNOWN, f"consent record {record_id} is not yet given"
    if purpose not in record.purposes or recipient not in record.recipients:
        return (
            Reason.CONSENT_OUT_OF_SCOPE,
            f"consent record {record_id} covers purposes {', '.join(record.purposes)} and "
            f"recipients {', '.join(record.recipients)}, not {purpose} to {recipient}",
        )
    if "GDPR_9_2_A" in flow.basis and not record.explicit:
        return (
            Reason.CONSENT_NOT_EXPLICIT,
            f"the flow relies on explicit consent (UK GDPR Art 9(2)(a)); "
            f"consent record {record_id} is not explicit",
        )
    return None

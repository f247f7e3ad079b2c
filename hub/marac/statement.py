"""The confidentiality statement read at the start of every MARAC meeting (one place only)."""

from __future__ import annotations

import hashlib

STATEMENT_VERSION = 1
STATEMENT_TEXT = (
    "Information discussed by the agency representatives at this meeting is strictly "
    "confidential and must not be disclosed to third parties who have not signed up to the "
    "MARAC information-sharing agreement, unless the law requires or allows it. Agencies "
    "should ensure that the minutes are retained in a confidential and appropriately "
    "restricted manner. These minutes will aim to reflect that all individuals who are "
    "discussed at the meeting are treated fairly, with respect and without improper "
    "discrimination. All work undertaken by the meeting will be informed by a commitment to "
    "equal opportunities and effective practice in line with the MARAC agreement. The "
    "purpose of the meeting is to share information in order to increase the safety, health "
    "and wellbeing of victims and their children. Information shared here is used only for "
    "that purpose and is recorded on the hub's ledger."
)


def statement_digest() -> str:
    """``sha256:<hex>`` of the statement text: what each signature is a signature of."""
    return "sha256:" + hashlib.sha256(STATEMENT_TEXT.encode()).hexdigest()

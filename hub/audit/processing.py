"""The record of processing (UK GDPR Art 30; DPA 2018 s61 for law-enforcement processing).

Generated from the agreements in force, never typed: each flow contributes its purpose, the
categories of personal data it carries (the field catalogue's classes), the categories of
people those classes describe, the recipient, the retention period and the agreement's
security measures. The same rows feed the screen, the CSV and the PDF.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Mapping, Sequence

from hub.audit.register import RegisterRow
from hub.policy import Catalogues

DATA_CATEGORIES = {
    "ID": "identity", "REF": "reference numbers", "CON": "contact details",
    "WHERE": "location and address", "SC_HEALTH": "health (special category)",
    "SC_OTHER": "other special category", "CRIM": "criminal offences (Art 10 / Part 3)",
    "VICT": "victimisation", "CSG": "children's social care and safeguarding",
    "EDU": "education", "RISK": "risk assessments", "THIRD": "third parties",
    "INTEL": "intelligence", "CASE": "case management",
}  # fmt: skip
# Which people a class of data is about (ICO documentation: "categories of individuals").
SUBJECT_CATEGORIES = {
    "CRIM": "offenders and suspects", "VICT": "victims", "CSG": "children at risk",
    "EDU": "pupils", "THIRD": "family members and other third parties",
}  # fmt: skip
BASE_SUBJECTS = "people referred under the flow's purpose"


@dataclasses.dataclass(frozen=True)
class ProcessingRow:
    """One purpose of one in-force agreement, from one controller to one recipient."""

    agreement: str
    version: int
    purpose: str
    controller: str
    recipient: str
    basis: tuple[str, ...]
    data_categories: tuple[str, ...]
    subject_categories: tuple[str, ...]
    retention: str
    security: str


def processing_record(
    register: Sequence[RegisterRow], catalogues: Catalogues, names: Mapping[str, str]
) -> list[ProcessingRow]:
    """Rows for every flow of every agreement in force."""
    rows = []
    for entry in register:
        if entry.status != "in_force":
            continue
        for flow in entry.flows:
            classes = sorted(
                {catalogues.fields[f].cls for f in flow.fields if f in catalogues.fields}
            )
            subjects = [BASE_SUBJECTS] + [SUBJECT_CATEGORIES[c] for c in classes
                                          if c in SUBJECT_CATEGORIES]  # fmt: skip
            rows.append(
                ProcessingRow(
                    agreement=entry.id,
                    version=entry.version,
                    purpose=flow.purpose,
                    controller=names.get(flow.sender, flow.sender),
                    recipient=names.get(flow.recipient, flow.recipient),
                    basis=flow.basis,
                    data_categories=tuple(DATA_CATEGORIES.get(c, c) for c in classes),
                    subject_categories=tuple(subjects),
                    retention=f"{flow.retention_days} days from receipt, then deleted",
                    security=entry.security,
                )
            )
    return rows


CSV_HEADER = (
    "agreement", "version", "purpose", "controller", "recipient", "lawful basis",
    "categories of data", "categories of data subjects", "retention", "security",
)  # fmt: skip


def processing_csv(rows: Sequence[ProcessingRow]) -> str:
    """The record as CSV (one row per flow)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.agreement, r.version, r.purpose, r.controller, r.recipient, " ".join(r.basis),
                "; ".join(r.data_categories), "; ".join(r.subject_categories), r.retention,
                r.security,
            ]
        )  # fmt: skip
    return out.getvalue()

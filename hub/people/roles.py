"""The console's roles (docs/architecture.md, roles); a person holds one or more."""

from __future__ import annotations

ROLES: tuple[str, ...] = ("dpo", "hub_dpo", "marac_coordinator", "agency_rep", "auditor")

ROLE_LABELS: dict[str, str] = {
    "dpo": "Data Protection Officer (own agency)",
    "hub_dpo": "Hub Data Protection Officer (whole partnership)",
    "marac_coordinator": "MARAC co-ordinator",
    "agency_rep": "Agency representative",
    "auditor": "Auditor (ledger metadata only)",
}

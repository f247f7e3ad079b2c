"""Agreement files on disk: load, sign, verify, and the ``new`` template.

These are the functions the ``hub agreements sign/verify/list/new`` commands and ``hub sync``
call. ``<id>.toml`` holds the agreement; ``<id>.sig.json`` beside it holds the parties'
detached JWS signatures (see ``signatures.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.policy.catalogue import Catalogues, load_catalogues, read_toml
from hub.policy.errors import PolicyFileError
from hub.policy.partner_info import PartnerInfo, load_partners
from hub.policy.signatures import sign_agreement, signature_file
from hub.policy.status import (
    AgreementStatus,
    RegisteredAgreement,
    agreement_status,
    register_agreement,
)
from hub.policy.validate import Problem


def signature_path(agreement_path: Path) -> Path:
    """``policies/agreements/<id>.toml`` -> ``policies/agreements/<id>.sig.json``."""
    return agreement_path.with_name(agreement_path.stem + ".sig.json")


def read_signatures(agreement_path: Path) -> list[dict[str, Any]]:
    """The signature entries beside an agreement (none if the file is absent)."""
    path = signature_path(agreement_path)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyFileError(path, "", f"not readable JSON ({exc.__class__.__name__})") from None
    entries = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PolicyFileError(path, "signatures", "expected a list of signature entries")
    return entries


def load_keys(keys_dir: Path) -> dict[str, dict[str, Any]]:
    """Public JWK Sets by partner id from ``keys/partners/<id>.jwks.json``."""
    found = {}
    for path in sorted((keys_dir / "partners").glob("*.jwks.json")):
        try:
            found[path.name.removesuffix(".jwks.json")] = json.loads(
                path.read_text(encoding="utf-8")
            )
        except (OSError, json.JSONDecodeError) as exc:
            raise PolicyFileError(
                path, "", f"not readable JSON ({exc.__class__.__name__})"
            ) from None
    return found


def load_agreement_file(
    path: Path,
    catalogues: Catalogues,
    partners: Mapping[str, PartnerInfo],
    keys_by_partner: Mapping[str, Mapping[str, Any]],
) -> RegisteredAgreement:
    """Parse, validate and verify one agreement file and its signatures."""
    document = read_toml(path)
    reg = register_agreement(
        document, read_signatures(path), catalogues, partners, keys_by_partner, source=str(path)
    )
    stem = path.name.removesuffix(".toml")
    if reg.agreement.id != stem:
        problem = Problem(
            str(path),
            "id",
            "id_mismatch",
            f"id {reg.agreement.id!r} must match the file name {stem!r}",
        )
        reg = RegisteredAgreement(
            reg.agreement, reg.document, reg.digest, reg.signatures, reg.problems + (problem,)
        )
    return reg


def load_agreements(
    agreements_dir: Path,
    catalogues: Catalogues,
    partners: Mapping[str, PartnerInfo],
    keys_by_partner: Mapping[str, Mapping[str, Any]],
) -> list[RegisteredAgreement]:
    """Every ``*.toml`` agreement in a directory, sorted by file name."""
    return [
        load_agreement_file(p, catalogues, partners, keys_by_partner)
        for p in sorted(agreements_dir.glob("*.toml"))
    ]


@dataclass(frozen=True)
class PolicySet:
    """Everything under ``policies/`` and ``keys/``, loaded and checked."""

    catalogues: Catalogues
    partners: Mapping[str, PartnerInfo]
    keys: Mapping[str, Mapping[str, Any]]
    agreements: tuple[RegisteredAgreement, ...]

    def statuses(self, now: dt.datetime) -> dict[tuple[str, int], AgreementStatus]:
        """Status of every agreement at ``now``, by (id, version)."""
        return {
            (r.agreement.id, r.agreement.version): agreement_status(r, now, self.agreements)
            for r in self.agreements
        }


def load_policy(root: Path) -> PolicySet:
    """Load ``root/policies`` and ``root/keys`` (the project root layout)."""
    catalogues = load_catalogues(root / "policies")
    partners = load_partners(root / "policies" / "partners", catalogues.roles)
    keys = load_keys(root / "keys")
    agreements = load_agreements(root / "policies" / "agreements", catalogues, partners, keys)
    return PolicySet(catalogues, partners, keys, tuple(agreements))


def sign_agreement_file(
    path: Path, party_id: str, private_jwk: Mapping[str, Any]
) -> dict[str, str]:
    """Add (or replace) ``party_id``'s signature in ``<id>.sig.json``; returns the entry.

    Signatures of other parties are kept even if the document changed since they signed:
    ``verify`` then reports them invalid, which is the truth.
    """
    document = read_toml(path)
    parties = [p.get("id") for p in document.get("parties", []) if isinstance(p, dict)]
    if party_id not in parties:
        raise PolicyFileError(path, "parties", f"{party_id!r} is not a party to this agreement")
    entry = sign_agreement(document, party_id, private_jwk)
    entries = [e for e in read_signatures(path) if e.get("party") != party_id] + [entry]
    entries.sort(
        key=lambda e: parties.index(e["party"]) if e.get("party") in parties else len(parties)
    )
    text = json.dumps(signature_file(document, entries), indent=2) + "\n"
    signature_path(path).write_text(text, encoding="utf-8")
    return entry


@dataclass(frozen=True)
class VerifyReport:
    """``hub agreements verify``: exit 0 iff ``in_force``; ``reasons`` lists every reason."""

    agreement: RegisteredAgreement
    status: AgreementStatus

    @property
    def in_force(self) -> bool:
        """Whether the agreement is in force."""
        return self.status.in_force

    def lines(self) -> list[str]:
        """Human-readable report lines: status, then every reason and warning."""
        a = self.agreement.agreement
        out = [f"{a.id} v{a.version}: {self.status.status} (digest {self.agreement.digest})"]
        out += [f"  reason  {r.code}: {r.message}" for r in self.status.reasons]
        out += [f"  warning {w.code}: {w.message}" for w in self.status.warnings]
        return out


def verify_agreement_file(
    path: Path,
    catalogues: Catalogues,
    partners: Mapping[str, PartnerInfo],
    keys_by_partner: Mapping[str, Mapping[str, Any]],
    now: dt.datetime,
    others: Sequence[RegisteredAgreement] = (),
) -> VerifyReport:
    """Verify one file: validation, signatures, dates, overrides, supersession."""
    reg = load_agreement_file(path, catalogues, partners, keys_by_partner)
    return VerifyReport(reg, agreement_status(reg, now, others))


def resign_all(agreements_dir: Path, demo_keys_dir: Path) -> int:
    """Re-sign every agreement for every party with the DEMO-ONLY keys; returns the count.

    For the demo partnership only (``keys/demo/<id>.jwk``); real partners sign with their own
    keys through ``hub agreements sign``.
    """
    count = 0
    for path in sorted(agreements_dir.glob("*.toml")):
        signature_path(path).unlink(missing_ok=True)
        for party in read_toml(path).get("parties", []):
            jwk = json.loads((demo_keys_dir / f"{party['id']}.jwk").read_text(encoding="utf-8"))
            sign_agreement_file(path, party["id"], jwk)
            count += 1
    return count

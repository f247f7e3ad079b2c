"""Agreement signatures: RFC 8785 canonical JSON and detached JWS (RFC 7515 Appendix F).

Each party signs the canonical JSON of the *parsed* agreement document, so comments and
whitespace in the TOML do not matter but any change of meaning — a field, a date, a basis —
changes the bytes and invalidates every earlier signature. A signature is an ordinary compact
JWS whose payload segment is left empty; any JOSE library can check it by re-attaching
``BASE64URL(canonical_bytes(doc))``. The protected header carries ``alg``, ``kid`` and
``party`` (the signing partner's id), so a key registered to one partner can never count as
another partner's signature.

The digest is the lowercase hex SHA-256 of the canonical bytes (64 characters): easy to print
in a register, compare by eye and put on the ledger.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet
from joserfc.registry import HeaderParameter

SIGNATURE_ALGORITHMS = ("ES256", "EdDSA")  # asymmetric only: registered keys are public


class _AgreementJWSRegistry(jws.JWSRegistry):
    """ES256/EdDSA only, the ``party`` header understood, room for large agreements."""

    max_payload_length = 4_000_000

    def get_alg(self, name: str) -> Any:
        """Return the algorithm if allowed; never fall back, never warn on EdDSA.

        joserfc flags the name "EdDSA" as ambiguous (RFC 9864); the registered key binds the
        curve (Ed25519), so the ambiguity cannot be exploited here.
        """
        if name not in SIGNATURE_ALGORITHMS or name not in jws.JWSRegistry.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return jws.JWSRegistry.algorithms[name]


def _registry() -> _AgreementJWSRegistry:
    return _AgreementJWSRegistry(
        header_registry={"party": HeaderParameter("Signing party id", "str", True)},
        algorithms=list(SIGNATURE_ALGORITHMS),
    )


def json_compatible(value: Any) -> Any:
    """The parsed TOML document as JSON data: dates and times become ISO 8601 strings."""
    if isinstance(value, Mapping):
        return {str(k): json_compatible(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_compatible(v) for v in value]
    if isinstance(value, dt.date | dt.time):  # datetime is a date subclass
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot canonicalise a {type(value).__name__}")


def canonical_bytes(doc: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of an agreement document: what every party signs."""
    return rfc8785.dumps(json_compatible(doc))


def agreement_digest(doc: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_agreement(
    doc: Mapping[str, Any], party_id: str, private_jwk: Mapping[str, Any]
) -> dict[str, str]:
    """One party's signature entry ``{party, kid, jws}`` over the canonical document."""
    jwk = {k: v for k, v in private_jwk.items() if k != "demo_only"}
    key = KeySet.import_key_set({"keys": [jwk]}).keys[0]
    alg = jwk.get("alg") or ("ES256" if jwk.get("kty") == "EC" else "EdDSA")
    kid = jwk.get("kid") or key.thumbprint()
    header = {"alg": alg, "kid": kid, "party": party_id}
    token = jws.serialize_compact(header, canonical_bytes(doc), key, registry=_registry())
    protected, _payload, signature = token.split(".")
    return {"party": party_id, "kid": kid, "jws": f"{protected}..{signature}"}


@dataclass(frozen=True)
class SignatureResult:
    """The outcome for one party: ``ok`` or a machine code with a human detail."""

    party: str
    ok: bool
    # ok | missing | malformed | header_mismatch | key_not_registered | invalid_signature
    # | not_a_party
    code: str
    detail: str
    kid: str | None = None


def _header(entry: Mapping[str, Any]) -> dict[str, Any]:
    token = entry.get("jws")
    if not isinstance(token, str) or token.count(".") != 2 or token.split(".")[1] != "":
        raise ValueError("not a detached compact JWS (header..signature)")
    header = json.loads(_b64url_decode(token.split(".")[0]))
    if not isinstance(header, dict):
        raise ValueError("protected header is not a JSON object")
    return header


def verify_entry(
    payload: bytes, entry: Mapping[str, Any], jwks: Mapping[str, Any] | None
) -> SignatureResult:
    """Check one signature entry against the public JWKS registered to its party."""
    party = str(entry.get("party", ""))
    try:
        header = _header(entry)
    except (ValueError, UnicodeDecodeError) as exc:
        return SignatureResult(party, False, "malformed", f"signature of {party!r}: {exc}")
    kid = header.get("kid")
    if header.get("party") != party or kid != entry.get("kid"):
        return SignatureResult(
            party,
            False,
            "header_mismatch",
            f"signature entry for {party!r} does not match its protected header",
            kid,
        )
    keys = [k for k in (jwks or {}).get("keys", []) if isinstance(k, dict) and k.get("kid") == kid]
    if not keys:
        return SignatureResult(
            party,
            False,
            "key_not_registered",
            f"key {kid!r} is not registered to partner {party!r}",
            kid,
        )
    try:
        keyset = KeySet.import_key_set({"keys": keys})
        jws.deserialize_compact(entry["jws"], keyset, payload=payload, registry=_registry())
    except (JoseError, ValueError) as exc:
        return SignatureResult(
            party,
            False,
            "invalid_signature",
            f"signature of {party!r} does not verify ({exc.__class__.__name__}); "
            "the agreement changed after signing or the signature is corrupt",
            kid,
        )
    return SignatureResult(party, True, "ok", f"signed by {party!r} with key {kid!r}", kid)


def verify_signatures(
    doc: Mapping[str, Any],
    sigs: Mapping[str, Any] | list[Any],
    keys_by_partner: Mapping[str, Mapping[str, Any]],
) -> tuple[SignatureResult, ...]:
    """One result per party of the agreement (plus one per entry from a non-party).

    A party is signed if *any* of its entries verifies with a key registered to it; every
    party without such an entry gets its most informative failure (or ``missing``).
    """
    entries = sigs.get("signatures", []) if isinstance(sigs, Mapping) else sigs
    payload = canonical_bytes(doc)
    parties = [str(p.get("id")) for p in doc.get("parties", []) if isinstance(p, Mapping)]
    by_party: dict[str, list[SignatureResult]] = {}
    extra: list[SignatureResult] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        party = str(entry.get("party", ""))
        if party not in parties:
            extra.append(
                SignatureResult(
                    party,
                    False,
                    "not_a_party",
                    f"{party!r} signed but is not a party to the agreement",
                )
            )
            continue
        by_party.setdefault(party, []).append(
            verify_entry(payload, entry, keys_by_partner.get(party))
        )
    results = []
    for party in parties:
        found = by_party.get(str(party), [])
        good = [r for r in found if r.ok]
        if good:
            results.append(good[0])
        elif found:
            results.append(found[0])
        else:
            results.append(
                SignatureResult(str(party), False, "missing", f"{party!r} has not signed")
            )
    return tuple(results) + tuple(extra)


def signature_file(
    doc: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``<id>.sig.json`` document: the entries plus the id, version and digest signed."""
    return {
        "agreement": doc.get("id"),
        "version": doc.get("version"),
        "digest": agreement_digest(doc),
        "signatures": [dict(e) for e in entries],
    }

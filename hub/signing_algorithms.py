"""Which JWS algorithms partners may sign with, as one joserfc registry.

Only asymmetric algorithms: a partner's registered keys are public, so an HMAC algorithm
would let anyone who reads them forge a signature (HS256 "algorithm confusion"). ``none``
is never accepted. ``EdDSA`` is accepted for Ed25519 keys only; joserfc warns that the name
is deprecated by RFC 9864 (it is ambiguous between Ed25519 and Ed448), and since we bind
the curve through the registered key we can accept it without that warning.
"""

from __future__ import annotations

from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jws import JWSRegistry

PARTNER_JWS_ALGORITHMS: tuple[str, ...] = ("ES256", "EdDSA")


class PartnerJWSRegistry(JWSRegistry):
    """A registry allowing exactly :data:`PARTNER_JWS_ALGORITHMS`."""

    def get_alg(self, name: str):  # type: ignore[no-untyped-def]
        """Return the algorithm if allowed; never warn, never fall back."""
        if name not in PARTNER_JWS_ALGORITHMS or name not in JWSRegistry.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return JWSRegistry.algorithms[name]


def partner_jws_registry() -> PartnerJWSRegistry:
    """A fresh registry instance (joserfc registries are cheap)."""
    return PartnerJWSRegistry(algorithms=list(PARTNER_JWS_ALGORITHMS))

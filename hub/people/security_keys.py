"""Security keys (WebAuthn, py_webauthn 3.x): registering one and signing in with it.

The relying party is the console's origin (``HUB_CONSOLE_ORIGIN``, else the issuer); its
host name is the RP ID, so WebAuthn needs a host name, not an IP address (``localhost``
counts as a secure context over plain http). Challenges are made here and checked here;
the caller keeps one between the two calls of a ceremony.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from hub.people import audit
from hub.people.models import Person, WebAuthnCredential

RP_NAME = "hub console"


@dataclasses.dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str


def credentials(session: Session, person: Person) -> list[WebAuthnCredential]:
    query = select(WebAuthnCredential).where(WebAuthnCredential.person_id == person.id)
    return list(session.scalars(query.order_by(WebAuthnCredential.id)))


def _descriptors(rows: list[WebAuthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=row.credential_id) for row in rows]


def registration_options(
    session: Session, rp: RelyingParty, person: Person
) -> tuple[str, bytes]:
    """Options JSON for ``navigator.credentials.create`` and the challenge to keep."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=RP_NAME,
        user_name=person.email,
        user_id=person.pseudonym.encode("ascii"),
        user_display_name=person.name,
        exclude_credentials=_descriptors(credentials(session, person)),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return options_to_json(options), options.challenge


def finish_registration(
    session: Session,
    rp: RelyingParty,
    person: Person,
    credential: dict[str, Any],
    challenge: bytes,
    label: str = "security key",
) -> bool:
    """Verify the authenticator's attestation and store its public key."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        return False
    transports = credential.get("response", {}).get("transports") or []
    session.add(
        WebAuthnCredential(
            person_id=person.id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[str(t) for t in transports][:8],
            label=label[:100],
        )
    )
    audit.record(session, "security_key_added", person=person)
    return True


def authentication_options(
    session: Session, rp: RelyingParty, person: Person
) -> tuple[str, bytes]:
    """Options JSON for ``navigator.credentials.get`` limited to this person's keys."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        allow_credentials=_descriptors(credentials(session, person)),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def finish_authentication(
    session: Session,
    rp: RelyingParty,
    person: Person,
    credential: dict[str, Any],
    challenge: bytes,
) -> bool:
    """Check the assertion against the stored key and advance its signature counter."""
    try:
        raw_id = base64url_to_bytes(str(credential.get("rawId") or credential.get("id") or ""))
    except ValueError:
        return False
    row = session.scalar(
        select(WebAuthnCredential).where(
            WebAuthnCredential.person_id == person.id,
            WebAuthnCredential.credential_id == raw_id,
        )
    )
    if row is None:
        return False
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return False
    row.sign_count = verified.new_sign_count
    return True

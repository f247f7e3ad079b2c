"""Single sign-on (OIDC) per partner: its configuration, and who an IdP's answer names.

A partner's file may carry an ``[sso]`` table (code reviewed in git like the rest)::

    [sso]
    label = "Kent Police account"            # optional: the button says "Sign in with ..."
    server_metadata_url = "https://idp.example/.well-known/openid-configuration"
    # or: issuer = "https://idp.example"   (metadata at issuer/.well-known/openid-configuration)
    client_id = "..."
    client_secret_env = "HUB_SSO_KENT_POLICE_SECRET"   # the NAME of the variable, never the secret
    scope = "openid email profile"           # optional
    email_claim = "email"                    # optional; Entra ID work accounts: preferred_username

The identity provider does the second factor. A person signing in this way must already
exist (``hub users add EMAIL --sso``), belong to that partner and not be disabled; the
first sign-in binds the IdP's ``iss`` + ``sub`` to the person and later ones must match.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub.people import accounts, audit
from hub.people.models import Person

_KEYS = {
    "label", "server_metadata_url", "issuer", "client_id", "client_secret_env", "scope",
    "email_claim",
}
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,99}")


class SsoConfigError(ValueError):
    """A bad ``[sso]`` table; ``str()`` names the file."""


@dataclasses.dataclass(frozen=True)
class SsoProvider:
    partner_id: str
    label: str
    server_metadata_url: str
    client_id: str
    client_secret_env: str | None
    scope: str = "openid email profile"
    email_claim: str = "email"


def parse_sso_table(path: Path, partner_id: str, partner_name: str, table: Any) -> SsoProvider:
    """Check one partner's ``[sso]`` table."""
    if not isinstance(table, dict):
        raise SsoConfigError(f"{path}: [sso] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SsoConfigError(f"{path}: [sso] has unknown key {unknown[0]!r}")
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise SsoConfigError(f"{path}: [sso] {key} must be a non-empty string")
    if "client_secret" in table:
        raise SsoConfigError(f"{path}: never put a client secret in git; use client_secret_env")
    metadata = table.get("server_metadata_url")
    if metadata is None and "issuer" in table:
        metadata = table["issuer"].rstrip("/") + "/.well-known/openid-configuration"
    if metadata is None:
        raise SsoConfigError(f"{path}: [sso] needs server_metadata_url or issuer")
    if not re.fullmatch(r"https?://\S{1,490}", metadata):
        raise SsoConfigError(f"{path}: [sso] metadata URL must be http(s)")
    if "client_id" not in table:
        raise SsoConfigError(f"{path}: [sso] needs client_id")
    env = table.get("client_secret_env")
    if env is not None and not _ENV_NAME.fullmatch(env):
        raise SsoConfigError(f"{path}: [sso] client_secret_env must name an environment variable")
    scope = table.get("scope", "openid email profile")
    if "openid" not in scope.split():
        raise SsoConfigError(f"{path}: [sso] scope must include openid")
    return SsoProvider(
        partner_id=partner_id,
        label=table.get("label", partner_name),
        server_metadata_url=metadata,
        client_id=table["client_id"],
        client_secret_env=env,
        scope=scope,
        email_claim=table.get("email_claim", "email"),
    )


def read_providers(policies_dir: Path) -> list[SsoProvider]:
    """Every partner file's ``[sso]`` table, in file order."""
    found = []
    for path in sorted((policies_dir / "partners").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "sso" in data and data.get("active", True):
            found.append(parse_sso_table(path, data["id"], data["name"], data["sso"]))
    return found


def person_for(
    session: Session,
    provider: SsoProvider,
    claims: dict[str, Any],
    *,
    email_key: bytes,
    endpoint: str,
) -> Person | None:
    """The person an IdP's verified id_token names, or ``None`` (and a trail line) if none may."""
    email = str(claims.get(provider.email_claim) or "")
    subject = f"{claims.get('iss', '')} {claims.get('sub', '')}"
    person = accounts.find(session, email) if email else None
    reason = None
    if person is None:
        reason = "unknown_email"
    elif not person.sso:
        reason = "not_an_sso_person"
    elif person.partner_id != provider.partner_id:
        reason = "other_partner"
    elif person.disabled:
        reason = "disabled"
    elif person.sso_subject is not None and person.sso_subject != subject:
        reason = "subject_mismatch"
    if reason is not None:
        if person is None:
            audit.record(session, "sign_in_failed", email_hash=audit.email_digest(email_key, email),
                         endpoint=endpoint, detail={"reason": reason, "sso": provider.partner_id})
        else:
            audit.record(session, "sign_in_failed", person=person, endpoint=endpoint,
                         detail={"reason": reason, "sso": provider.partner_id})
        return None
    assert person is not None
    if person.sso_subject is None:
        person.sso_subject = subject[:500]
    return person

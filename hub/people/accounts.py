"""People: adding, listing, disabling, the password check and the lockout.

Every check takes ``now`` so tests can move the clock instead of sleeping. Failures of
either factor count towards a lockout: after ``max_failures`` in a row the account refuses
every sign-in for ``lockout`` (a cool-down, not a permanent block an attacker could use to
lock people out for good).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.people import audit
from hub.people.models import ConsoleSession, Person, RecoveryCode, WebAuthnCredential
from hub.people.passwords import PasswordHashing, check_strength, hasher
from hub.people.roles import ROLES
from hub.settings import Settings

EMAIL_RE = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.\-]{1,189}\.[A-Za-z]{2,}")


class PeopleError(ValueError):
    """An operator or sign-in error that names no personal data."""


@dataclasses.dataclass(frozen=True)
class SignInRules:
    """What the sign-in checks need from the settings (built by :func:`rules_for`)."""

    passwords: PasswordHashing
    max_failures: int
    lockout: dt.timedelta
    email_key: bytes
    production: bool


def rules_for(
    *,
    profile: str,
    max_failures: int,
    lockout_minutes: int,
    email_key: bytes,
    production: bool,
) -> SignInRules:
    return SignInRules(
        hasher(profile), max_failures, dt.timedelta(minutes=lockout_minutes), email_key, production
    )


def rules_from_settings(settings: Settings) -> SignInRules:
    """The rules as configured (``HUB_CONSOLE_LOCKOUT_*``, ``HUB_PASSWORD_HASH_PROFILE``).

    The email hashing key is derived from the hub's secret key with its own label, so trail
    hashes cannot be matched against anything else the hub derives from that secret.
    """
    from hub.instance_secrets import secret_key

    key = hmac.new(secret_key(settings).encode("utf-8"), b"hub:console:email:v1", hashlib.sha256)
    return rules_for(
        profile=settings.password_hash_profile,
        max_failures=settings.console_lockout_failures,
        lockout_minutes=settings.console_lockout_minutes,
        email_key=key.digest(),
        production=settings.production,
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.fullmatch(email):
        raise PeopleError("not an email address")
    return email


def new_pseudonym() -> str:
    """``u-`` and 16 hex digits: matches the ledger's identifier pattern, says nothing."""
    return "u-" + secrets.token_hex(8)


def find(session: Session, email: str) -> Person | None:
    try:
        email = normalise_email(email)
    except PeopleError:
        return None
    return session.scalar(select(Person).where(Person.email == email))


def get(session: Session, email: str) -> Person:
    person = find(session, email)
    if person is None:
        raise PeopleError("no person with that email")
    return person


def add_person(
    session: Session,
    rules: SignInRules,
    *,
    email: str,
    name: str,
    partner_id: str,
    roles: Iterable[str],
    password: str | None,
    sso: bool = False,
    demo_only: bool = False,
    totp_secret: str | None = None,
) -> Person:
    """Create a person; a password person gets a TOTP secret at once (the CLI prints it)."""
    from hub.partners.models import Partner
    from hub.people import factors

    email = normalise_email(email)
    role_list = sorted(set(roles))
    if not role_list:
        raise PeopleError("a person needs at least one role")
    unknown = [r for r in role_list if r not in ROLES]
    if unknown:
        raise PeopleError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise PeopleError("a name must be 1-200 characters")
    if session.get(Partner, partner_id) is None:
        raise PeopleError(f"no partner {partner_id!r}: run `hub sync` or check the id")
    if find(session, email) is not None:
        raise PeopleError("a person with that email already exists")
    if sso and password is not None:
        raise PeopleError("a single sign-on person has no password")
    if not sso:
        if password is None:
            raise PeopleError("a password is needed (or --sso)")
        problem = check_strength(password)
        if problem:
            raise PeopleError(problem)
    person = Person(
        email=email,
        name=name.strip(),
        partner_id=partner_id,
        roles=role_list,
        pseudonym=new_pseudonym(),
        password_hash=None if sso else rules.passwords.hash(password or ""),
        totp_secret=None if sso else (totp_secret or factors.new_totp_secret()),
        sso=sso,
        demo_only=demo_only,
    )
    session.add(person)
    session.flush()
    audit.record(session, "user_added", person=person, detail={"roles": role_list, "sso": sso})
    return person


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.partner_id, Person.email)))


def disable(session: Session, person: Person) -> None:
    """Disable and end every session at once (a disabled person's cookie stops working)."""
    person.disabled = True
    session.execute(delete(ConsoleSession).where(ConsoleSession.person_id == person.id))
    audit.record(session, "user_disabled", person=person)


def reset_mfa(session: Session, person: Person) -> None:
    """Forget every second factor; the next password sign-in enrols TOTP afresh."""
    person.totp_secret = None
    person.totp_last_step = None
    session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.person_id == person.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.person_id == person.id))
    session.execute(delete(ConsoleSession).where(ConsoleSession.person_id == person.id))
    audit.record(session, "mfa_reset", person=person)


def has_second_factor(session: Session, person: Person) -> bool:
    return person.totp_secret is not None or has_security_key(session, person)


def has_security_key(session: Session, person: Person) -> bool:
    query = select(WebAuthnCredential.id).where(WebAuthnCredential.person_id == person.id)
    return session.scalar(query.limit(1)) is not None


# -- the checks ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PasswordOutcome:
    """``person`` set only when the password matched an enabled, unlocked account."""

    person: Person | None
    reason: str | None = None


def is_locked(person: Person, now: dt.datetime) -> bool:
    return person.locked_until is not None and person.locked_until > now


def check_password(
    session: Session,
    rules: SignInRules,
    email: str,
    password: str,
    *,
    endpoint: str,
    now: dt.datetime | None = None,
) -> PasswordOutcome:
    """The first factor; records the failure (and a lockout) on the trail."""
    now = now or utcnow()
    person = find(session, email)
    matched = rules.passwords.verify(person.password_hash if person else None, password)
    if person is None:
        digest = audit.email_digest(rules.email_key, email)
        audit.record(
            session, "sign_in_failed", email_hash=digest, endpoint=endpoint, at=now,
            detail={"reason": "unknown_email"},
        )
        return PasswordOutcome(None, "unknown_email")
    refusal = _refusal(person, rules, now)
    if refusal:
        audit.record(
            session, "sign_in_failed", person=person, endpoint=endpoint, at=now,
            detail={"reason": refusal},
        )
        # Only someone who knows the password learns that the account is paused; anyone
        # else sees the same answer as for an unknown email (no account discovery).
        return PasswordOutcome(None, refusal if matched else "bad_credentials")
    if not matched:
        register_failure(session, rules, person, endpoint, now)
        return PasswordOutcome(None, "bad_credentials")
    return PasswordOutcome(person)


def _refusal(person: Person, rules: SignInRules, now: dt.datetime) -> str | None:
    if person.disabled:
        return "disabled"
    if is_locked(person, now):
        return "locked"
    if person.sso or person.password_hash is None:
        return "sso_only"
    if person.demo_only and rules.production:
        return "demo_person_in_production"
    return None


def register_failure(
    session: Session, rules: SignInRules, person: Person, endpoint: str, now: dt.datetime
) -> str:
    """Count a failed factor; lock the account when the count reaches the limit."""
    person.failed_attempts = (person.failed_attempts or 0) + 1
    audit.record(
        session, "sign_in_failed", person=person, endpoint=endpoint, at=now,
        detail={"reason": "bad_credentials", "failures": person.failed_attempts},
    )
    if person.failed_attempts >= rules.max_failures:
        person.locked_until = now + rules.lockout
        person.failed_attempts = 0
        audit.record(
            session, "lockout", person=person, endpoint=endpoint, at=now,
            detail={"minutes": int(rules.lockout.total_seconds() // 60)},
        )
        return "locked"
    return "bad_credentials"


def check_second_factor_allowed(person: Person, rules: SignInRules, now: dt.datetime) -> bool:
    """A lockout or disable that happened after the password step still stops the code."""
    return _refusal(person, rules, now) is None


def signed_in(session: Session, person: Person, *, method: str, endpoint: str) -> None:
    """Both factors passed: clear the failure count and record the sign-in."""
    person.failed_attempts = 0
    person.locked_until = None
    audit.record(session, "sign_in", person=person, endpoint=endpoint, detail={"method": method})

"""People: adding, listing, disabling, and the password + second-factor checks.

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

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.people import audit
from hub.people.models import ConsoleSession, Person, RecoveryCode, WebAuthnCredential
from hub.people.passwords import PasswordHashing, check_strength, hasher
from hub.people.roles import ROLES
from hub.settings import Settings

EMAIL_RE = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.\-]{1,189}\.[A-Za-z]{2,}")
TOTP_ISSUER = "hub console"
RECOVERY_CODE_COUNT = 10


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


def new_totp_secret() -> str:
    """160 random bits in base32 (RFC 4226 recommends 160; pyotp refuses under 112)."""
    return pyotp.random_base32(32)


def otpauth_uri(person: Person) -> str:
    if person.totp_secret is None:
        raise PeopleError("this person has no TOTP secret")
    return provisioning_uri(person.email, person.totp_secret)


def provisioning_uri(email: str, secret: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


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
        totp_secret=None if sso else (totp_secret or new_totp_secret()),
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
        return PasswordOutcome(None, refusal)
    if not matched:
        return PasswordOutcome(None, register_failure(session, rules, person, endpoint, now))
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


def check_totp(
    session: Session,
    rules: SignInRules,
    person: Person,
    code: str,
    *,
    endpoint: str,
    now: dt.datetime | None = None,
) -> bool:
    """A 6-digit code for this or the neighbouring 30 s step, each step accepted once."""
    now = now or utcnow()
    code = code.strip().replace(" ", "")
    if person.totp_secret is None or not check_second_factor_allowed(person, rules, now):
        return False
    step = _matching_step(person.totp_secret, code, now)
    if step is None or (person.totp_last_step is not None and step <= person.totp_last_step):
        register_failure(session, rules, person, endpoint, now)
        return False
    person.totp_last_step = step
    return True


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    here = totp.timecode(now)
    for step in (here - 1, here, here + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def current_code(person: Person, now: dt.datetime | None = None) -> str:
    """The TOTP code now (``hub users code``, development mode only)."""
    if person.totp_secret is None:
        raise PeopleError("this person has no TOTP secret (single sign-on, or MFA was reset)")
    return pyotp.TOTP(person.totp_secret).at(now or utcnow())


def begin_totp_enrolment() -> str:
    return new_totp_secret()


def confirm_totp_enrolment(
    session: Session, person: Person, secret: str, code: str, now: dt.datetime | None = None
) -> bool:
    """Keep ``secret`` once the person shows a code from it (proves the app holds it)."""
    now = now or utcnow()
    step = _matching_step(secret, code.strip().replace(" ", ""), now)
    if step is None:
        return False
    person.totp_secret = secret
    person.totp_last_step = step
    audit.record(session, "mfa_enrolled", person=person, detail={"factor": "totp"})
    return True


def issue_recovery_codes(session: Session, person: Person) -> list[str]:
    """Replace the person's recovery codes with ten new ones, returned once in the clear."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.person_id == person.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        session.add(RecoveryCode(person_id=person.id, code_hash=_code_digest(code)))
    audit.record(session, "recovery_codes_issued", person=person)
    return codes


# 80 random bits per code: enough that a fast hash is safe to store (as for session tokens).
_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _code_digest(code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode("ascii", "replace")).hexdigest()


def use_recovery_code(
    session: Session,
    rules: SignInRules,
    person: Person,
    code: str,
    *,
    endpoint: str,
    now: dt.datetime | None = None,
) -> bool:
    """Spend one unused recovery code; a wrong one counts as a failure."""
    now = now or utcnow()
    if not check_second_factor_allowed(person, rules, now):
        return False
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.code_hash == _code_digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        register_failure(session, rules, person, endpoint, now)
        return False
    row.used_at = now
    return True


def signed_in(session: Session, person: Person, *, method: str, endpoint: str) -> None:
    """Both factors passed: clear the failure count and record the sign-in."""
    person.failed_attempts = 0
    person.locked_until = None
    audit.record(session, "sign_in", person=person, endpoint=endpoint, detail={"method": method})

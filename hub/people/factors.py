"""Second factors: TOTP codes (RFC 6238) and one-use recovery codes.

Security keys are in :mod:`hub.people.security_keys`. A wrong code counts towards the same
lockout as a wrong password (:func:`hub.people.accounts.register_failure`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.people import audit
from hub.people.accounts import (
    PeopleError,
    SignInRules,
    check_second_factor_allowed,
    register_failure,
)
from hub.people.models import Person, RecoveryCode

TOTP_ISSUER = "hub console"
RECOVERY_CODE_COUNT = 10


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

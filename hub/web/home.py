"""The landing page by role, and the person's own account page (keys, recovery codes)."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from hub import db, marac
from hub.marac import Prompt
from hub.partners.models import Partner
from hub.people import factors, security_keys
from hub.people.models import Person, RecoveryCode
from hub.people.roles import ROLES
from hub.web import bp
from hub.web.access import SignedInPerson, current_person, roles_required

MARAC_ROLES = frozenset({"marac_coordinator", "agency_rep"})


@bp.get("/")
@roles_required(*ROLES)
def home() -> str:
    """Links to what the person's roles admit (the nav), and what is still to come."""
    person = current_person()
    session = db.session()
    partner = session.get(Partner, person.partner_id)
    prompts = overdue_prompts(person)
    return render_template(
        "home.html", partner_name=partner.name if partner else "", prompts=prompts
    )


def overdue_prompts(person: SignedInPerson) -> list[Prompt]:
    """What is overdue for a MARAC co-ordinator or agency rep, prompted at sign-in."""
    if not person.roles & MARAC_ROLES:
        return []
    return marac.overdue_prompts(db.session(), marac.MaracActor.from_person(person))


@bp.get("/account")
@roles_required(*ROLES)
def account() -> str:
    session = db.session()
    row = session.get(Person, current_person().id)
    assert row is not None
    unused = session.scalar(
        select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.person_id == row.id, RecoveryCode.used_at.is_(None)
        )
    )
    return render_template(
        "account.html",
        keys=security_keys.credentials(session, row),
        unused_codes=unused or 0,
        sso=row.sso,
    )


@bp.post("/account/recovery-codes")
@roles_required(*ROLES)
def account_recovery_codes() -> str | tuple[str, int]:
    """Issue a fresh set (shown once); the old ones stop working."""
    session = db.session()
    row = session.get(Person, current_person().id)
    assert row is not None
    if row.sso:  # the identity provider does their second factor; codes would be a bypass
        return render_template("403.html"), 403
    codes = factors.issue_recovery_codes(session, row)
    session.commit()
    return render_template("recovery_codes.html", codes=codes)

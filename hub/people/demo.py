"""Demo people for the demo partnership (``hub demo``): demo-only, refused in production.

Their password is public (printed by ``hub demo`` and written in the README), so they are
marked ``demo_only``: the sign-in refuses them when ``HUB_PRODUCTION`` is set, and
``hub demo`` refuses to run there at all.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from hub.people import accounts
from hub.people.accounts import SignInRules
from hub.settings import Settings

DEMO_PASSWORD = "demo-console-password"  # noqa: S105 - public on purpose, demo-only people


@dataclasses.dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    partner_id: str
    roles: tuple[str, ...]
    what: str


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("hub.dpo@demo.hub.example", "Hana Okafor", "safer-sutton", ("hub_dpo",),
               "hub DPO (whole partnership; Safer Sutton Partnership co-ordinates)"),
    DemoPerson("dpo@kent-police.demo.hub.example", "Priya Shah", "kent-police", ("dpo",),
               "Kent Police DPO"),
    DemoPerson("dpo@kent-csc.demo.hub.example", "Tom Griffiths", "kent-csc", ("dpo",),
               "Kent children's social care DPO"),
    DemoPerson("marac@safer-sutton.demo.hub.example", "Ruth Adeyemi", "safer-sutton",
               ("marac_coordinator",), "Safer Sutton MARAC co-ordinator"),
    DemoPerson("rep@sutton-outreach.demo.hub.example", "Sam Byrne", "sutton-outreach",
               ("agency_rep",), "agency representative (Sutton youth outreach)"),
    DemoPerson("auditor@demo.hub.example", "Alex Moreau", "safer-sutton", ("auditor",),
               "auditor (ledger metadata only)"),
    # The MARAC cycle (issue 10): the Leicestershire MARAC's co-ordinator, member agencies'
    # representatives, and a rep of the perpetrator-facing YOT, who must see none of it.
    DemoPerson("marac@leics-police.demo.hub.example", "Grace Mensah", "leics-police",
               ("marac_coordinator",), "Leicestershire MARAC co-ordinator (Leicestershire Police)"),
    DemoPerson("rep@victim-first.demo.hub.example", "Imran Qureshi", "victim-first",
               ("agency_rep",), "agency representative (Victim First, Leicestershire MARAC)"),
    DemoPerson("rep@leics-sdvs.demo.hub.example", "Beth Lowe", "leics-sdvs", ("agency_rep",),
               "agency representative (the SDVS, Leicestershire MARAC)"),
    DemoPerson("rep@met-police.demo.hub.example", "Dev Patel", "met-police", ("agency_rep",),
               "agency representative (Met Police, Sutton Community MARAC)"),
    DemoPerson("rep@sutton-yot.demo.hub.example", "Chris Dunn", "sutton-yot", ("agency_rep",),
               "agency representative (Sutton YOT: perpetrator-facing, sees no MARAC case)"),
)


def ensure_demo_people(session: Session, rules: SignInRules) -> list[tuple[DemoPerson, bool]]:
    """Create any demo person missing; returns each with whether it was created now."""
    if rules.production:
        raise accounts.PeopleError("demo people are refused in production mode")
    result = []
    for demo in DEMO_PEOPLE:
        if accounts.find(session, demo.email) is not None:
            result.append((demo, False))
            continue
        accounts.add_person(
            session, rules, email=demo.email, name=demo.name, partner_id=demo.partner_id,
            roles=demo.roles, password=DEMO_PASSWORD, demo_only=True,
        )
        result.append((demo, True))
    return result


def demo_people_report(settings: Settings, *, host: str, port: int) -> list[str]:
    """Create the demo people (``hub demo``) and say how to sign in as each."""
    from hub import db

    engine = db.make_engine(settings.database_url)
    try:
        with db.make_sessionmaker(engine)() as session:
            created = ensure_demo_people(session, accounts.rules_from_settings(settings))
            session.commit()
    finally:
        engine.dispose()
    fresh = sum(1 for _demo, new in created if new)
    lines = [
        f"console: http://{host}:{port}/console/  ({fresh} demo people created, "
        f"{len(created) - fresh} already there; demo-only, refused in production)",
        f"  sign in with Email and Password {DEMO_PASSWORD!r}, then the Code from",
        "  `hub users code EMAIL` (in another terminal; development mode only):",
    ]
    width = max(len(demo.email) for demo, _new in created)
    lines += [f"    {demo.email.ljust(width)}  {demo.what}" for demo, _new in created]
    return lines

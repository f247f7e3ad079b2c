"""The ``hub agreements new`` template: every ICO data-sharing-code heading, ready to fill in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

_TEMPLATE = """# Information-sharing agreement {id} (ICO data-sharing code headings).
# Fill in every heading, run `hub agreements verify`, then each party runs
# `hub agreements sign FILE --partner ID --key KEY`. Any later edit voids every signature.

id = "{id}"
version = 1
# ISP (reciprocal) | DDA (one-way) | JCA (joint controllers) | PROCESSOR (Art 28)
type = "{type}"
title = "{title}"
status = "active"          # active | suspended | terminated
# supersedes = "older-agreement-id@1"
effective_from = {start}
effective_to = {end}
review_by = {review}

# Records the law asks for: DPIA (UK GDPR Art 35); appropriate policy document where a
# DPA 2018 Sch 1 Part 2 or Sch 8 condition is relied on (Sch 1 para 5, s42); review history.
dpia_reference = "TODO: DPIA reference"
# appropriate_policy_document = "TODO: APD reference"
# review_history = [{{ date = 2027-01-01, by = "DPOs", outcome = "TODO" }}]

# 1. Purpose and benefits: purpose codes from policies/lawful_bases.toml [purposes.*]; every
# gateway in a flow's basis must serve its purpose
purposes = ["{purpose}"]
benefits = "TODO: what the sharing achieves and for whom."

# 2. Organisations involved; how parties join or leave
joining_and_leaving = "TODO: how a party joins (new version) or leaves (notice, data return)."

{parties}
# 7. Access and individual rights
[rights]
sar_contact = "TODO: who answers subject access requests; consult the originator before release."
complaints = "TODO: complaints route."
rectification_notice = "TODO: how recipients are told of corrections and erasures (UK GDPR Art 19)."

# 8. Information governance (and 10. review)
[governance]
security = "TODO: transfer only through the hub; OFFICIAL-SENSITIVE; access control."
breach_notification = "TODO: notify the other parties within 24 hours."
training = "TODO: data protection and safeguarding training for staff who share."
retention_and_disposal = "TODO: retention per flow (retention_days) and secure disposal."
termination = "TODO: on termination, stop sharing and return or destroy shared data."
review = "TODO: annual review by the parties' DPOs."

# 4-6. Data items, lawful basis, special category and criminal offence data: one table per flow
[[flows]]
from = "{sender}"
to = "{recipient}"
purpose = "{purpose}"
# gateway + Art 6 (+ an Art 9 condition for SC_*, + ART10 for CRIM); or, between competent
# authorities for a law-enforcement purpose, DPA_PART3 (+ a SCH8_* condition for SC_*)
basis = ["CDA_S115", "GDPR_6_1_E"]
# acting_for = "ID"                   # s115/CA04 s11(2)(b): the authority the recipient acts for
# acting_for_contract = "TODO"        # ... if that authority is not a party: contract reference
# strictly_necessary = "TODO"         # Part 3 sensitive processing without consent (s35(5))
consent = "preferred"                 # required | preferred | not_required
# needed when not_required: para18_2_a|b|c, para10_prejudice, statutory_requirement (a duty,
# not a power), part3_law_enforcement_task
# consent_exemption = "para18_2_c"
# safety_justification = "..."        # needed for any WHERE field
fact_only = false                     # true withholds every opinion field
onward_sharing = "no"                 # no | with_originator_consent | yes
retention_days = 365
description = "TODO"

[flows.fields]
given_name = "release"
date_of_birth = "year_of_birth"
"""

_PARTY = """[[parties]]
id = "{id}"
role = "controller"        # controller | joint_controller | processor
signatory = "TODO: name, title"
# perpetrator_facing = false         # overriding the type's default needs a reason:
# perpetrator_facing_reason = "TODO"
"""


def render_agreement_template(
    agreement_id: str,
    party_ids: Sequence[str],
    *,
    type: str = "ISP",
    title: str = "TODO",
    purpose: str = "TODO_purpose",
    start: dt.date | None = None,
) -> str:
    """TOML for a new agreement: every heading, and a sample flow between the first two parties."""
    start = start or dt.date.today()
    parties = "\n".join(_PARTY.format(id=p) for p in party_ids)
    first = party_ids[0] if party_ids else "TODO"
    second = party_ids[1] if len(party_ids) > 1 else "TODO"
    return _TEMPLATE.format(
        id=agreement_id,
        type=type,
        title=title,
        purpose=purpose,
        start=start.isoformat(),
        end=(start + dt.timedelta(days=730)).isoformat(),
        review=(start + dt.timedelta(days=365)).isoformat(),
        parties=parties,
        sender=first,
        recipient=second,
    )

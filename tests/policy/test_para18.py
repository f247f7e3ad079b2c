"""DPA 2018 Sch 1 para 18: safeguarding of children and of individuals at risk.

Para 18(1)(a) protects "an individual aged under 18, or aged 18 or over and at risk" (defined
in para 18(3)). For a subject known to be 18 or over and not declared at risk, the condition
does not apply: a special-category or criminal-offence field resting on it alone has no
condition and is withheld (as any missing condition is), the rest of the message still goes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.policy import RequestValidationError, decide
from hub.policy.children import age_on, para18_unmet
from hub.policy.reasons import Reason
from tests.policy.conftest import NOW

ADULT_DOB = "1990-02-03"
CHILD_DOB = "2012-03-04"


def run(demo, data, subject=None):
    req = {
        "from": "kent-csc",
        "to": "kent-syv-provider",
        "purpose": "syv_intervention",
        "data": data,
        "consent": {"state": "not_sought", "reason": "unsafe"},
        **({"subject": subject} if subject is not None else {}),
    }
    return decide(req, list(demo.agreements), demo.catalogues, demo.partners, NOW)


def reasons(decision):
    return {w.field: w.reason for w in decision.withheld}


def test_sch1_para18_does_not_carry_criminal_data_about_an_adult_not_at_risk(demo):
    d = run(demo, {"given_name": "A", "date_of_birth": ADULT_DOB, "arrests_count": 2})
    assert d.allowed and "given_name" in d.released
    assert reasons(d) == {"arrests_count": Reason.PARA18_ADULT_NOT_AT_RISK}
    detail = next(w.detail for w in d.withheld)
    assert "Sch 1 para 18" in detail and "subject.at_risk" in detail


def test_sch1_para18_3_an_adult_declared_at_risk_is_covered(demo):
    d = run(
        demo,
        {"given_name": "A", "date_of_birth": ADULT_DOB, "arrests_count": 2},
        subject={"at_risk": True},
    )
    assert d.released["arrests_count"] == 2 and not d.withheld


def test_sch1_para18_a_child_needs_no_declaration(demo):
    d = run(demo, {"given_name": "A", "date_of_birth": CHILD_DOB, "arrests_count": 2})
    assert "arrests_count" in d.released


def test_sch1_para18_a_declared_adult_band_counts_and_unknown_age_rests_on_the_agreement(demo):
    adult = run(demo, {"given_name": "A", "arrests_count": 2}, subject={"age_band": "adult"})
    assert reasons(adult) == {"arrests_count": Reason.PARA18_ADULT_NOT_AT_RISK}
    unknown = run(demo, {"given_name": "A", "arrests_count": 2})
    assert "arrests_count" in unknown.released


def test_sch1_para18_another_condition_in_the_tuple_still_carries_the_field(demo):
    bases = [demo.catalogues.bases[c] for c in ("GDPR_6_1_E", "SCH1_P18", "SCH1_P10", "ART10")]
    assert not para18_unmet("CRIM", bases, adult_not_at_risk=True)
    alone = [demo.catalogues.bases[c] for c in ("GDPR_6_1_E", "SCH1_P18", "ART10")]
    assert para18_unmet("CRIM", alone, adult_not_at_risk=True)
    assert para18_unmet("SC_HEALTH", alone, adult_not_at_risk=True)
    assert not para18_unmet("ID", alone, adult_not_at_risk=True)


def test_subject_at_risk_must_be_a_boolean(demo):
    with pytest.raises(RequestValidationError) as err:
        run(demo, {"given_name": "A"}, subject={"at_risk": "yes"})
    assert [p.field for p in err.value.problems] == ["subject.at_risk"]


@settings(max_examples=60, deadline=None)
@given(dob=st.dates(min_value=dt.date(1940, 1, 1), max_value=NOW.date()), at_risk=st.booleans())
def test_sch1_para18_1_a_withholds_exactly_for_adults_not_at_risk(demo, dob, at_risk):
    d = run(
        demo,
        {"given_name": "A", "date_of_birth": dob.isoformat(), "arrests_count": 1},
        subject={"at_risk": at_risk},
    )
    adult = age_on(dob, NOW.date()) >= 18
    assert ("arrests_count" not in d.released) == (adult and not at_risk)

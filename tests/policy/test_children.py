"""Children (Children Act 1989 s105: under 18): the decision knows the subject's age and
applies the agreement's child rules, or the ICO's high privacy default where it is silent."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.policy import decide
from hub.policy.children import age_on, subject_is_child
from hub.policy.reasons import Reason
from tests.policy.conftest import CATALOGUES, NOW, PARTNERS, SECRET, document, flow, register

CHILD_DOB = "2012-03-04"  # 14 at NOW
ADULT_DOB = "1990-02-03"
BAND_OF_14 = "14-15"


def run(f, data, **extra):
    req = {
        "from": "tri-borough-rr",
        "to": "met-police",
        "purpose": "enforcement",
        "data": data,
        "consent": {"state": "not_sought", "reason": "prejudice"},
        **extra,
    }
    reg = register(document(f))
    return decide(req, [reg], CATALOGUES, PARTNERS, NOW, keyed_hash_secret=SECRET)


FIELDS = {
    "given_name": "release",
    "date_of_birth": "release",
    "co_accused": "release",
    "pnc_id": "release",
}


def test_high_privacy_default_withholds_third_parties_for_a_child():
    """ICO data-sharing code (children): where the agreement is silent, high privacy."""
    data = {"given_name": "A", "date_of_birth": CHILD_DOB, "co_accused": "B"}
    d = run(flow(fields=FIELDS), data)
    assert "co_accused" not in d.released
    assert {w.field: w.reason for w in d.withheld} == {
        "co_accused": Reason.CHILD_HIGH_PRIVACY_DEFAULT
    }
    adult = run(flow(fields=FIELDS), {**data, "date_of_birth": ADULT_DOB})
    assert "co_accused" in adult.released


def test_declared_age_band_counts_when_no_date_of_birth_is_sent():
    d = run(flow(fields=FIELDS), {"given_name": "A", "co_accused": "B"},
            subject={"age_band": "under_18"})
    assert "co_accused" not in d.released


def test_agreement_child_rules_withhold_transform_and_allow():
    """An agreement's own child rules: withheld fields, stricter transforms, allowed fields."""
    rules = {"withhold": ["pnc_id"], "transforms": {"date_of_birth": "age_band"},
             "allow": ["co_accused"]}
    data = {"given_name": "A", "date_of_birth": CHILD_DOB, "co_accused": "B", "pnc_id": "1"}
    d = run(flow(fields=FIELDS, children=rules), data)
    assert d.released["date_of_birth"] == BAND_OF_14
    assert d.transforms["date_of_birth"] == "age_band"
    assert d.released["co_accused"] == "B"
    assert {w.field: w.reason for w in d.withheld} == {"pnc_id": Reason.WITHHELD_FOR_CHILD}
    adult = run(flow(fields=FIELDS, children=rules), {**data, "date_of_birth": ADULT_DOB})
    assert adult.released["date_of_birth"] == ADULT_DOB and "pnc_id" in adult.released


@settings(max_examples=100, deadline=None)
@given(dob=st.dates(min_value=dt.date(1900, 1, 1), max_value=NOW.date()))
def test_child_is_exactly_under_18_at_decision_time(dob):
    """Children Act 1989 s105(1): a child is a person under the age of eighteen."""
    child = subject_is_child({"date_of_birth": dob}, None, NOW.date())
    # Family Law Reform Act 1969 s9: an age is attained at the start of the anniversary;
    # a 29 February birthday falls on 1 March in a common year.
    try:
        eighteenth = dob.replace(year=dob.year + 18)
    except ValueError:
        eighteenth = dt.date(dob.year + 18, 3, 1)
    assert child == (NOW.date() < eighteenth)
    assert age_on(dob, NOW.date()) >= 0


def test_a_29_february_birthday_turns_18_on_1_march():
    """Family Law Reform Act 1969 s9."""
    dob = dt.date(2008, 2, 29)
    assert subject_is_child({"date_of_birth": dob}, None, dt.date(2026, 2, 28))
    assert not subject_is_child({"date_of_birth": dob}, None, dt.date(2026, 3, 1))

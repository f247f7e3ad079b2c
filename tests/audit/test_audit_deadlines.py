"""The ICO subject-access due-date rule, as a table (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.audit import deadlines
from hub.audit.register import review_state

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        ("2026-09-03", "2026-10-05", "3 Oct 2026 is a Saturday: next working day"),
        ("2026-06-10", "2026-07-10", "same date next month (a Friday)"),
        ("2026-01-31", "2026-03-02", "no 31 Feb: month's last day, 28 Feb is a Saturday"),
        ("2028-01-31", "2028-02-29", "leap year: 29 Feb, a Tuesday"),
        ("2026-03-31", "2026-04-30", "no 31 Apr: 30 Apr, a Thursday"),
        ("2026-11-25", "2026-12-29", "Christmas, weekend and Boxing Day substitute"),
        ("2026-03-25", "2026-04-27", "25 Apr is a Saturday"),
        ("2027-02-26", "2027-03-30", "Good Friday 26 Mar 2027, weekend, Easter Monday"),
        ("2026-12-01", "2027-01-04", "1 Jan bank holiday, then a weekend"),
        ("2026-04-04", "2026-05-05", "4 May 2026 is the early May bank holiday"),
    ],
)
def test_ico_due_date(received: str, due: str, why: str) -> None:
    assert deadlines.due_date(D(received)) == D(due), why


def test_extension_is_two_more_months_once_within_month_one() -> None:
    received = D("2026-03-31")
    assert deadlines.check_extension(received, D("2026-04-30"), "complex", False) == D(
        "2026-06-30"
    )
    for today, reason, already, message in [
        (D("2026-05-01"), "complex", False, "within the first month"),
        (D("2026-04-01"), "  ", False, "reason"),
        (D("2026-04-01"), "complex", True, "already"),
    ]:
        with pytest.raises(deadlines.ExtensionRefused, match=message):
            deadlines.check_extension(received, today, reason, already)


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)))
def test_due_date_is_a_working_day_about_a_month_on(received: dt.date) -> None:
    due = deadlines.due_date(received)
    assert deadlines.is_working_day(due)
    assert 28 <= (due - received).days <= 31 + 5


@pytest.mark.parametrize(
    ("review_by", "today", "state"),
    [("2027-06-30", "2027-03-29", "ok"), ("2027-06-30", "2027-03-30", "due_soon"),
     ("2027-06-30", "2027-06-30", "due_soon"), ("2027-06-30", "2027-07-01", "overdue")],
)  # fmt: skip
def test_review_light_three_months_before_and_overdue(review_by, today, state) -> None:
    assert review_state(D(review_by), D(today)) == state

"""When a subject access request is due: the ICO's calendar-month rule (UK GDPR Art 12(3)).

The ICO counts the day of receipt as day 1 and makes the answer due on the same date of the
next month; where that month has no such date (a request received on 31 January), on the
month's last day. A due date on a weekend or a bank holiday in England and Wales moves to
the next working day. The period may be extended by two further months for a complex
request, if the requester is told within the first month. Pure functions: no clock, no I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

import holidays

EXTENSION_MONTHS = 2


class ExtensionRefused(ValueError):
    """An extension that the rule does not allow (too late, twice, or without a reason)."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same date ``months`` later, or that month's last day when it has no such date."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def due_date(received: dt.date) -> dt.date:
    """The ICO due date of a request received on ``received``."""
    return next_working_day(add_months(received, 1))


def extended_due_date(received: dt.date) -> dt.date:
    """The due date after the two-month extension for a complex request."""
    return next_working_day(add_months(received, 1 + EXTENSION_MONTHS))


def check_extension(received: dt.date, today: dt.date, reason: str, already: bool) -> dt.date:
    """The extended due date, or :class:`ExtensionRefused` with why it is not allowed."""
    if already:
        raise ExtensionRefused("this request has already been extended once")
    if not reason.strip():
        raise ExtensionRefused("an extension needs a recorded reason")
    if today > due_date(received):
        raise ExtensionRefused(
            "an extension must be decided and told to the requester within the first month "
            f"(by {due_date(received).isoformat()})"
        )
    return extended_due_date(received)

"""A sharing request, checked against the field catalogue before any decision is made.

A field the catalogue does not know, or a value of the wrong type, is refused outright
(HTTP 422): the engine cannot reason about data it cannot classify, and passing it on would
break deny-by-default. Error messages name fields, never values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hub.policy.catalogue import FieldSpec
from hub.policy.children import AGE_BANDS
from hub.policy.errors import FieldProblem, RequestValidationError

CONSENT_STATES = ("given", "refused", "not_sought")
NOT_SOUGHT_REASONS = ("unsafe", "prejudice", "incapable", "cannot_reasonably_obtain")


@dataclass(frozen=True)
class ShareRequest:
    """What a partner asks to send: ``data`` holds parsed values (dates as ``date``)."""

    sender: str
    recipient: str
    purpose: str
    data: Mapping[str, Any]
    consent_state: str
    consent_reason: str | None = None
    consent_record: str | None = None  # id of the consent record relied on (UK GDPR Art 7(1))
    subject_age_band: str | None = None  # "under_18" | "adult", when no date of birth is sent
    # DPA 2018 Sch 1 para 18(1)(a), (3): an adult subject the sender declares "at risk".
    subject_at_risk: bool = False
    justification: str | None = None


def _check_value(spec: FieldSpec, value: Any) -> tuple[Any, FieldProblem | None]:
    """The parsed value, or a problem; accepts ISO strings for dates (JSON has no dates)."""

    def bad(code: str, detail: str) -> tuple[Any, FieldProblem]:
        return None, FieldProblem(spec.name, code, detail)

    if spec.type in ("string", "text", "enum"):
        if not isinstance(value, str):
            return bad("wrong_type", f"must be a string ({spec.type})")
        if spec.max_length is not None and len(value) > spec.max_length:
            return bad("too_long", f"longer than {spec.max_length} characters")
        if spec.type == "enum" and value not in spec.values:
            return bad("not_in_enum", f"must be one of {', '.join(spec.values)}")
        return value, None
    if spec.type == "integer":
        if type(value) is not int:
            return bad("wrong_type", "must be an integer")
        return value, None
    if spec.type == "boolean":
        return (
            (value, None) if isinstance(value, bool) else bad("wrong_type", "must be true or false")
        )
    if spec.type == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value, None
        try:
            return dt.date.fromisoformat(value), None
        except (TypeError, ValueError):
            return bad("wrong_type", "must be a date YYYY-MM-DD")
    try:  # datetime: an offset is required so that times are unambiguous
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return bad("wrong_type", "must be an ISO 8601 date-time with offset")
    if parsed.tzinfo is None:
        return bad("wrong_type", "must be an ISO 8601 date-time with offset")
    return parsed, None


def _text(raw: Mapping[str, Any], key: str, problems: list[FieldProblem], required: bool) -> Any:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        problems.append(
            FieldProblem(
                key, "missing" if value is None else "wrong_type", "a non-empty string is required"
            )
        )
        return None
    return value


def parse_request(raw: Mapping[str, Any], fields: Mapping[str, FieldSpec]) -> ShareRequest:
    """Check a request dict and return a :class:`ShareRequest`, or raise a 422 error."""
    problems: list[FieldProblem] = []
    sender, recipient, purpose = (_text(raw, k, problems, True) for k in ("from", "to", "purpose"))
    justification = _text(raw, "justification", problems, False)
    consent = raw.get("consent") or {"state": "not_sought"}
    state = consent.get("state") if isinstance(consent, Mapping) else None
    if state not in CONSENT_STATES:
        problems.append(
            FieldProblem(
                "consent.state", "not_in_enum", f"must be one of {', '.join(CONSENT_STATES)}"
            )
        )
    reason = consent.get("reason") if isinstance(consent, Mapping) else None
    if reason is not None and reason not in NOT_SOUGHT_REASONS:
        problems.append(
            FieldProblem(
                "consent.reason", "not_in_enum", f"must be one of {', '.join(NOT_SOUGHT_REASONS)}"
            )
        )
    record = consent.get("record") if isinstance(consent, Mapping) else None
    if record is not None and (not isinstance(record, str) or not 0 < len(record) <= 64):
        problems.append(
            FieldProblem("consent.record", "wrong_type", "must be a consent record id (1-64)")
        )
        record = None
    subject = raw.get("subject") or {}
    age_band = subject.get("age_band") if isinstance(subject, Mapping) else None
    if age_band is not None and age_band not in AGE_BANDS:
        problems.append(
            FieldProblem(
                "subject.age_band", "not_in_enum", f"must be one of {', '.join(AGE_BANDS)}"
            )
        )
        age_band = None
    at_risk = subject.get("at_risk", False) if isinstance(subject, Mapping) else False
    if not isinstance(at_risk, bool):
        problems.append(FieldProblem("subject.at_risk", "wrong_type", "must be true or false"))
        at_risk = False
    data = raw.get("data")
    parsed: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        problems.append(
            FieldProblem("data", "wrong_type", "must be an object of field names to values")
        )
        data = {}
    for name, value in data.items():
        spec = fields.get(name)
        if spec is None:
            problems.append(
                FieldProblem(str(name), "unknown_field", "is not in the field catalogue")
            )
            continue
        parsed[name], problem = _check_value(spec, value)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise RequestValidationError(problems)
    return ShareRequest(
        sender=sender,
        recipient=recipient,
        purpose=purpose,
        data=MappingProxyType(parsed),
        consent_state=str(state),
        consent_reason=reason,
        consent_record=record,
        subject_age_band=age_band,
        subject_at_risk=at_risk,
        justification=justification,
    )

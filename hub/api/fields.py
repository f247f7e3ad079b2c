"""Marshmallow fields and validators shared by the API schemas.

Identifiers, codes and field names take exactly the shapes the ledger's event schema
accepts (:mod:`hub.ledger.events`): anything the API lets in can then be recorded, so a
refusal always reaches the ledger instead of failing as an invalid event (issue 14).
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

from hub.errors import pointer_errors
from hub.ledger.events import CODE_PATTERN, FIELD_PATTERN, IDENT_PATTERN

# Largest integer a query or path parameter may carry: PostgreSQL's BIGINT.
BIGINT_MAX = 2**63 - 1


class Shape(ma.validate.Regexp):  # type: ignore[misc]
    """A whole-string match (``re.fullmatch``); the error never repeats the input.

    ``Regexp`` alone uses ``re.match``, which lets a trailing newline through ``$``; the
    anchored pattern is kept for the OpenAPI ``pattern`` only.
    """

    def __init__(self, regex: re.Pattern[str], what: str) -> None:
        super().__init__(f"^{regex.pattern}$", error=f"Must be {what}.")
        self.exact = regex

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not self.exact.fullmatch(value):
            raise ma.ValidationError(self.error)
        return value


IDENTIFIER = Shape(
    IDENT_PATTERN, "an identifier: a letter or digit, then up to 127 of A-Za-z0-9_.:-"
)
CODE = Shape(CODE_PATTERN, "a code: a letter or digit, then up to 63 of A-Za-z0-9_.-")
FIELD_NAME = Shape(FIELD_PATTERN, "a field name: a letter, then up to 63 of A-Za-z0-9_.")


def no_repeats(value: list[Any]) -> None:
    """A list that names each thing once (the ledger refuses repeated items)."""
    if len(set(map(str, value))) != len(value):
        raise ma.ValidationError("Must not repeat items.")


def identifier(**kwargs: Any) -> ma.fields.String:
    """A string in the ledger's identifier shape (partner ids, references)."""
    return ma.fields.String(validate=IDENTIFIER, **kwargs)


def code(**kwargs: Any) -> ma.fields.String:
    """A string in the ledger's code shape (purposes, reasons)."""
    return ma.fields.String(validate=CODE, **kwargs)


def message_data(**kwargs: Any) -> ma.fields.Dict:
    """A message's ``data``: catalogue field names (the ledger's field shape) to values."""
    return ma.fields.Dict(keys=ma.fields.String(validate=FIELD_NAME), **kwargs)


def bigint(**kwargs: Any) -> ma.fields.Integer:
    """A non-negative integer that fits a database BIGINT (``minimum`` defaults to 0)."""
    low = kwargs.pop("minimum", 0)
    return ma.fields.Integer(validate=ma.validate.Range(low, BIGINT_MAX), **kwargs)


class Rejected:
    """A batch item that failed the schema: its own 422, not the whole batch's."""

    def __init__(self, raw: Any, messages: Any) -> None:
        self.raw = raw
        self.messages = messages


class EachOnItsOwn(ma.fields.Nested):  # type: ignore[misc]
    """``Nested`` whose failure yields a :class:`Rejected` item instead of failing the list.

    Documented exactly as ``Nested`` (same ``$ref``); used for ``/referrals:batch`` items,
    each of which is decided, or refused, on its own.
    """

    def _deserialize(
        self, value: Any, attr: Any, data: Any, partial: Any = None, **kwargs: Any
    ) -> Any:
        try:
            return super()._deserialize(value, attr, data, partial=partial, **kwargs)
        except ma.ValidationError as error:
            return Rejected(value, error.messages)


def split_rejected(
    items: list[Any], pointer: str
) -> tuple[list[Any], dict[int, list[dict[str, str]]]]:
    """Separate :class:`Rejected` items: their pointer errors by index, and in their place
    only what may be echoed back (a valid ``client_ref``), so no other input value is."""
    rejected: dict[int, list[dict[str, str]]] = {}
    kept: list[Any] = []
    for number, item in enumerate(items):
        if isinstance(item, Rejected):
            rejected[number] = pointer_errors({"json": item.messages}, f"{pointer}/{number}")
            kept.append(_reference_only(item))
        else:
            kept.append(item)
    return kept, rejected


def _reference_only(item: Rejected) -> dict[str, Any]:
    ref = item.raw.get("client_ref") if isinstance(item.raw, dict) else None
    valid = isinstance(item.messages, dict) and "client_ref" not in item.messages
    ok = valid and isinstance(ref, str) and 1 <= len(ref) <= 100
    return {"client_ref": ref} if ok else {}

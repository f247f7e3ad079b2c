"""Errors raised by the policy engine.

Two families: a policy *file* that cannot be loaded (the operator's problem; the message
names the file, the field path and, where ``tomllib`` reports it, the line), and a sharing
*request* that is malformed (the partner's problem; the API layer turns it into a 422).
Neither message ever carries a personal-data value, only field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class PolicyError(Exception):
    """Base class of every error the policy engine raises on purpose."""


class PolicyFileError(PolicyError):
    """A catalogue, partner or agreement file that cannot be used."""

    def __init__(self, path: Path | str, field: str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


_LINE = re.compile(r"at line (\d+)")


def line_of(exc: Exception) -> int | None:
    """The line number ``tomllib`` put in its error message, if any."""
    found = _LINE.search(str(exc))
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class FieldProblem:
    """One bad field of a request: its name and a machine code, never its value."""

    field: str
    code: str  # "unknown_field" | "wrong_type" | "too_long" | "not_in_enum" | "missing"
    detail: str


class RequestValidationError(PolicyError):
    """A request the hub must reject as unprocessable (HTTP 422) before any decision.

    Unknown fields and badly typed values are never passed through: a field the catalogue
    does not know has no sensitivity class, so the engine cannot reason about it.
    """

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = tuple(problems)
        summary = "; ".join(f"{p.field}: {p.detail}" for p in self.problems)
        super().__init__(f"invalid request: {summary}")

"""Turning the policy engine's request errors into 422 problems with JSON pointers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hub.errors import ValidationFailed
from hub.policy import RequestValidationError


@contextlib.contextmanager
def policy_request() -> Iterator[None]:
    """Re-raise :class:`RequestValidationError` as a 422 naming each field, never a value."""
    try:
        yield
    except RequestValidationError as exc:
        raise ValidationFailed(
            "The message does not match the field catalogue; see errors.",
            errors=[
                {"pointer": _pointer(p.field), "code": p.code, "detail": p.detail}
                for p in exc.problems
            ],
        ) from None


def _pointer(field: str) -> str:
    """``data.given_name`` or ``given_name`` -> ``#/data/given_name``."""
    path = field.replace(".", "/")
    if not path.startswith(("data/", "consent/", "to", "purpose", "justification", "from")):
        path = f"data/{path}"
    return f"#/{path}"

"""Turning the policy engine's request errors into 422 problems with JSON pointers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hub.errors import ValidationFailed, field_pointer
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
                {"pointer": field_pointer(p.field), "code": p.code, "detail": p.detail}
                for p in exc.problems
            ],
        ) from None

"""The MARAC services' errors, each rendered as a problem (hub.errors) by the API and console.

``NotFound`` is also the answer to a perpetrator-facing agency for anything MARAC: the very
existence of a case is not theirs to know, so the answer is the one a missing id gets.
"""

from __future__ import annotations

from typing import Any

from hub import errors


class NotFound(errors.NotFound):
    """No such MARAC, meeting, case, request or action, or not one the caller may know of."""


class Forbidden(errors.PermissionDenied):
    """The caller may know the thing exists but may not do this (e.g. another agency's action)."""


class NotSigned(Forbidden):
    """The caller's agency has not signed this meeting's confidentiality statement."""

    def __init__(self, meeting_id: str) -> None:
        super().__init__(
            "Your agency has not signed this meeting's confidentiality statement; sign it "
            "before opening the case list or a case.",
            meeting_id=meeting_id,
        )
        self.meeting_id = meeting_id


class Invalid(errors.ValidationFailed):
    """Bad input; ``pointer`` names the member (JSON pointer), ``code`` what is wrong."""

    def __init__(self, detail: str, pointer: str, code: str = "invalid", **extra: Any) -> None:
        super().__init__(
            detail, errors=[{"pointer": pointer, "code": code, "detail": detail}], **extra
        )
        self.pointer = pointer
        self.code = code

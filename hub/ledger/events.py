"""Ledger events: the DPA 2018 s62 logging items, and nothing that identifies a person.

Every event type has an allow-list of keys and a validator per key. Unknown keys are
rejected and every string must match a narrow shape (identifier, code, digest, commitment),
so a caller cannot smuggle a name, an address or free text into the tree: entry bodies go to
the parties to them (:mod:`hub.ledger.access`) and can never be edited, so what goes in must
be safe forever. Subjects appear only as keyed commitments (:func:`subject_commitment`),
which never leave the hub.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from hub.ledger.errors import InvalidEvent

EVENT_TYPES = (
    "disclosure",
    "refusal",
    "consultation",
    "correction",
    "erasure",
    "agreement",
    "key",
    "partner",
    "consent",
)

_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_COMMITMENT = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
# The shapes the API accepts for identifiers, codes and field names (hub/api/fields.py):
# the one source of truth, so nothing the API lets in can fail to be recorded.
IDENT_PATTERN, CODE_PATTERN, FIELD_PATTERN = _IDENT, _CODE, _FIELD

Check = Callable[[Any, str], None]


def _fail(path: str, why: str) -> InvalidEvent:
    return InvalidEvent(f"event.{path}: {why}")


def _pattern(regex: re.Pattern[str], what: str) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise _fail(path, f"must be {what}")

    return check


def _list_of(item: Check, max_items: int = 512) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list) or len(value) > max_items:
            raise _fail(path, f"must be a list of at most {max_items} items")
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]")
        if len(set(map(str, value))) != len(value):
            raise _fail(path, "must not repeat items")

    return check


def _object(spec: Mapping[str, Check], required: frozenset[str] = frozenset()) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _fail(path, "must be an object")
        _check_keys(value, spec, required, path)

    return check


def _check_keys(
    value: dict[str, Any], spec: Mapping[str, Check], required: frozenset[str], path: str
) -> None:
    unknown = sorted(set(value) - set(spec))
    if unknown:
        raise _fail(path, f"keys not allowed: {', '.join(map(str, unknown))}")
    missing = sorted(required - set(value))
    if missing:
        raise _fail(path, f"missing required keys: {', '.join(missing)}")
    for key, item in value.items():
        spec[key](item, f"{path}.{key}" if path else key)


def _integer(value: Any, path: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
        raise _fail(path, "must be a non-negative integer")


def _boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise _fail(path, "must be true or false")


def _time(value: Any, path: str) -> None:
    _pattern(_TIME, "an RFC 3339 UTC time ending in Z")(value, path)
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(path, "is not a real date and time") from None


IDENT, FIELD, CODE = (
    _pattern(_IDENT, "an identifier"),
    _pattern(_FIELD, "a field name"),
    _pattern(_CODE, "a code"),
)
# JWK "kid" values are RFC 7638 thumbprints: base64url, which may begin with "-" or "_".
KEY_ID = _pattern(re.compile(r"[A-Za-z0-9_\-]{1,128}"), "a base64url key id")
DIGEST = _pattern(_DIGEST, "'sha256:' and 64 lower-case hex digits")
COMMITMENT = _pattern(_COMMITMENT, "a subject commitment (64 lower-case hex digits)")

ACTOR = _object({"partner": IDENT, "client": IDENT, "user": IDENT}, frozenset({"partner"}))
AGREEMENT = _object(
    {"id": IDENT, "version": IDENT, "digest": DIGEST}, frozenset({"id", "version", "digest"})
)
WITHHELD = _object({"field": FIELD, "reason": CODE}, frozenset({"field", "reason"}))

_COMMON: dict[str, Check] = {
    "type": CODE,
    "time": _time,
    "actor": ACTOR,
    "ref": IDENT,
    "correlation": IDENT,
}
_SHARING: dict[str, Check] = {
    "recipients": _list_of(IDENT, 64),
    "agreement": AGREEMENT,
    "basis": _list_of(CODE, 16),
    "purpose": CODE,
    "justification": IDENT,
    "subjects": _list_of(COMMITMENT, 16),
    "kind": CODE,
}

# type -> (allowed keys with their checks, required keys beyond type/time/actor)
SCHEMAS: dict[str, tuple[dict[str, Check], frozenset[str]]] = {
    "disclosure": (
        {
            **_SHARING,
            "fields_released": _list_of(FIELD),
            "fields_withheld": _list_of(WITHHELD),
            "transforms": _object({}),
            "consent": CODE,
            "payload_digest": DIGEST,
        },
        frozenset(
            {
                "recipients",
                "agreement",
                "basis",
                "purpose",
                "subjects",
                "fields_released",
                "fields_withheld",
                "payload_digest",
            }
        ),
    ),
    "refusal": (
        {**_SHARING, "fields_withheld": _list_of(WITHHELD), "reasons": _list_of(CODE, 64)},
        frozenset({"recipients", "purpose", "reasons"}),
    ),
    "consultation": (
        {
            "subjects": _list_of(COMMITMENT, 16),
            "fields": _list_of(FIELD),
            "purpose": CODE,
            "justification": IDENT,
            "entry": _integer,
        },
        frozenset({"ref", "purpose"}),
    ),
    "correction": (
        {
            "entry": _integer,
            "recipients": _list_of(IDENT, 64),
            "fields": _list_of(FIELD),
            "reason": CODE,
            "payload_digest": DIGEST,
            "subjects": _list_of(COMMITMENT, 16),
        },
        frozenset({"ref", "reason"}),
    ),
    "erasure": (
        {
            "entry": _integer,
            "reason": CODE,
            "payload_digest": DIGEST,
            "key_destroyed": _boolean,
            "subjects": _list_of(COMMITMENT, 16),
            # Who was told (Art 19): lets the recipient read the entry about its notice.
            "recipients": _list_of(IDENT, 64),
        },
        frozenset({"ref", "reason"}),
    ),
    "agreement": (
        {"agreement": AGREEMENT, "action": CODE, "parties": _list_of(IDENT, 64)},
        frozenset({"agreement", "action"}),
    ),
    "key": (
        {"partner": IDENT, "action": CODE, "key_id": KEY_ID, "alg": CODE},
        frozenset({"partner", "action", "key_id"}),
    ),
    "partner": (
        {"partner": IDENT, "action": CODE, "partner_type": CODE, "digest": DIGEST},
        frozenset({"partner", "action"}),
    ),
}


# A consent record kept or withdrawn (UK GDPR Art 7(1), 7(3)): its id, scope and flag only,
# never the subject. ``scope_recipients``, not ``recipients``: the partners it covers are not
# told of it, so only the actor (and its own DPO) reads the entry.
SCHEMAS["consent"] = (
    {
        "record": IDENT,
        "action": CODE,
        "purposes": _list_of(CODE, 20),
        "scope_recipients": _list_of(IDENT, 50),
        "explicit": _boolean,
        "given_at": _time,
    },
    frozenset({"record", "action"}),
)


# Governance events hold no personal data and are public; the others are salted (format 2).
PUBLIC_TYPES = frozenset({"agreement", "key", "partner"})


def member_slots(event_type: str) -> int:
    """How many members an event of this type may have: its format 2 digest count."""
    return len(_COMMON) + len(SCHEMAS[event_type][0])


def _transforms(value: Any, path: str) -> None:
    """``{field name: transform name}``: which redaction applied to which field."""
    if not isinstance(value, dict) or len(value) > 512:
        raise _fail(path, "must be an object of at most 512 field names")
    for key, transform in value.items():
        FIELD(key, f"{path} key")
        if transform not in TRANSFORMS:
            raise _fail(f"{path}.{key}", f"must be one of {', '.join(sorted(TRANSFORMS))}")


# The field catalogue's transforms; a closed set, so no value can pose as one.
TRANSFORMS = frozenset(
    {"initials", "year_of_birth", "age_band", "postcode_district", "mask", "keyed_hash"}
)
SCHEMAS["disclosure"][0]["transforms"] = _transforms


def validate_event(event: Mapping[str, Any], field_names: frozenset[str] | None = None) -> None:
    """Raise :class:`InvalidEvent` unless ``event`` is exactly an allowed event.

    ``field_names``, when given (the field catalogue), additionally requires every field name
    to be a catalogue field: a one-word value cannot then pass as a field name.
    """
    if not isinstance(event, dict):
        raise InvalidEvent("an event must be a JSON object")
    kind = event.get("type")
    if kind not in SCHEMAS:
        raise InvalidEvent(f"event.type must be one of {', '.join(EVENT_TYPES)}")
    spec, required = SCHEMAS[kind]
    _check_keys(event, {**_COMMON, **spec}, required | {"type", "time", "actor"}, "")
    if field_names is not None:
        check_field_names(event, field_names)


def check_field_names(event: Mapping[str, Any], field_names: frozenset[str]) -> None:
    """Raise :class:`InvalidEvent` if ``event`` names a field outside the catalogue.

    The catalogue half of :func:`validate_event`, for a :func:`draft_event` whose structure
    ``store.append_entries`` validates as it appends.
    """
    unknown = sorted(_field_names(event) - field_names)
    if unknown:
        raise InvalidEvent(f"event names fields not in the catalogue: {', '.join(unknown)}")


def _field_names(event: Mapping[str, Any]) -> set[str]:
    names = set(event.get("fields_released", ())) | set(event.get("fields", ()))
    names |= {item["field"] for item in event.get("fields_withheld", ())}
    return names | set(event.get("transforms", {}))


def event_time(when: dt.datetime | None = None) -> str:
    """RFC 3339 UTC with microseconds, the one time format entries use."""
    when = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    # isoformat pads the year to four digits; strftime's %Y does not on glibc (year 900).
    return when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def make_event(
    event_type: str, actor: Mapping[str, str], *, time: dt.datetime | None = None, **items: Any
) -> dict[str, Any]:
    """Build and validate an event; items left as ``None`` are omitted."""
    event = draft_event(event_type, actor, time=time, **items)
    validate_event(event)
    return event


def draft_event(
    event_type: str, actor: Mapping[str, str], *, time: dt.datetime | None = None, **items: Any
) -> dict[str, Any]:
    """Build an event *without* validating it: only for one handed straight to
    ``store.append_entries``, which validates every event it appends (so the hot path
    validates each event once, and an invalid one still fails its transaction)."""
    event: dict[str, Any] = {"type": event_type, "time": event_time(time), "actor": dict(actor)}
    event.update({key: value for key, value in items.items() if value is not None})
    return event


def disclosure_event(actor: Mapping[str, str], **items: Any) -> dict[str, Any]:
    """A release of a subject's data to recipients under an agreement (s62 disclosure)."""
    return make_event("disclosure", actor, **items)


def refusal_event(actor: Mapping[str, str], **items: Any) -> dict[str, Any]:
    """A request the policy refused: nothing released, the reasons recorded."""
    return make_event("refusal", actor, **items)


def consultation_event(actor: Mapping[str, str], **items: Any) -> dict[str, Any]:
    """A view of shared data (s62 consultation)."""
    return make_event("consultation", actor, **items)


def payload_digest(payload: bytes) -> str:
    """``sha256:<hex>`` of the payload as delivered (the ledger holds digests, not data)."""
    return "sha256:" + hashlib.sha256(payload).hexdigest()


SUBJECT_KINDS = ("pnc", "nhs", "name_dob")


def normalise_identifier(kind: str, value: str) -> str:
    """Canonical form of an identifier so that spelling variants commit to the same value.

    PNC ids: upper case, no spaces. NHS numbers: digits only. Name + date of birth: NFKC,
    lower case, runs of whitespace collapsed to one space.
    """
    if kind == "pnc":
        return re.sub(r"\s+", "", value).upper()
    if kind == "nhs":
        return re.sub(r"\D", "", value)
    if kind == "name_dob":
        return " ".join(unicodedata.normalize("NFKC", value).lower().split())
    raise ValueError(f"unknown identifier kind {kind!r}; expected one of {SUBJECT_KINDS}")


def subject_commitment(secret: str | bytes, kind: str, value: str) -> str:
    """``HMAC-SHA256(secret, kind || 0x00 || normalised value)`` as hex.

    Keyed so that nobody without the hub's secret can test guesses (a plain hash of an NHS
    number is brute-forced in seconds); the kind is bound in so different identifier kinds
    never collide.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("subject_secret is empty; refusing to make guessable commitments")
    normalised = normalise_identifier(kind, value)
    if not normalised:
        raise ValueError(f"empty {kind} identifier")
    message = kind.encode() + b"\x00" + normalised.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()

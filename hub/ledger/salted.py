"""Entry format 2: a leaf that commits to an entry through salted per-member digests.

A format 1 leaf is ``SHA-256(0x00 || entry)``: whoever holds the leaf hash can test guesses
of the whole entry (``"fields_withheld":[{"field":"mental_health",...}]`` or not?). A format
2 leaf commits to each top-level member separately, under a fresh 128-bit salt, in the
manner of SD-JWT disclosures and Certificate Transparency pre-certificates:

- a *member* is ``"name":value`` exactly as it appears in the entry's RFC 8785 canonical
  JSON (so the entry is ``{`` + members joined by ``,`` + ``}``);
- its digest is ``SHA-256(salt || member)``, with its own 16-byte random salt;
- every event type has a fixed number of *slots* (its allow-listed keys); a member the
  event does not use fills its slot with a decoy, 32 random bytes (as unguessable as a
  digest under an unknown salt), so the number of digests says nothing about which
  optional members are present;
- the leaf input is ``0x02 || the digests, sorted``, and the leaf hash is RFC 9162's
  ``SHA-256(0x00 || leaf input)``. A format 1 entry starts with ``{``, so the two formats
  can never produce the same leaf input.

A reader given some members with their salts, and the other digests as opaque values,
recomputes the leaf without learning anything about the members it was not given: without
the salt a digest cannot be tested against guesses. Salts are stored beside the entry and
handed out only with the members a reader may see (:mod:`hub.ledger.access`).

Pure and standard-library only, like :mod:`hub.ledger.merkle`: partners copy this file with
``verify.py`` and ``merkle.py`` to check receipts offline.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

FORMAT_PLAIN = 1
FORMAT_SALTED = 2
SALT_SIZE = 16
DIGEST_SIZE = 32
LEAF_INPUT_TAG = b"\x02"

_sha256 = hashlib.sha256
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
).encode

# A stored entry is a validated event, whose strings never hold ", {, }, [, ] or a comma
# (hub.ledger.events allows only identifiers, codes, digests and times) and whose nesting
# is at most two levels below a member (e.g. fields_withheld: [{...}]). So the top-level
# members can be cut out by a regular expression, in C, without a JSON parse. Whatever the
# cut, :func:`stored_digests` also checks the members rejoin to exactly the stored bytes.
# Possessive quantifiers (``*+``, ``++``) consume each run in one step: ~4x faster than
# plain ones, and nothing here ever needs to backtrack.
_FLAT = rb"\{[^{}\[\]]*+\}|\[[^{}\[\]]*+\]"
_NESTED = rb"\{(?:[^{}\[\]]++|" + _FLAT + rb")*+\}|\[(?:[^{}\[\]]++|" + _FLAT + rb")*+\]"
_MEMBER = re.compile(rb'"[^"\\]*+":(?:"[^"\\]*+"|' + _NESTED + rb"|[^,{}\[\]\"]++)")
MEMBER_FINDALL = _MEMBER.findall  # (entry, 1, len(entry) - 1): the members, in order


class MalformedEntry(ValueError):
    """Stored bytes or salts that cannot be a format 2 entry (so they were altered)."""


def member_bytes(name: str, value: Any) -> bytes:
    """``"name":value`` as in the entry's RFC 8785 canonical JSON.

    Entries hold only ASCII strings, integers below 2**53, booleans, lists and objects, for
    which sorted, compact, ASCII JSON is exactly RFC 8785.
    """
    return (_encode(name) + ":" + _encode(value)).encode()


def member_digest(salt: bytes, member: bytes) -> bytes:
    """``SHA-256(salt || member)``: commits to one member; opaque without the salt."""
    return _sha256(salt + member).digest()


def salts_size(members: int, slots: int) -> int:
    """Bytes of randomness an entry needs: a salt per member, a decoy per unused slot."""
    if members > slots:
        raise MalformedEntry("more members than the type has slots")
    return members * SALT_SIZE + (slots - members) * DIGEST_SIZE


def leaf_input(digests: Sequence[bytes]) -> bytes:
    """``0x02 || sorted digests``: the bytes the RFC 9162 leaf hash is taken over."""
    return LEAF_INPUT_TAG + b"".join(sorted(digests))


def split_members(entry: bytes) -> list[bytes]:
    """The top-level members of a stored entry, in order; raises if they do not rejoin."""
    if entry[:1] != b"{" or entry[-1:] != b"}":
        raise MalformedEntry("entry is not a JSON object")
    members: list[bytes] = _MEMBER.findall(entry, 1, len(entry) - 1)
    if b",".join(members) != entry[1:-1]:
        raise MalformedEntry("entry members do not rejoin to the stored bytes")
    return members


def salt_cutter(members: int, size: int) -> Callable[[bytes], tuple[bytes, ...]]:
    """Cut ``size`` bytes of salts into ``members`` salts then the decoys, in one C call.

    Verification recomputes every stored entry's digests, so the per-salt slicing is done
    by a :class:`struct.Struct` made once per shape (an event type has one or a few).
    """
    key = (members, size)
    cutter = _CUTTERS.get(key)
    if cutter is None:
        cut = members * SALT_SIZE
        if size < cut or (size - cut) % DIGEST_SIZE:
            raise MalformedEntry("salts do not fit the entry")
        if len(_CUTTERS) >= 256:  # shapes come from stored (possibly altered) rows
            _CUTTERS.clear()
        layout = f"{SALT_SIZE}s" * members + f"{DIGEST_SIZE}s" * ((size - cut) // DIGEST_SIZE)
        cutter = _CUTTERS[key] = struct.Struct(layout).unpack
    return cutter


_CUTTERS: dict[tuple[int, int], Callable[[bytes], tuple[bytes, ...]]] = {}


def stored_digests(entry: bytes, salts: bytes) -> list[bytes]:
    """Every digest of a stored entry: its members' (``salts`` holds their salts in member
    order), then the decoys stored after them."""
    members = split_members(entry)
    pieces = salt_cutter(len(members), len(salts))(salts)
    sha = _sha256
    digests = [sha(salt + member).digest() for salt, member in zip(pieces, members, strict=False)]
    digests += pieces[len(members) :]
    return digests


def stored_leaf_input(entry: bytes, salts: bytes) -> bytes:
    """The leaf input of a stored format 2 entry (what ``hub log verify`` recomputes)."""
    return leaf_input(stored_digests(entry, salts))


def member_names(entry: bytes) -> list[str]:
    """The names of the members of a stored entry, in member (sorted) order."""
    return [m[1 : m.index(b'":')].decode() for m in split_members(entry)]


def view_leaf_input(
    members: Mapping[str, Any], salts: Mapping[str, bytes], others: Sequence[bytes]
) -> bytes:
    """The leaf input from disclosed members with their salts and the other digests."""
    if set(members) != set(salts):
        raise MalformedEntry("every disclosed member needs exactly one salt")
    digests = [member_digest(salts[name], member_bytes(name, members[name])) for name in members]
    return leaf_input([*digests, *others])

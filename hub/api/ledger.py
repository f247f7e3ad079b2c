"""``/api/v1/log``: the disclosure ledger's checkpoints, entries and proofs (``log:read``).

Checkpoints, leaf hashes and proofs are for every partner; an entry's body only for those
entitled to it (:mod:`hub.ledger.access`), 404 otherwise, exactly as for a missing index.
Everything here can be checked offline with :mod:`hub.ledger.verify` or any RFC 9162 and
C2SP signed-note implementation; the hub asks to be trusted for nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from werkzeug.routing import BaseConverter

from hub import db
from hub.api import examples
from hub.api.fields import bigint
from hub.api.guards import Blueprint
from hub.api.problems import problems
from hub.errors import HubError, NotFound
from hub.ledger import service, tiles
from hub.ledger.access import Reader
from hub.ledger.errors import IndexOutOfRange, LedgerError, NoCheckpoint
from hub.oauth.protector import current_partner_id, current_scopes, requires
from hub.witness.served import served_checkpoint

QUORUM_HEADER = "Hub-Witness-Quorum"
QUORUM_EXAMPLE = "met; cosigned=2; needed=2; witnesses=3"
blp = Blueprint("log", __name__, description="Disclosure ledger (RFC 9162, C2SP checkpoints)")
TEXT = "text/plain"


class EntrySchema(ma.Schema):
    index = ma.fields.Integer(required=True)
    format = ma.fields.Integer(
        required=True,
        validate=ma.validate.OneOf([1, 2]),
        metadata={"description": "1: leaf over the entry; 2: leaf over salted member digests"},
    )
    entry = ma.fields.Dict(
        required=True,
        metadata={"description": "The members of the event the caller may read (docs/ledger.md)"},
    )
    leaf_hash = ma.fields.String(
        required=True, metadata={"description": "base64 RFC 9162 leaf hash"}
    )
    salts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "Format 2: base64 16-byte salt of each member in entry"},
    )
    digests = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Format 2: base64 digests of the members not disclosed"},
    )


class LeafSchema(ma.Schema):
    index = ma.fields.Integer(required=True)
    leaf_hash = ma.fields.String(
        required=True, metadata={"description": "base64 RFC 9162 leaf hash"}
    )


class InclusionArgs(ma.Schema):
    index = bigint(required=True)
    tree_size = bigint(required=True, minimum=1)


class InclusionSchema(ma.Schema):
    index = ma.fields.Integer(required=True)
    tree_size = ma.fields.Integer(required=True)
    hashes = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "base64"})


class ConsistencyArgs(ma.Schema):
    class Meta:
        include = {
            "from": bigint(required=True, minimum=1),
            "to": bigint(required=True, minimum=1),
        }


class ConsistencySchema(ma.Schema):
    class Meta:
        include = {
            "from": ma.fields.Integer(required=True),
            "to": ma.fields.Integer(required=True),
        }

    hashes = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "base64"})


def _text(description: str, example: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {TEXT: {"schema": {"type": "string"}, "example": example}},
    }


@contextlib.contextmanager
def _ledger_problems() -> Iterator[None]:
    """Ledger errors as problems; never a stack trace."""
    try:
        yield
    except IndexOutOfRange:
        raise NotFound("the log has no such entry or tree size yet") from None
    except NoCheckpoint as exc:
        raise NotFound(str(exc)) from None
    except LedgerError:
        # Messages name the sizes asked for; the answer repeats no input value.
        raise HubError("those tree sizes do not make a proof in this log") from None


@blp.route("/log/checkpoint")
class Checkpoint(MethodView):
    @requires("log:read")
    @blp.doc(
        operationId="getCheckpoint",
        responses={
            200: {
                **_text("C2SP signed note", examples.CHECKPOINT),
                "headers": {
                    QUORUM_HEADER: {
                        "description": "When witnesses are configured: `met` or `short`, "
                        "then cosigned, needed (k) and witnesses (n) counts",
                        "schema": {"type": "string", "example": QUORUM_EXAMPLE},
                    }
                },
            }
        },
    )
    @problems(404)
    def get(self) -> Response:
        """The latest signed checkpoint (C2SP tlog-checkpoint signed note), cosigned.

        Origin, tree size and root hash, signed with the hub's Ed25519 key (`/log/key`),
        followed by a C2SP cosignature/v1 line from each witness that has cosigned it.
        Short of the witness quorum it is served all the same, with the cosignatures it
        has: `Hub-Witness-Quorum` says `short` (count the lines you trust yourself).
        404 until the first checkpoint is signed.
        """
        with _ledger_problems():
            note, state = served_checkpoint(db.session(), current_app.config["HUB_SETTINGS"])
        response = Response(note, mimetype="text/plain")
        if state is not None:
            response.headers[QUORUM_HEADER] = state.header()
        return response


class WitnessSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "cosigner name"})
    url = ma.fields.String(required=True, metadata={"description": "submission URL prefix"})
    verifier_key = ma.fields.String(
        required=True,
        metadata={"description": "cosignature/v1 vkey: name+keyid+base64(0x04 || key)"},
    )


class WitnessPolicySchema(ma.Schema):
    quorum = ma.fields.Integer(
        required=True, metadata={"description": "k: cosignatures a checkpoint needs"}
    )
    witnesses = ma.fields.List(ma.fields.Nested(WitnessSchema), required=True)


@blp.route("/log/witnesses")
class Witnesses(MethodView):
    @requires("log:read")
    @blp.response(200, WitnessPolicySchema, example=examples.WITNESSES)
    @blp.doc(operationId="getWitnesses")
    def get(self) -> dict[str, Any]:
        """The witnesses the hub asks to cosign its checkpoints, and the quorum (k of n).

        For discovery only: a witness's key is worth something only if you got it from
        the witness's operator (each agency runs one), not from the hub it watches.
        """
        settings = current_app.config["HUB_SETTINGS"]
        return {
            "quorum": settings.witness_quorum_needed,
            "witnesses": [
                {"name": w.name, "url": w.url, "verifier_key": w.verifier_key}
                for w in settings.witnesses
            ],
        }


@blp.route("/log/key")
class VerifierKey(MethodView):
    @requires("log:read")
    @blp.doc(
        operationId="getVerifierKey",
        responses={200: _text("note verifier key", examples.VERIFIER_KEY)},
    )
    def get(self) -> Response:
        """The Ed25519 note verifier key (name+keyid+base64) checkpoints verify with.

        503 until `hub init` has made the hub's signing key.
        """
        key = current_app.extensions.get("hub.signing_key")
        if key is None:
            raise HubError("the hub has no signing key yet", problem="unavailable")
        origin = current_app.config["HUB_SETTINGS"].log_origin
        return Response(service.log_verifier_key(key, origin) + "\n", mimetype="text/plain")


@blp.route("/log/entries/<int:index>")
class Entry(MethodView):
    @requires("log:read")
    @blp.response(200, EntrySchema, example=examples.ENTRY)
    @blp.doc(operationId="getLogEntry")
    @problems(404)
    def get(self, index: int) -> dict[str, Any]:
        """The parts of one ledger entry the caller may read, with what verifies them.

        404, exactly as for an index beyond the log, when the caller may read none of it.
        """
        reader = Reader(current_partner_id(), audit="log:audit" in current_scopes())
        with _ledger_problems():
            return service.entry_view(db.session(), index, reader)


@blp.route("/log/leaves/<int:index>")
class Leaf(MethodView):
    @requires("log:read")
    @blp.response(200, LeafSchema, example={"index": 0, "leaf_hash": examples.ENTRY["leaf_hash"]})
    @blp.doc(operationId="getLogLeaf")
    @problems(404)
    def get(self, index: int) -> dict[str, Any]:
        """The leaf hash of any entry (it reveals nothing about the entry).

        Public to every partner like proofs and checkpoints: a format 2 leaf commits to
        salted member digests, so it cannot be tested against guesses. 404 past the log.
        """
        with _ledger_problems():
            return service.leaf_view(db.session(), index)


@blp.route("/log/proofs/inclusion")
class Inclusion(MethodView):
    @requires("log:read")
    @blp.arguments(InclusionArgs, location="query")
    @blp.response(200, InclusionSchema, example=examples.INCLUSION)
    @blp.doc(operationId="getInclusionProof")
    @problems(400, 404)
    def get(self, args: dict[str, int]) -> dict[str, Any]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `tree_size`.

        400 when `index` is not below `tree_size`; 404 when the log is smaller.
        """
        with _ledger_problems():
            return service.inclusion_view(db.session(), args["index"], args["tree_size"])


@blp.route("/log/proofs/consistency")
class Consistency(MethodView):
    @requires("log:read")
    @blp.arguments(ConsistencyArgs, location="query")
    @blp.response(200, ConsistencySchema, example=examples.CONSISTENCY)
    @blp.doc(operationId="getConsistencyProof")
    @problems(400, 404)
    def get(self, args: dict[str, int]) -> dict[str, Any]:
        """RFC 9162 consistency proof between tree sizes `from` and `to`.

        400 when `from` is above `to`; 404 when the log is smaller than `to`.
        """
        with _ledger_problems():
            return service.consistency_view(db.session(), args["from"], args["to"])


@dataclasses.dataclass(frozen=True)
class TileIndex:
    """A tile path's ``<N>[.p/<W>]``: not a ``str``, as it may hold ``/``, which the path
    guard refuses in identifiers; :func:`hub.ledger.tiles.parse_index` checks it."""

    text: str


class TileConverter(BaseConverter):
    """``x001/x234/067`` and ``067.p/12``: C2SP tlog-tiles index paths."""

    regex = tiles.INDEX_PATTERN
    part_isolating = False

    def to_python(self, value: str) -> TileIndex:
        return TileIndex(value)

    def to_url(self, value: object) -> str:
        return value.text if isinstance(value, TileIndex) else str(value)


def tile_parameter_schema(_converter: BaseConverter) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": f"^{tiles.INDEX_PATTERN}$",
        "description": "Tile index as zero-padded 3-digit elements (all but the last prefixed "
        "'x', e.g. x001/x234/067), then '.p/<W>' for a partial tile of W hashes",
    }


TILE_CACHE_FULL = "private, max-age=31536000, immutable"
TILE_CACHE_PARTIAL = "private, max-age=60"


@blp.route("/log/tile/<int:level>/<tile:index>")
class Tile(MethodView):
    @requires("log:read")
    @blp.doc(
        operationId="getTile",
        responses={
            200: {
                "description": "The tile's hashes, 32 bytes each, concatenated",
                "content": {
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary"},
                        "example": "(32 bytes per hash: 8192 bytes for a full tile)",
                    }
                },
            }
        },
    )
    @problems(404)
    def get(self, level: int, index: TileIndex) -> Response:
        """A C2SP tlog-tiles hash tile of the tree (prefix `/api/v1/log`).

        Level 0 holds leaf hashes, level L the roots of subtrees of 256**L leaves; a full
        tile has 256 hashes and never changes (`Cache-Control: immutable`), a partial one
        (`.p/W`) the first W. Served up to the latest signed checkpoint (`/log/checkpoint`,
        this prefix's tlog-tiles checkpoint); 404 beyond it. Entry bundles
        (`tile/entries/...`) are not served: entry bodies are private and readable only
        through `/log/entries/{index}` by those entitled to them.
        """
        try:
            ref = tiles.parse_index(level, index.text)
            with _ledger_problems():
                data = tiles.read_tile(db.session(), ref)
        except tiles.NoSuchTile:
            raise NotFound("the signed tree has no such tile") from None
        response = Response(data, mimetype="application/octet-stream")
        full = ref.width is None
        response.headers["Cache-Control"] = TILE_CACHE_FULL if full else TILE_CACHE_PARTIAL
        return response

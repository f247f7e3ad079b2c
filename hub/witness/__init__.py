"""Witnesses (C2SP tlog-witness, tlog-cosignature): partners keep the hub's log honest.

* :mod:`hub.witness.cosignature` — the cosignature/v1 (Ed25519, timestamped) format: sign,
  verify, verifier keys. Pure: ``cryptography`` only.
* :mod:`hub.witness.protocol` — the ``add-checkpoint`` request body, parsed and built.
* :mod:`hub.witness.state` — a witness's own state (one SQLite file), updated atomically.
* :mod:`hub.witness.config`, :mod:`hub.witness.service`, :mod:`hub.witness.app`,
  :mod:`hub.witness.cli` — ``hub witness serve``: the witness's small WSGI app.
* :mod:`hub.witness.collect` — the hub's side: ask each configured witness to cosign a new
  checkpoint, store what comes back, judge the k-of-n quorum.

The tree itself is served to monitors as C2SP tlog-tiles hash tiles (:mod:`hub.ledger.tiles`).
"""

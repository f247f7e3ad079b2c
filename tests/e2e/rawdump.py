"""Everything the database holds, as bytes, to search for values that must not be there.

SQLite: the database file and its write-ahead log, byte for byte (free pages included, so a
value written and later deleted still shows). PostgreSQL: ``pg_dump --data-only`` when the
binary is available, plus every row of every table cast to text, so nothing depends on the
client tools being installed.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from hub import db


def encodings(value: str) -> list[bytes]:
    """Forms a plaintext value could take in a dump: raw, hex (bytea), base64 (any offset).

    For base64, each of the three alignments of the value inside a longer string is
    searched for by its stable core (the characters unaffected by neighbouring bytes).
    """
    raw = value.encode()
    forms = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        start = (offset * 4 + 2) // 3 + 1  # skip characters mixed with the padding prefix
        forms.append(encoded[start : len(encoded) - 4])
    return forms


def found_in(value: str, dump: bytes) -> list[bytes]:
    """Which encodings of ``value`` occur in ``dump`` (empty: none)."""
    return [form for form in encodings(value) if form in dump]


def raw_dump(database_url: str) -> bytes:
    """All the bytes of the database (see the module docstring)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        parts = [path, Path(f"{path}-wal")]
        return b"".join(p.read_bytes() for p in parts if p.exists())
    return _pg_dump(database_url) + _select_everything(database_url)


def _pg_dump(database_url: str) -> bytes:
    binary = shutil.which("pg_dump")
    if binary is None:
        return b""
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    result = subprocess.run(  # noqa: S603
        [binary, "--data-only", "--no-owner", libpq], capture_output=True, timeout=120
    )
    return result.stdout if result.returncode == 0 else b""


def _select_everything(database_url: str) -> bytes:
    engine = db.make_engine(database_url)
    chunks: list[bytes] = []
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" AS t'))
                chunks.extend(row[0].encode() for row in rows)
    finally:
        engine.dispose()
    return b"\n".join(chunks)

"""Two local witnesses for ``hub demo`` (in-process, on free ports), and the cosigning loop.

Demo only: their keys and state live under ``instance/demo-witnesses/<hub key id>/``, so a
new hub key (a fresh ``instance/``) gets fresh witnesses rather than witnesses that would
rightly refuse a log that forgot its past. ``hub demo`` refuses production mode, and a
witness key under a ``demo`` directory is refused in production anyway.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from werkzeug.serving import make_server

from hub.ledger.checkpoint import ensure_signing_key, verifier_key
from hub.settings import Settings
from hub.witness.app import create_witness_app
from hub.witness.config import load_config

DEMO_WITNESSES = ("witness.kent-police.demo/w1", "witness.kent-csc.demo/w2")
COSIGN_EVERY = 1.0  # seconds between looks at the latest checkpoint


def start_demo_witnesses(settings: Settings, echo: Callable[[str], None]) -> str:
    """Serve the demo witnesses on 127.0.0.1 (ports chosen by the OS) for the hub's log.

    Returns the ``HUB_WITNESSES`` value naming them; they run on daemon threads until the
    process exits.
    """
    log_key = verifier_key(settings.log_origin, ensure_signing_key(settings.signing_key_file))
    root = settings.instance_dir / "demo-witnesses" / log_key.split("+")[1]
    entries = []
    for name in DEMO_WITNESSES:
        config = load_config(name=name, state_dir=root / name.split("/")[0], logs=[log_key])
        server = make_server("127.0.0.1", 0, create_witness_app(config), threaded=True)
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        entries.append(f"{url} {config.verifier_key}")
        echo(f"demo witness {name} at {url}, key {config.verifier_key}")
    return ", ".join(entries)


def start_cosigning(settings: Settings) -> threading.Event:
    """Ask the witnesses for cosignatures on each new checkpoint, as ``hub worker`` does."""
    from hub import db
    from hub.witness.collect import CosignTicker

    stop = threading.Event()
    engine = db.make_engine(settings.database_url)
    sessions = db.make_sessionmaker(engine)
    ticker = CosignTicker(settings)

    def loop() -> None:
        while not stop.wait(COSIGN_EVERY):
            try:
                ticker(sessions)
            except Exception:  # noqa: BLE001, S112 - keep trying; the ledger page shows it
                continue

    threading.Thread(target=loop, name="demo-cosign", daemon=True).start()
    return stop


def witnesses_env(value: str) -> None:
    """Export the demo witnesses so child processes (the scenario's server) use them too."""
    os.environ["HUB_WITNESSES"] = value
    os.environ["HUB_WITNESS_QUORUM"] = str(len(DEMO_WITNESSES))

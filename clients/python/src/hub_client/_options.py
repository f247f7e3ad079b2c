"""Connection options shared by ``hub-client`` and ``hub-monitor``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .auth import load_private_jwk
from .client import HubClient


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--hub``, ``--client-id``, ``--key``, ``--issuer`` (defaults from ``HUB_CLIENT_*``)."""
    env = os.environ
    parser.add_argument("--hub", default=env.get("HUB_CLIENT_URL"), help="the hub's base URL")
    parser.add_argument("--client-id", default=env.get("HUB_CLIENT_ID"), help="your partner id")
    parser.add_argument(
        "--key", default=env.get("HUB_CLIENT_KEY"), type=Path, help="your private JWK file"
    )
    parser.add_argument(
        "--issuer",
        default=env.get("HUB_CLIENT_ISSUER"),
        help="the hub's HUB_ISSUER (default: --hub)",
    )


def connect(args: argparse.Namespace) -> HubClient:
    """A client from the connection options; ``ValueError`` naming what is missing."""
    missing = [
        f"--{n.replace('_', '-')}" for n in ("hub", "client_id", "key") if not getattr(args, n)
    ]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (or HUB_CLIENT_URL, _ID, _KEY)")
    return HubClient(args.hub, args.client_id, load_private_jwk(args.key), issuer=args.issuer)

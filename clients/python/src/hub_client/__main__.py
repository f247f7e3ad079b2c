"""``hub-client`` (``python -m hub_client``): a partner's command line for the hub.

    hub-client token "SCOPES"     a bearer token got with private_key_jwt
    hub-client log-key            the log's note verifier key (GET /api/v1/log/key)
    hub-client witnesses          the witnesses' cosigner keys the hub names, one a line

Each takes ``--hub URL --client-id ID --key JWK [--issuer URL]``, or ``HUB_CLIENT_URL``,
``HUB_CLIENT_ID``, ``HUB_CLIENT_KEY``, ``HUB_CLIENT_ISSUER``. Exit 1 with the reason if the
hub refuses. ``log-key`` and ``witnesses`` are for discovery: a key is worth pinning only
once checked out of band (with the hub's DPO, with each witness's operator). The log
monitor is ``hub-monitor`` (:mod:`hub_client.monitor`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import requests

from ._options import add_connection_options, connect
from .auth import TokenError
from .client import HubError


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hub-client", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a bearer token for SCOPES")
    token.add_argument("scopes", help="space-separated, e.g. 'referrals:write log:read'")
    add_connection_options(token)
    for name, text in (
        ("log-key", "print the log's verifier key"),
        ("witnesses", "print the witnesses' cosigner keys, one a line"),
    ):
        add_connection_options(commands.add_parser(name, help=text))
    args = parser.parse_args(argv)
    try:
        client = connect(args)
        if args.command == "token":
            print(client.tokens.token(args.scopes))
        elif args.command == "log-key":
            print(client.log_key())
        else:
            for witness in client.witnesses()["witnesses"]:
                print(witness["verifier_key"])
    except (TokenError, HubError, requests.RequestException, OSError, ValueError) as exc:
        print(f"hub-client {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()

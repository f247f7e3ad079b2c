"""One referral under the microscope: statements, round trips and CPU, hub beside bare.

Not a test. In one process, on a throw-away PostgreSQL database, sends ``--count``
referrals through Flask's test client (no HTTP, no gunicorn: only the app's own work) to
the hub and to the bare Flask + SQLAlchemy app of ``bench/bare_app.py``, counting what
each sends to the database per referral:

- statements (every psycopg cursor execute, at the driver, so statements the hub sends
  below SQLAlchemy count too; an executemany or a COPY counts once),
- round trips (statements, a pre-ping's ``SELECT 1`` among them, + BEGIN + COMMIT;
  statements sent in one psycopg pipeline count as one),
- CPU per referral (``time.process_time``; the test client's own share included both sides).

``--profile FILE`` also writes a cProfile of the hub's referrals (``python -m pstats FILE``).

    python bench/hotpath.py [--postgres URL] [--count 300] [--profile hub.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from hub.schema import throwaway_database  # noqa: E402


class Counter:
    """Statements (a pre-ping's included), BEGINs and COMMITs an engine sends, at the driver.

    Every psycopg cursor of the engine's connections counts its own ``execute``,
    ``executemany`` (once) and ``copy``, so statements the hub sends at the driver level
    (the sequencer batch) count as surely as SQLAlchemy's. Statements sent inside one
    psycopg pipeline share a round trip.
    """

    def __init__(self, engine: Engine) -> None:
        self.statements = self.begins = self.commits = self.pipelined = 0
        self._pipelines: set[int] = set()
        counter = self

        import psycopg

        class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
            def _count(self) -> None:
                counter.statements += 1
                pipeline = getattr(self.connection, "_pipeline", None)
                if pipeline is not None:
                    counter.pipelined += 1
                    counter._pipelines.add(id(pipeline))

            def execute(self, *args: Any, **kwargs: Any) -> Any:
                self._count()
                return super().execute(*args, **kwargs)

            def executemany(self, *args: Any, **kwargs: Any) -> Any:
                self._count()
                return super().executemany(*args, **kwargs)

            def copy(self, *args: Any, **kwargs: Any) -> Any:
                self._count()
                return super().copy(*args, **kwargs)

        def use_counting_cursor(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.cursor_factory = CountingCursor

        engine.dispose()  # every connection from now on is made with the counting cursor
        event.listen(engine, "connect", use_counting_cursor)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)

    def _begin(self, *_args: Any) -> None:
        self.begins += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements = self.begins = self.commits = self.pipelined = 0
        self._pipelines.clear()

    @property
    def round_trips(self) -> int:
        unpipelined = self.statements - self.pipelined
        return unpipelined + len(self._pipelines) + self.begins + self.commits


def measure(
    send: Callable[[], int], counter: Counter, count: int, profile: str | None = None
) -> dict[str, float]:
    for _ in range(20):  # warm: imports, connections, caches
        assert send() == 201
    counter.reset()
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(count):
        status = send()
        assert status == 201, status
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu = time.process_time() - started
    return {
        "statements": counter.statements / count,
        "round_trips": counter.round_trips / count,
        "cpu_ms": cpu * 1000 / count,
    }


def main() -> None:
    from share import DEFAULT_POSTGRES, hub_env, prepare

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--profile", help="write a cProfile of the hub's referrals here")
    args = parser.parse_args()
    with throwaway_database(args.postgres, "hub_bench") as url, tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        env = hub_env(url, tmp, "http://127.0.0.1:8400")
        prepare(url, env, tmp)
        os.environ.update(env)
        results = {"bare": _bare(url, args.count), "hub": _hub(args.count, args.profile)}
    print(json.dumps(results))
    print(f"{'per referral':18}{'hub':>10}{'bare':>10}")
    for key, label in (("statements", "statements"), ("round_trips", "round trips"),
                       ("cpu_ms", "CPU ms")):  # fmt: skip
        print(f"{label:18}{results['hub'][key]:>10.2f}{results['bare'][key]:>10.2f}")


def _bare(url: str, count: int) -> dict[str, float]:
    from bare_app import create_app

    app = create_app(url)
    client = app.test_client()
    engine = next(c for c in app.view_functions["create_referral"].__closure__ or ()
                  if hasattr(c.cell_contents, "kw")).cell_contents.kw["bind"]  # fmt: skip
    counter = Counter(engine)
    body = json.dumps(_referral()).encode()
    headers = {"Content-Type": "application/json"}

    def send() -> int:
        return client.post("/referrals", data=body, headers=headers).status_code

    return measure(send, counter, count)


def _hub(count: int, profile: str | None) -> dict[str, float]:
    from hub import create_app
    from hub.client_assertion import make_assertion

    app = create_app()
    client = app.test_client()
    counter = Counter(app.extensions["hub.engine"])
    issuer = os.environ["HUB_ISSUER"]
    jwk = json.loads((BENCH.parent / "keys" / "demo" / "kent-csc.jwk").read_text())
    form = {
        "grant_type": "client_credentials",
        "scope": "referrals:write",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": make_assertion("kent-csc", jwk, f"{issuer}/oauth/token"),
    }
    token = client.post("/oauth/token", data=form).get_json()["access_token"]
    body = json.dumps(_referral()).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def send() -> int:
        return client.post("/api/v1/referrals", data=body, headers=headers).status_code

    return measure(send, counter, count, profile)


def _referral() -> dict[str, Any]:
    from share import REFERRAL

    return REFERRAL


if __name__ == "__main__":
    main()

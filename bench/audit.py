"""DPO audit benchmark: subject access and a filtered disclosure search over 1,000,000 events.

Not a test. On a throw-away PostgreSQL database migrated to head:

1. seeds N ledger events (default 1,000,000) in bulk, inside the database
   (``INSERT ... SELECT`` over ``generate_series``: entries with their real leaf hashes, and
   their audit projection rows, recipients and subject commitments), never through the API;
   one person, the benchmark's subject, gets real HMAC commitments on ~20 entries;
2. times, through the real service functions (``hub.audit.subject_access.subject_report``
   and ``hub.audit.search.search``), the subject access lookup and a filtered disclosure
   search, each as the hub DPO and as an agency DPO;
3. prints the same statements run raw on the driver cursor and the database's own
   ``EXPLAIN ANALYZE`` execution time and top plan node, beside the service figures.

Targets (docs/architecture.md): SAR < 100 ms, filtered search < 200 ms.

    python bench/audit.py [--postgres URL] [--events 1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from hub import db, schema  # noqa: E402
from hub.audit import search, subject_access  # noqa: E402
from hub.audit.scope import Viewer  # noqa: E402
from hub.sharing.subjects import subject_commitments  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = b"bench-subject-secret-" + b"z" * 32
SUBJECT = {"given_name": "Jayden", "family_name": "Reid", "date_of_birth": "2010-03-09",
           "pnc_id": "12/345678Z"}  # fmt: skip
PEOPLE = 50_000  # so each person appears on ~N/50,000 entries (about 20 at 1,000,000)
PARTNERS = [
    "kent-police", "kent-csc", "kent-syv-provider", "medway-csc", "met-police",
    "safer-sutton", "sutton-csc", "sutton-yot", "sutton-outreach", "probation-london",
    "tri-borough-rr", "hmp-wandsworth", "leics-police", "victim-first", "leics-sdvs",
    "leics-target-hardening", "west-mids-police", "dudley-school", "step-together",
    "hub-coordinator",
]  # fmt: skip
PURPOSES = ["syv_intervention", "missing_child_alert", "community_marac_referral",
            "victims_code_referral", "safeguarding_concern", "resettlement",
            "integrated_offender_management", "operation_encompass"]  # fmt: skip
HUB_DPO = Viewer("hub-coordinator", frozenset({"hub_dpo"}), "u-00000000000000aa")
AGENCY_DPO = Viewer("kent-csc", frozenset({"dpo"}), "u-00000000000000bb")
# The subject's seeded entries all run kent-police -> medway-csc, so this DPO sees them all.
SUBJECT_AGENCY_DPO = Viewer("kent-police", frozenset({"dpo"}), "u-00000000000000cc")


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def seed(engine: Engine, events: int) -> float:
    """Bulk-load ``events`` entries and their projection; returns seconds taken."""
    partners, purposes = _array(PARTNERS), _array(PURPOSES)
    np, nu = len(PARTNERS), len(PURPOSES)
    # n -> (type, actor, recipient, person); 70% disclosures, 10% refusals, 18% views, 2% other
    base = f"""
        SELECT n,
          CASE WHEN n % 100 < 70 THEN 'disclosure' WHEN n % 100 < 80 THEN 'refusal'
               WHEN n % 100 < 98 THEN 'consultation' ELSE 'correction' END AS type,
          TIMESTAMPTZ '2026-12-01 00:00:00+00' - (({events} - n) * INTERVAL '31 seconds') AS t,
          ({partners})[1 + n % {np}] AS actor,
          ({partners})[1 + (n * 7 + 3) % {np}] AS recipient,
          ({purposes})[1 + n % {nu}] AS purpose,
          (n * 7919) % {PEOPLE} AS person
        FROM generate_series(0::bigint, {events - 1}) AS n
    """
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text(f"CREATE TEMP TABLE seed ON COMMIT DROP AS {base}"))
        conn.execute(
            text("""
            INSERT INTO ledger_entries (idx, entry, leaf_hash, created_at)
            SELECT n, body, sha256('\\x00'::bytea || body), t FROM (
              SELECT n, t, convert_to(jsonb_build_object(
                'type', type, 'time', to_char(t AT TIME ZONE 'UTC',
                                               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'actor', jsonb_build_object('partner', actor,
                                            'user', 'u-' || lpad(to_hex(n % 997), 16, '0')),
                'recipients', jsonb_build_array(recipient),
                'agreement', jsonb_build_object('id', 'isa-' || actor, 'version', '1',
                             'digest', 'sha256:' || repeat('ab', 32)),
                'purpose', purpose, 'basis', jsonb_build_array('CDA_S115', 'GDPR_6_1_E'),
                'fields_released', jsonb_build_array('given_name', 'family_name', 'date_of_birth')
              )::text, 'UTF8') AS body FROM seed) AS b
            """)
        )
        conn.execute(
            text("""
            INSERT INTO audit_events (idx, type, time, actor_partner, actor_user, agreement_id,
                                      agreement_version, purpose, basis, kind, result, reasons)
            SELECT n, type, t, actor, 'u-' || lpad(to_hex(n % 997), 16, '0'), 'isa-' || actor,
                   '1', purpose, ' CDA_S115 GDPR_6_1_E ', 'referral',
                   CASE type WHEN 'disclosure' THEN CASE WHEN n % 3 = 0 THEN 'partial'
                        ELSE 'shared' END WHEN 'refusal' THEN 'refused' END,
                   CASE type WHEN 'refusal' THEN ' no_agreement ' END
            FROM seed
            """)
        )
        conn.execute(
            text("INSERT INTO audit_recipients (partner, idx) SELECT recipient, n FROM seed "
                 "WHERE recipient <> actor")  # fmt: skip
        )
        conn.execute(
            text("""
            INSERT INTO audit_subjects (commitment, idx)
            SELECT encode(sha256(convert_to(k || person::text, 'UTF8')), 'hex'), n
            FROM seed, (VALUES ('pnc:'), ('name:')) AS kinds(k)
            """)
        )
        # The benchmark's subject: person 0's entries carry its real HMAC commitments.
        for commitment in subject_commitments(SECRET, SUBJECT):
            conn.execute(
                text("INSERT INTO audit_subjects (commitment, idx) "
                     "SELECT :c, n FROM seed WHERE person = 0"),  # fmt: skip
                {"c": commitment},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("ledger_entries", "audit_events", "audit_recipients", "audit_subjects"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


class Capture:
    """Record the SQL statements (and parameters) a service call sends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Capture:
        event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hook)

    def _hook(self, conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        self.statements.append((statement, parameters))


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median and max of ``repeat`` warm runs, in milliseconds, and the last result."""
    result = call()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), result


def raw_and_explain(engine: Engine, statements: list[tuple[str, Any]], repeat: int) -> str:
    """The captured statements run raw on the driver, and EXPLAIN ANALYZE of the main one."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None

        def run_all() -> None:
            with raw.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        median, _, _ = timed(run_all, repeat)
        main_sql, main_params = statements[0]  # the projection query; then recipients, bodies
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main_sql, main_params)
            plan = [row[0] for row in cursor.fetchall()]
        raw.rollback()
    execution = next((line for line in plan if line.startswith("Execution Time")), "?")
    top = plan[0].split("  (")[0].strip()
    return f"raw SQL {median:7.2f} ms | EXPLAIN ANALYZE {execution.split(': ')[-1]:>10} | {top}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with schema.throwaway_database(args.postgres, "hub_bench_audit") as url:
        engine = db.make_engine(url)
        schema.upgrade_to_head(engine)
        seconds = seed(engine, args.events)
        print(f"seeded {args.events:,} ledger events and their projection in {seconds:.1f} s")
        sessions = db.make_sessionmaker(engine)
        commitments = subject_access.commitments_for(SECRET, SUBJECT)
        since = dt.date(2026, 11, 1)
        cases: list[tuple[str, Viewer, Callable[[Any], Any], float]] = [
            ("SAR lookup (hub DPO)", HUB_DPO,
             lambda s: subject_access.subject_report(s, HUB_DPO, commitments), 100),
            ("SAR lookup (agency DPO, kent-police)", SUBJECT_AGENCY_DPO,
             lambda s: subject_access.subject_report(s, SUBJECT_AGENCY_DPO, commitments), 100),
            ("SAR lookup (agency DPO, kent-csc: none in scope)", AGENCY_DPO,
             lambda s: subject_access.subject_report(s, AGENCY_DPO, commitments), 100),
            ("search: disclosures from kent-police since 1 Nov (hub DPO)", HUB_DPO,
             lambda s: search.search(s, HUB_DPO, search.Filters(
                 type="disclosure", from_partner="kent-police", date_from=since)), 200),
            ("search: refusals to kent-csc, basis CDA_S115 (agency DPO)", AGENCY_DPO,
             lambda s: search.search(s, AGENCY_DPO, search.Filters(
                 type="refusal", to_partner="kent-csc", basis="CDA_S115")), 200),
            ("search: agency DPO's first page, no filter", AGENCY_DPO,
             lambda s: search.search(s, AGENCY_DPO, search.Filters()), 200),
        ]  # fmt: skip
        print(f"{'query':<72} {'service':>18}  target   | same statements")
        for name, _viewer, call, target in cases:
            with sessions() as session:
                with Capture(engine) as capture:
                    call(session)
                statements = capture.statements
                median, worst, result = timed(lambda: call(session), args.repeat)  # noqa: B023
                session.rollback()
            size = result.total if hasattr(result, "total") else len(result.rows)
            verdict = "ok" if median < target else "MISSED"
            print(
                f"{name:<72} {median:7.2f} ms (max {worst:6.1f}) < {target:.0f} {verdict:<6}| "
                f"{raw_and_explain(engine, statements, args.repeat)}  [{size} rows]"
            )
        engine.dispose()


if __name__ == "__main__":
    main()

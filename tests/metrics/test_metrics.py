"""``GET /metrics``: per-route request counts, database gauges, and who may scrape."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub import create_app
from hub.db import utcnow
from hub.delivery.models import OutboxMessage
from hub.ledger import checkpoint, sequencer, store
from hub.ledger.checkpoint import ensure_signing_key
from hub.ledger.events import disclosure_event, payload_digest, subject_commitment
from hub.ledger.models import LedgerUnsequenced
from hub.metrics import record_sequencer_batch
from hub.metrics.instruments import LATENCY_BUCKETS, record_request
from hub.sharing.crypto import MasterKey
from tests.delivery.conftest import add_inbox_item, add_partner

TOKEN = "metrics-test-token-" + "m" * 32


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition as ``{(name, sorted labels): value}``."""
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(body: str, name: str, **labels: str) -> float:
    return samples(body)[name, tuple(sorted(labels.items()))]


def test_requests_are_counted_by_route_name_not_by_path(client):
    before = samples(client.get("/metrics").get_data(as_text=True))
    assert client.get("/api/v1/log/entries/7").status_code in (401, 404)
    assert client.get("/no/such/path/with-a-secret-ish-value").status_code == 404
    assert client.get("/healthz").status_code == 200
    body = client.get("/metrics").get_data(as_text=True)
    assert "secret-ish" not in body and "/entries/7" not in body
    key = ("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")
    old = before.get(("hub_http_requests_total", key), 0.0)
    assert samples(body)["hub_http_requests_total", key] == old + 1
    unmatched = [k for k in samples(body) if ("endpoint", "unmatched") in k[1]]
    assert unmatched, "a path no route matches is counted under one label"
    count = value(body, "hub_http_request_duration_seconds_count",
                  endpoint="health.healthz", method="GET")  # fmt: skip
    assert count >= 1


def test_request_latency_buckets_are_at_most_10_ms_wide_up_to_the_50_ms_target(client):
    """A p99 estimated from the buckets (bench/scrape.py) is interpolated within one bucket:
    25-50 ms as one bucket could not tell 26 ms from 49 ms."""
    bounds = [b for b in LATENCY_BUCKETS if b <= 0.05]
    assert bounds[-1] == 0.05
    assert all(high - low <= 0.01 + 1e-9 for low, high in zip(bounds, bounds[1:], strict=False))
    before = samples(client.get("/metrics").get_data(as_text=True))
    record_request("bench.probe", "POST", 201, 0.018)
    body = client.get("/metrics").get_data(as_text=True)

    def grew(le: str) -> float:
        key = ("endpoint", "bench.probe"), ("le", le), ("method", "POST")
        name = "hub_http_request_duration_seconds_bucket"
        return samples(body)[name, key] - before.get((name, key), 0.0)

    assert (grew("0.015"), grew("0.02"), grew("0.025")) == (0, 1, 1)


def test_sequencer_batches_are_a_histogram(client):
    before = samples(client.get("/metrics").get_data(as_text=True))
    record_sequencer_batch(37, 0.004)
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_sequencer_batch_size_count") == (
        before[("hub_sequencer_batch_size_count", ())] + 1
    )
    assert value(body, "hub_sequencer_batch_size_sum") == (
        before[("hub_sequencer_batch_size_sum", ())] + 37
    )
    assert value(body, "hub_sequencer_batch_duration_seconds_count") == (
        before[("hub_sequencer_batch_duration_seconds_count", ())] + 1
    )


def _event(i: int) -> dict[str, object]:
    return disclosure_event(
        {"partner": "p-a", "client": "c-a", "user": "u-1"},
        recipients=["p-b"],
        agreement={"id": "ISA-1", "version": "1", "digest": "sha256:" + "ab" * 32},
        basis=["CDA_S115"],
        purpose="reducing_reoffending",
        justification="REF-1",
        subjects=[subject_commitment("t", "pnc", f"99/{i}A")],
        fields_released=["pnc_id"],
        fields_withheld=[],
        payload_digest=payload_digest(str(i).encode()),
        ref=f"ref-{i}",
    )


def test_gauges_are_read_from_the_database_at_scrape_time(client, app, settings):
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_metrics_database_up") == 1
    assert value(body, "hub_ledger_entries") == 0
    assert value(body, "hub_ledger_unsequenced_entries") == 0
    assert value(body, "hub_sequencer_lag_seconds") == 0
    assert value(body, "hub_checkpoint_age_seconds") == 0
    maker = app.extensions["hub.sessionmaker"]
    key = ensure_signing_key(settings.signing_key_file)
    master = MasterKey(b"\x07" * 32)
    with maker() as session:
        store.append_entries(session, [_event(i) for i in range(5)])
        checkpoint.sign_checkpoint(session, key, settings.log_origin)
        store.append_entries(session, [_event(9)])
        sender, recipient = add_partner(session, "test-sender"), add_partner(session, "test-b")
        assert sender.id
        for state in ("pending", "pending", "dead", "delivered"):
            item = add_inbox_item(session, master, recipient)
            session.add(OutboxMessage(partner_id=recipient.id, inbox_item_id=item.id, state=state))
        session.commit()
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_ledger_entries") == 6
    assert value(body, "hub_checkpoint_tree_size") == 5
    assert value(body, "hub_checkpoint_unsigned_entries") == 1
    assert value(body, "hub_outbox_depth") == 2
    assert value(body, "hub_outbox_dead_letters") == 1
    assert value(body, "hub_outbox_messages", state="delivered") == 1


def test_unsequenced_entries_and_lag_come_from_the_sequencers_table(client, app, clean_db):
    old = utcnow() - dt.timedelta(minutes=5)
    with Session(clean_db) as session:  # a plain session: its commit does not wait for them
        first, _ = store.append_entries(session, [_event(1), _event(2)], deferred=True)
        session.execute(
            update(LedgerUnsequenced)
            .where(LedgerUnsequenced.id == first.pending_id)
            .values(created_at=old)
        )
        session.commit()
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_ledger_unsequenced_entries") == 2
    assert value(body, "hub_sequencer_lag_seconds") >= 300  # the oldest row's age, not a timing
    assert value(body, "hub_ledger_entries") == 0
    with Session(clean_db) as session:
        assert sequencer.sweep(session) == 2
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_ledger_unsequenced_entries") == 0
    assert value(body, "hub_sequencer_lag_seconds") == 0
    assert value(body, "hub_ledger_entries") == 2


def test_a_configured_token_is_required_even_in_development(settings):
    ensure_signing_key(settings.signing_key_file)
    app = create_app(dataclasses.replace(settings, metrics_token=TOKEN))
    try:
        client = app.test_client()
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": f"Bearer {TOKEN}x"}):  # fmt: skip
            answer = client.get("/metrics", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.content_type == "application/problem+json"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert "hub_ledger_entries" not in answer.get_data(as_text=True)
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        assert "hub_ledger_entries" in answer.get_data(as_text=True)
    finally:
        app.extensions["hub.engine"].dispose()


def test_production_refuses_a_short_metrics_token():
    from hub.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="HUB_METRICS_TOKEN"):
        Settings(production=True, metrics_token="short").validate()


def test_an_unreachable_database_still_answers_with_database_up_zero(client, app):
    app.extensions["hub.sessionmaker"].kw["bind"] = _broken_engine()
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "hub_metrics_database_up") == 0
    assert "hub_ledger_entries" not in body


def _broken_engine():
    from sqlalchemy import create_engine

    return create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                         connect_args={"connect_timeout": 2})  # fmt: skip

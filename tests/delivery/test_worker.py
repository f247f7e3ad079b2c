"""The worker against a real local HTTP receiver: signed pushes, retries, dead letters."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from sqlalchemy import select

from hub.delivery.models import OutboxMessage
from hub.delivery.outbox import DeliveryPolicy
from hub.delivery.signing import WebhookSignatureError, verify_webhook
from hub.delivery.worker import USER_AGENT
from hub.partners.models import Partner
from tests.delivery.conftest import RECIPIENT, Receiver


def _rows(sessions) -> dict[int, OutboxMessage]:
    with sessions() as session:
        return {m.id: m for m in session.scalars(select(OutboxMessage))}


def test_push_reaches_the_receiver_and_verifies_with_the_published_jwks(
    client, queue, make_worker, receiver: Receiver, sessions
):
    (message_id,) = queue(1)
    outcomes = make_worker().deliver_due()
    assert outcomes[message_id].ok
    (push,) = receiver.received
    jwks = client.get("/.well-known/jwks.json").get_json()
    verify_webhook(push.body, push.headers["Hub-Signature"], jwks)
    body = json.loads(push.body)
    assert body["type"] == "inbox_item" and body["delivery_id"] == str(message_id)
    assert body["item"]["kind"] == "referral"
    assert push.headers["Hub-Delivery-Id"] == str(message_id)
    assert push.headers["Content-Type"] == "application/json"
    assert push.headers["User-Agent"] == USER_AGENT
    assert push.headers["Hub-Attempt"] == "1"
    # Verified again with a second, independent JOSE library.
    token = jwcrypto_jws.JWS()
    token.deserialize(push.headers["Hub-Signature"])
    token.verify(jwcrypto_jwk.JWK(**jwks["keys"][0]), detached_payload=push.body)
    assert token.jose_header["iat"] == int(push.headers["Hub-Timestamp"])
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 1, 204, None)
    assert row.delivered_at is not None


def test_a_tampered_body_fails_verification(client, queue, make_worker, receiver: Receiver):
    queue(1)
    make_worker().deliver_due()
    (push,) = receiver.received
    jwks = client.get("/.well-known/jwks.json").get_json()
    tampered = push.body.replace(b'"referral"', b'"alert"')
    assert tampered != push.body
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(tampered, push.headers["Hub-Signature"], jwks)
    assert caught.value.code == "bad_signature"


def test_receiver_down_is_retried_after_backoff_then_delivered(
    queue, make_worker, receiver: Receiver, clock, sessions
):
    receiver.stop()  # the port is now closed
    (message_id,) = queue(1)
    worker = make_worker()
    assert worker.deliver_due()[message_id].error == "connection_refused"
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "connection_refused")
    backoff = (row.next_attempt_at - clock()).total_seconds()
    assert backoff == pytest.approx(0.1)  # base 0.05 * 2**1, jitter pinned at its ceiling
    assert worker.deliver_due() == {}  # not due yet: nothing is sent
    receiver.start()  # back up, same port
    clock.advance(backoff)
    assert worker.deliver_due()[message_id].ok
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["Hub-Attempt"] == "2"
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts, row.last_status) == ("delivered", 2, 204)


def test_503_is_retried_and_no_response_body_is_kept(
    queue, make_worker, receiver: Receiver, clock, sessions, capsys
):
    receiver.status = 503
    (message_id,) = queue(1)
    worker = make_worker()
    assert worker.deliver_due()[message_id].status == 503
    row = _rows(sessions)[message_id]
    assert (row.state, row.last_status, row.last_error) == ("pending", 503, "http_503")
    receiver.status = 200
    clock.advance(1)
    assert worker.deliver_due()[message_id].ok
    logged = capsys.readouterr()
    assert "Canary" not in logged.out + logged.err  # the payload never reaches a log line


def test_dead_after_n_attempts_listed_redriven_and_delivered(
    queue, make_worker, receiver: Receiver, clock, sessions, cli
):
    receiver.status = 500
    (message_id,) = queue(1)
    worker = make_worker()
    for _ in range(3):  # webhook_max_attempts = 3
        assert worker.deliver_due()[message_id].status == 500
        clock.advance(1)
    assert worker.deliver_due() == {}
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts, row.last_error) == ("dead", 3, "http_500")

    listed = cli("outbox", "list", "--state", "dead")
    assert listed.exit_code == 0, listed.output
    header, line, total = listed.stdout.splitlines()
    assert header.split() == [
        "id",
        "state",
        "partner",
        "item",
        "attempts",
        "last_error",
        "next_attempt_at",
    ]
    assert line.split() == [
        str(message_id),
        "dead",
        RECIPIENT,
        row.inbox_item_id,
        "3",
        "http_500",
        "-",
    ]
    assert total == "1 message(s)"
    assert "0 message(s)" in cli("outbox", "list", "--state", "pending").output

    redriven = cli("outbox", "redrive", str(message_id))
    assert redriven.exit_code == 0 and f"redriven: {message_id}" in redriven.output
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts) == ("pending", 0)
    receiver.status = 202
    assert worker.deliver_due()[message_id].ok
    assert _rows(sessions)[message_id].state == "delivered"
    assert len(receiver.received) == 4


def test_redrive_all_dead_and_argument_errors(queue, make_worker, receiver, sessions, cli):
    receiver.status = 410
    ids = queue(2)
    worker = make_worker(policy=DeliveryPolicy(max_attempts=1))
    worker.deliver_due()
    assert {m.state for m in _rows(sessions).values()} == {"dead"}
    assert cli("outbox", "redrive").exit_code != 0
    assert cli("outbox", "redrive", "1", "--all-dead").exit_code != 0
    result = cli("outbox", "redrive", "--all-dead")
    assert result.exit_code == 0 and "2 message(s) back to pending" in result.output
    assert {m.id for m in _rows(sessions).values() if m.state == "pending"} == set(ids)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "unsupported_url"),
        ("ftp://127.0.0.1/x", "unsupported_url"),
        ("http:///nohost", "unsupported_url"),
    ],
)
def test_only_http_urls_are_used(queue, make_worker, receiver, sessions, url, reason):
    (message_id,) = queue(1, url=url)
    assert make_worker().deliver_due()[message_id].error == reason
    row = _rows(sessions)[message_id]
    assert (row.state, row.attempts, row.last_error) == ("dead", 1, reason)
    assert receiver.received == []


def test_production_refuses_plain_http(queue, make_worker, receiver, sessions):
    (message_id,) = queue(1)
    worker = make_worker()
    worker.policy = dataclasses.replace(worker.policy, https_only=True)
    assert worker.deliver_due()[message_id].error == "insecure_url"
    assert receiver.received == []


def test_redirects_are_not_followed(queue, make_worker, receiver, sessions):
    receiver.status = 302
    (message_id,) = queue(1)
    assert make_worker().deliver_due()[message_id].error == "http_302"
    assert len(receiver.received) == 1


def test_a_removed_webhook_or_failed_render_is_recorded_without_detail(
    queue, make_worker, receiver, sessions
):
    first, second = queue(2)

    def broken(*_args):
        raise ValueError("Canary-Alex could not be decrypted")

    assert make_worker(render=broken).deliver(first).error == "render_failed:ValueError"
    with sessions() as session:
        session.get_one(Partner, RECIPIENT).webhook_url = None
        session.commit()
    assert make_worker().deliver(second).error == "no_webhook_url"
    rows = _rows(sessions)
    assert (rows[first].state, rows[first].last_error) == ("pending", "render_failed:ValueError")
    assert (rows[second].state, rows[second].last_error) == ("dead", "no_webhook_url")


def test_a_slow_receiver_times_out(queue, make_worker, sessions):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        (message_id,) = queue(1, url=f"http://127.0.0.1:{listener.getsockname()[1]}/")
        worker = make_worker()
        worker.policy = dataclasses.replace(worker.policy, timeout=0.2)
        assert worker.deliver_due()[message_id].error == "timeout"
    finally:
        listener.close()


def test_concurrent_workers_deliver_each_message_exactly_once(
    queue, make_worker, receiver: Receiver, sessions
):
    """Two workers racing over one outbox (SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
    ids = queue(24)
    workers = [make_worker(), make_worker()]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def drain(worker) -> None:
        try:
            start.wait()
            while worker.deliver_due(limit=3):
                pass
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    delivered = sorted(int(push.headers["Hub-Delivery-Id"]) for push in receiver.received)
    assert delivered == sorted(ids)
    assert {row.state for row in _rows(sessions).values()} == {"delivered"}

"""Tokens, sends, retries and the inbox, through a real hub (and a proxy that misbehaves)."""

from __future__ import annotations

import uuid

import pytest

from hub_client import HubClient, HubError, TokenError
from hub_client.auth import TokenSource
from hub_client_testing import Hub, Proxy, referral
from tests.conftest import demo_private_jwk

pytestmark = pytest.mark.slow


def test_a_token_is_fetched_once_and_reused_until_near_expiry(hub: Hub, proxy: Proxy):
    now = [1_000_000.0]
    client = hub.client("kent-csc", proxy.url, clock=lambda: now[0])
    for _ in range(3):
        assert client.checkpoint_note().startswith("127.0.0.1")
    assert client.tokens.requests_made == 1
    assert [s.path for s in proxy.seen].count("/oauth/token") == 1
    now[0] += 500
    client.checkpoint_note()
    assert client.tokens.requests_made == 1
    now[0] += 71  # the hub's tokens live 600 s; the client renews 30 s before expiry
    client.checkpoint_note()
    assert client.tokens.requests_made == 2
    client.checkpoint_note()
    assert client.tokens.requests_made == 2
    # another scope set is another token
    list(client.inbox())
    assert client.tokens.requests_made == 3


def test_a_401_renews_the_token_once(hub: Hub, proxy: Proxy):
    client = hub.client("kent-csc", proxy.url)
    client.checkpoint_note()
    proxy.fault("GET", "/api/v1/log/checkpoint", "status 401")
    assert client.checkpoint_note()
    assert client.tokens.requests_made == 2
    # a second 401 in a row is the hub's answer, not a stale token
    proxy.fault("GET", "/api/v1/log/checkpoint", "status 401")
    proxy.fault("GET", "/api/v1/log/checkpoint", "status 401")
    with pytest.raises(HubError) as refused:
        client.checkpoint_note()
    assert refused.value.status == 401


def test_the_hub_refuses_a_token_for_the_wrong_audience_or_key(hub: Hub):
    wrong_audience = TokenSource("http://127.0.0.1:1", "kent-csc", demo_private_jwk("kent-csc"),
                                 token_url=f"{hub.base_url}/oauth/token")
    with pytest.raises(TokenError) as refused:
        wrong_audience.token("log:read")
    assert refused.value.error == "invalid_client"
    someone_elses_key = TokenSource(hub.issuer, "kent-csc", demo_private_jwk("kent-police"))
    with pytest.raises(TokenError) as refused:
        someone_elses_key.token("log:read")
    assert refused.value.error == "invalid_client"


def test_a_503_is_retried_after_its_retry_after_with_the_same_idempotency_key(hub: Hub, proxy: Proxy):
    waits: list[float] = []
    client = hub.client("kent-csc", proxy.url, sleep=waits.append)
    proxy.fault("POST", "/api/v1/referrals", "refuse", **{"Retry-After": "2"})
    sent = client.send_referral(referral(f"Retry{uuid.uuid4().hex[:8]}"))
    assert sent["status"] == "sent" and sent["withheld"][0]["field"] == "mental_health"
    posts = [s for s in proxy.seen if s.path == "/api/v1/referrals"]
    assert [p.status for p in posts] == [503, 201]
    assert posts[0].idempotency_key == posts[1].idempotency_key
    assert posts[0].idempotency_key and posts[0].idempotency_key.startswith("hubclient-")
    assert waits == [2.0]


def test_a_lost_answer_is_retried_and_the_hub_replays_it_without_a_second_referral(hub: Hub, proxy: Proxy):
    waits: list[float] = []
    client = hub.client("kent-csc", proxy.url, sleep=waits.append)
    proxy.fault("POST", "/api/v1/referrals", "lose", **{"Retry-After": "1"})
    name = f"Lost{uuid.uuid4().hex[:8]}"
    sent = client.send_referral(referral(name), idempotency_key=f"tour-{name}")
    posts = [s for s in proxy.seen if s.path == "/api/v1/referrals"]
    assert [p.status for p in posts] == [503, 201]  # the hub answered 201 twice...
    assert waits == [1.0]
    provider = hub.client("kent-syv-provider")
    received = [i for i in provider.inbox() if i["disclosure"].get("data", {}).get("given_name") == name]
    assert len(received) == 1  # ...but made one referral
    assert received[0]["disclosure"]["id"] == sent["id"]
    # the same key with another body is a conflict, not a second referral
    with pytest.raises(HubError) as conflict:
        client.send_referral(referral(name + "x"), idempotency_key=f"tour-{name}")
    assert conflict.value.status == 409


def test_retries_are_bounded_and_waits_capped(hub: Hub, proxy: Proxy):
    waits: list[float] = []
    client = hub.client("kent-csc", proxy.url, sleep=waits.append, max_retries=2, max_wait=5)
    for _ in range(3):
        proxy.fault("POST", "/api/v1/referrals", "refuse", **{"Retry-After": "3600"})
    with pytest.raises(HubError) as unavailable:
        client.send_referral(referral())
    assert unavailable.value.status == 503
    assert waits == [5.0, 5.0]
    assert len([s for s in proxy.seen if s.path == "/api/v1/referrals"]) == 3


def test_a_refusal_is_raised_with_its_reasons(hub: Hub):
    police = hub.client("kent-police")
    with pytest.raises(HubError) as refused:
        police.send_referral(referral())
    assert refused.value.status == 403
    assert {r["reason"] for r in refused.value.problem["reasons"]} == {"no_agreement"}


def test_batch_sends_one_result_per_item_and_is_not_retried_blindly(hub: Hub, proxy: Proxy):
    waits: list[float] = []
    client = hub.client("kent-csc", proxy.url, sleep=waits.append)
    tag = uuid.uuid4().hex[:8]
    results = client.send_batch([referral(f"Batch{tag}A"), {"to": "kent-syv-provider"},
                                 referral(f"Batch{tag}B")])
    assert [r["status"] for r in results] == [201, 422, 201]
    # the hub does not deduplicate batches: an answer lost after it acted is not resent
    proxy.fault("POST", "/api/v1/referrals:batch", "lose", **{"Retry-After": "1"})
    with pytest.raises(HubError) as lost:
        client.send_batch([referral(f"Batch{tag}C")])
    assert lost.value.status == 503 and waits == []
    assert len([s for s in proxy.seen if s.path == "/api/v1/referrals:batch"]) == 2
    provider = hub.client("kent-syv-provider")
    names = [i["disclosure"]["data"]["given_name"] for i in provider.inbox()
             if (i["disclosure"].get("data") or {}).get("given_name", "").startswith(f"Batch{tag}")]
    assert sorted(names) == [f"Batch{tag}A", f"Batch{tag}B", f"Batch{tag}C"]  # C once


def test_the_inbox_iterator_follows_cursors_across_pages(hub: Hub, proxy: Proxy):
    sender = hub.client("kent-csc")
    tag = uuid.uuid4().hex[:8]
    ids = [sender.send_referral(referral(f"Inbox{tag}{n}"))["id"] for n in range(5)]
    provider = hub.client("kent-syv-provider", proxy.url)
    items = list(provider.inbox(page_size=2))
    mine = [i["disclosure"]["id"] for i in items if i["disclosure"]["id"] in ids]
    assert mine == ids  # every one, oldest first, once each
    cursors = [int(i["cursor"]) for i in items]
    assert cursors == sorted(set(cursors))
    assert len([s for s in proxy.seen if s.path == "/api/v1/inbox"]) >= 3
    # resuming from an item's cursor yields only what came after it
    later = [i["disclosure"]["id"] for i in provider.inbox(items[-3]["cursor"])]
    assert later == [i["disclosure"]["id"] for i in items[-2:]]


def test_the_client_never_imports_the_hub():
    import subprocess
    import sys

    code = ("import sys, hub_client, hub_client.monitor, hub_client.webhooks, hub_client.tiles; "
            "print(any(m == 'hub' or m.startswith('hub.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_partner_key_the_hub_cannot_use_is_refused_before_any_request():
    with pytest.raises(ValueError):
        HubClient("http://127.0.0.1:1", "x", {"kty": "RSA", "kid": "k", "d": "x"})

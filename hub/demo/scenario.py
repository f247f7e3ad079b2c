"""Run the scripted demo against a running hub and collect what each party saw.

For each message: the sender's answer (released and withheld fields, the ledger receipt,
or the refusal's reasons) and the recipient's inbox item (what actually arrived). At the
end an operator signs a checkpoint (``hub log checkpoint``) and every receipt is fetched
again and verified offline against it, as a partner would with ``hub/ledger/verify.py``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from hub.demo.client import PartnerClient, Reply
from hub.demo.script import Message, messages
from hub.ledger.verify import VerificationError, verify_receipt


@dataclasses.dataclass
class Delivery:
    """One recipient's share of a message: the decision, what arrived, the receipt."""

    to: str
    status: int  # 201 released, 403 refused, 0 not available
    disclosure_id: str | None = None
    released: list[str] = dataclasses.field(default_factory=list)
    withheld: list[dict[str, str]] = dataclasses.field(default_factory=list)
    reasons: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    received: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None
    verified_at_size: int | None = None
    refusal_index: int | None = None  # a refusal is a ledger entry too


@dataclasses.dataclass
class StepResult:
    """One scripted message and every delivery it produced."""

    number: int
    message: Message
    deliveries: list[Delivery]
    note: str = ""

    @property
    def sent_fields(self) -> list[str]:
        return sorted(self.message.body.get("data", {}))


@dataclasses.dataclass
class ScenarioResult:
    """The whole run: the steps, and the checkpoint the receipts were verified against."""

    steps: list[StepResult]
    checkpoint: str | None = None
    verifier_key: str | None = None


class Scenario:
    """Drives the script through a :class:`PartnerClient`; remembers each inbox cursor."""

    def __init__(self, client: PartnerClient, run_id: str | None = None) -> None:
        self.client = client
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._cursors: dict[str, str] = {}
        self._seen: dict[str, dict[str, dict[str, Any]]] = {}

    # -- one message -----------------------------------------------------------------------
    def run_step(self, number: int, message: Message) -> StepResult:
        """Send one scripted message and read each recipient's inbox for what arrived."""
        if message.kind == "alert":
            return self._alert(number, message)
        key = f"demo-{self.run_id}-{number}"
        body, headers = self._body(message), {"Idempotency-Key": key}
        reply = self.client.call(message.sender, "POST", "/api/v1/referrals", body, headers)
        delivery = self._delivery_from(str(message.to), reply)
        if delivery.disclosure_id is not None:
            delivery.received = self.received(delivery.to, delivery.disclosure_id)
        return StepResult(number, message, [delivery])

    def _body(self, message: Message) -> dict[str, Any]:
        """The body to send: on a consent flow, record the consent first and cite it."""
        if message.consent_record is None:
            return message.body
        scope = {"purposes": [message.body["purpose"]], "recipients": [message.to]}
        reply = self.client.call(
            message.sender, "POST", "/api/v1/consents", {**scope, **message.consent_record}
        )
        if reply.status != 201:
            return message.body  # the referral is then refused and the report shows why
        consent = {**message.body.get("consent", {}), "record": reply.body["id"]}
        return {**message.body, "consent": consent}

    def _alert(self, number: int, message: Message) -> StepResult:
        reply = self.client.call(message.sender, "POST", "/api/v1/alerts", message.body)
        if reply.status in {404, 405}:
            note = "alerts not available on this hub yet (POST /api/v1/alerts answered "
            return StepResult(number, message, [], note=f"{note}{reply.status})")
        if reply.status != 201:
            return StepResult(number, message, [self._delivery_from("(all)", reply)])
        body = reply.body
        deliveries = []
        for recipient in body.get("recipients", []):
            delivery = self._delivery_from_item(recipient)
            if delivery.disclosure_id is not None:
                delivery.received = self.received(delivery.to, delivery.disclosure_id)
            deliveries.append(delivery)
        repeat = " (repeat within 12 months)" if body.get("repeat") else ""
        note = f"alert id {body.get('id')}{repeat}; one decision per recipient"
        return StepResult(number, message, deliveries, note=note)

    @staticmethod
    def _delivery_from(to: str, reply: Reply) -> Delivery:
        body: dict[str, Any] = (
            reply.body if isinstance(reply.body, dict) else {"detail": str(reply.body)}
        )
        if reply.status == 201:
            return Delivery(
                to=body.get("to", to),
                status=201,
                disclosure_id=body["id"],
                released=list(body.get("released", [])),
                withheld=list(body.get("withheld", [])),
                receipt=body.get("receipt"),
            )
        reasons = body.get("reasons") or [
            {"reason": body.get("title"), "detail": body.get("detail")}
        ]
        return Delivery(
            to=to, status=reply.status, reasons=reasons, refusal_index=body.get("ledger_index")
        )

    @staticmethod
    def _delivery_from_item(item: dict[str, Any]) -> Delivery:
        """One entry of an alert's ``recipients``: ``{to, status, id?, released?, ...}``."""
        released = "id" in item and "problem" not in item
        problem = item.get("problem") or {}
        return Delivery(
            to=str(item.get("to")),
            status=201 if released else int(problem.get("status", 403)),
            disclosure_id=item.get("id") if released else None,
            released=list(item.get("released", [])),
            withheld=list(item.get("withheld", [])),
            reasons=list(problem.get("reasons", [])),
            receipt=item.get("receipt"),
            refusal_index=problem.get("ledger_index"),
        )

    # -- the recipient's side --------------------------------------------------------------
    def received(self, partner_id: str, disclosure_id: str) -> dict[str, Any] | None:
        """The data the recipient found in its inbox for ``disclosure_id``.

        Reads forward from the last cursor this run saw, page by page (each read is a
        consultation entry on the ledger, DPA 2018 s62).
        """
        seen = self._seen.setdefault(partner_id, {})
        while disclosure_id not in seen:
            cursor = self._cursors.get(partner_id, "0")
            reply = self.client.call(partner_id, "GET", f"/api/v1/inbox?cursor={cursor}&limit=100")
            if reply.status != 200:
                return None
            for item in reply.body["items"]:
                seen[item["disclosure"]["id"]] = item["disclosure"].get("data") or {}
            self._cursors[partner_id] = reply.body["next_cursor"]
            if not reply.body["has_more"]:
                break
        return seen.get(disclosure_id)

    # -- receipts ----------------------------------------------------------------------------
    def verify_receipts(self, result: ScenarioResult) -> None:
        """Fetch each receipt again (as its sender) and verify it offline once covered."""
        any_sender = result.steps[0].message.sender if result.steps else "leics-police"
        key_reply = self.client.call(any_sender, "GET", "/api/v1/log/key")
        result.verifier_key = str(key_reply.body).strip() if key_reply.status == 200 else None
        for step in result.steps:
            for delivery in step.deliveries:
                if delivery.disclosure_id is None:
                    continue
                view = self.client.call(
                    step.message.sender, "GET", f"/api/v1/referrals/{delivery.disclosure_id}"
                )
                if view.status == 200 and view.body.get("receipt"):
                    delivery.receipt = view.body["receipt"]
                self._verify(delivery, result)

    @staticmethod
    def _verify(delivery: Delivery, result: ScenarioResult) -> None:
        receipt = delivery.receipt or {}
        if "checkpoint" not in receipt or result.verifier_key is None:
            return
        try:
            # the sender's members, their salts and the opaque digests, then the proof
            checkpoint = verify_receipt(receipt, result.verifier_key)
        except (VerificationError, KeyError):
            return
        delivery.verified_at_size = checkpoint.size
        result.checkpoint = receipt["checkpoint"]


def run_scenario(
    client: PartnerClient,
    echo: Callable[[StepResult], None] | None = None,
    sign_checkpoint: Callable[[], str] | None = None,
) -> ScenarioResult:
    """Send every scripted message; sign a checkpoint; verify every receipt against it.

    ``echo`` is called after each step (the CLI prints it at once); ``sign_checkpoint`` is
    the operator's ``hub log checkpoint`` (without it, receipts stay uncovered until the
    hub's own checkpoint policy signs one).
    """
    scenario = Scenario(client)
    result = ScenarioResult(steps=[])
    for number, message in enumerate(messages(), start=1):
        step = scenario.run_step(number, message)
        result.steps.append(step)
        if echo is not None:
            echo(step)
    if sign_checkpoint is not None:
        sign_checkpoint()
    scenario.verify_receipts(result)
    return result

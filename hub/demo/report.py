"""The demo report: readable lines for a person watching ``hub demo --scenario``.

Values printed here are the demo's invented data, shown on purpose so the reader can see
exactly what crossed from one agency to another and what the hub held back.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path
from typing import Any

from hub.demo.scenario import Delivery, ScenarioResult, StepResult

WIDTH = 96


def partner_names(policies_dir: Path) -> dict[str, str]:
    """Partner id → display name, from ``policies/partners/*.toml``."""
    names: dict[str, str] = {}
    for path in sorted((policies_dir / "partners").glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        names[str(data.get("id", path.stem))] = str(data.get("name", path.stem))
    return names


class Report:
    """Formats steps and receipts; knows partner names so lines read as people say them."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}

    def who(self, partner_id: str) -> str:
        name = self.names.get(partner_id)
        return f"{name} ({partner_id})" if name else partner_id

    # -- steps -----------------------------------------------------------------------------
    def step(self, step: StepResult) -> list[str]:
        """Everything about one message: decision, what arrived, the receipt."""
        message = step.message
        to = self.who(message.to) if message.to else "every agency an agreement allows"
        purpose = message.body.get("purpose", "")
        lines = [
            "",
            f"{step.number}. {message.title}".ljust(WIDTH, "-"),
            f"   {self.who(message.sender)} -> {to}",
            f"   purpose: {purpose}    ({message.kind})",
        ]
        if message.story:
            lines += _wrap(message.story, "   ")
        lines += _wrap(", ".join(step.sent_fields), "   fields sent: ")
        if step.note:
            lines.append(f"   note: {step.note}")
        for delivery in step.deliveries:
            lines += self.delivery(delivery)
        return lines

    def delivery(self, delivery: Delivery) -> list[str]:
        """One recipient: released / withheld with reasons / refusal, inbox, receipt."""
        head = f"   => {self.who(delivery.to)}: "
        if delivery.status != 201:
            lines = [f"{head}REFUSED ({delivery.status}); nothing was shared"]
            for reason in delivery.reasons:
                lines += _wrap(f"{reason.get('reason')}: {reason.get('detail')}", "        - ")
            if delivery.refusal_index is not None:
                lines.append(f"      recorded as a refusal: ledger leaf {delivery.refusal_index}")
            return lines
        lines = [f"{head}shared (disclosure {delivery.disclosure_id})"]
        lines += _wrap(", ".join(delivery.released) or "(none)", "      released: ")
        if delivery.withheld:
            lines.append("      withheld:")
            lines += [f"        - {w['field']}: {w['reason']}" for w in delivery.withheld]
        else:
            lines.append("      withheld: (none)")
        lines += self.received(delivery)
        lines += self.receipt(delivery.receipt)
        return lines

    @staticmethod
    def received(delivery: Delivery) -> list[str]:
        if delivery.received is None:
            return ["      inbox: (item not found)"]
        lines = ["      received in its inbox:"]
        for field, value in sorted(delivery.received.items()):
            lines += _wrap(_show(value), f"        {field} = ", indent=10)
        return lines

    @staticmethod
    def receipt(receipt: dict[str, Any] | None) -> list[str]:
        if not receipt:
            return ["      receipt: (none)"]
        line = f"      receipt: ledger leaf {receipt['index']}, leaf hash {receipt['leaf_hash']}"
        if "checkpoint" in receipt:
            size = receipt["checkpoint"].splitlines()[1]
            return [line, f"               covered by checkpoint of tree size {size}"]
        return [line, "               not yet covered by a checkpoint (see the end)"]

    # -- the end ---------------------------------------------------------------------------
    def receipts(self, result: ScenarioResult) -> list[str]:
        """Every receipt again, after the operator's checkpoint, with the offline check."""
        lines = ["", "Ledger receipts".ljust(WIDTH, "-")]
        if result.checkpoint:
            lines.append("   checkpoint (C2SP signed note), verified with the log key:")
            lines += [f"     | {line}" for line in result.checkpoint.rstrip("\n").splitlines()]
        if result.verifier_key:
            lines.append(f"   log key: {result.verifier_key}")
        lines.append(f"   {'step':>4}  {'recipient':<26}  {'leaf':>5}  {'leaf hash':<44}  check")
        for step in result.steps:
            for d in step.deliveries:
                if d.receipt is None or d.disclosure_id is None:
                    continue
                check = (
                    f"inclusion proof OK (tree {d.verified_at_size})"
                    if d.verified_at_size
                    else "not verified (no checkpoint)"
                )
                lines.append(
                    f"   {step.number:>4}  {d.to:<26}  {d.receipt['index']:>5}  "
                    f"{d.receipt['leaf_hash']:<44}  {check}"
                )
        return lines

    def summary(self, result: ScenarioResult) -> list[str]:
        deliveries = [d for s in result.steps for d in s.deliveries]
        shared = sum(1 for d in deliveries if d.status == 201)
        withheld = sum(len(d.withheld) for d in deliveries)
        refused = sum(1 for d in deliveries if d.status != 201)
        plural = "" if refused == 1 else "s"
        notes = [f"   step {s.number}: {s.note}" for s in result.steps if not s.deliveries]
        return [
            "",
            f"Summary: {shared} shares, {withheld} fields withheld, {refused} refusal{plural}; "
            "every decision is on the ledger (`hub log verify`).",
            *notes,
        ]


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _wrap(text: str, prefix: str, indent: int | None = None) -> list[str]:
    """Wrap ``text`` under ``prefix``, continuation lines aligned with the text."""
    hang = " " * (indent if indent is not None else len(prefix))
    return textwrap.wrap(
        text, WIDTH, initial_indent=prefix, subsequent_indent=hang, break_on_hyphens=False
    ) or [prefix.rstrip()]

"""Re-sign the demo agreements with the DEMO-ONLY keys: ``python -m hub.policy.demo_signing``.

Run from the project root after editing any file in ``policies/agreements/``. Real partners
never do this: each signs with its own key through ``hub agreements sign``.
"""

from __future__ import annotations

from pathlib import Path

from hub.policy.registry import resign_all

if __name__ == "__main__":
    root = Path.cwd()
    count = resign_all(root / "policies" / "agreements", root / "keys" / "demo")
    print(f"{count} signatures written")

"""The README and docs/ stand alone: every relative link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT

DOCUMENTS = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Written on a parallel branch; drop from this set once it is merged.
PENDING = {PROJECT / "docs" / "ledger.md"}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_document_points_outside_the_repository(document: Path):
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert not re.search(r"\b(DESIGN|DOMAIN)\.md\b", text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path):
    text = document.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (document.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(PROJECT), f"{document.name}: {target} leaves the repository"
        assert path.exists() or path in PENDING, f"{document.name}: {target} does not exist"


def test_the_three_docs_exist():
    for name in ("architecture.md", "law.md", "api.md"):
        assert (PROJECT / "docs" / name).stat().st_size > 2000

"""``policies/maracs/*.toml``: checked against the agreements before ``hub sync`` loads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.marac.definitions import MaracFileError, read_marac_dir
from hub.policy import load_policy
from tests.conftest import PROJECT


def _read(root: Path):
    policy = load_policy(root)
    return read_marac_dir(root / "policies", policy.agreements, policy.partners)


def test_the_demo_maracs_load_and_the_yot_is_marked_perpetrator_facing():
    found = {d.id: d for d in _read(PROJECT)}
    assert set(found) == {"leics-marac", "sutton-community-marac"}
    members = {m["partner"]: m for m in found["sutton-community-marac"].members}
    assert members["sutton-yot"]["perpetrator_facing"] is True
    assert members["sutton-csc"] == {
        "partner": "sutton-csc", "kind": "children_only", "perpetrator_facing": False
    }
    assert found["leics-marac"].coordinator == "leics-police"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('coordinator = "leics-police"', 'coordinator = "kent-police"', "coordinator"),
        ('partner = "leics-sdvs"', 'partner = "kent-csc"', "party to none"),
        ('kind = "core"', 'kind = "sometimes"', "unknown partner or kind"),
        ('circulation = "marac_research"', 'circulation = "marac_referral"', "circulation"),
        ('agreements = ["leics-marac"]', 'agreements = ["no-such-agreement"]', "agreements"),
        ('case_prefix = "LEI"', 'case_prefix = "lei-1"', "case_prefix"),
    ],
)
def test_a_definition_that_does_not_match_its_agreement_is_refused(project, old, new, message):
    path = project / "policies" / "maracs" / "leics-marac.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(MaracFileError, match=message):
        _read(project)


def test_a_perpetrator_facing_coordinator_is_refused(project):
    path = project / "policies" / "maracs" / "sutton-community-marac.toml"
    path.write_text(path.read_text().replace('coordinator = "safer-sutton"',
                                             'coordinator = "sutton-yot"'))
    with pytest.raises(MaracFileError, match="perpetrator-facing"):
        _read(project)

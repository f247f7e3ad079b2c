"""Hypothesis properties of the policy engine."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.policy import PolicyFileError, RequestValidationError, agreement_status, decide
from tests.policy.conftest import (
    CATALOGUES,
    NOW,
    PARTNERS,
    SECRET,
    document,
    flow,
    register,
    sign_all,
)

FIELD_NAMES = sorted(CATALOGUES.fields)
BASES = sorted(CATALOGUES.bases)
SIGNED = document()
SIGS = sign_all(SIGNED)
REG = register(SIGNED, SIGS)


def value_for(name):
    spec = CATALOGUES.fields[name]
    if spec.type == "integer":
        return st.integers(0, 1000)
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    if spec.type == "date":
        return st.dates().map(lambda d: d.isoformat())
    if spec.type == "datetime":
        return st.just("2026-01-01T10:00:00+00:00")
    return st.text(min_size=1, max_size=spec.max_length or 50)


data_strategy = st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=12).flatmap(
    lambda names: st.fixed_dictionaries({n: value_for(n) for n in names})
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=data_strategy,
    allowed=st.lists(st.sampled_from(FIELD_NAMES), unique=True, min_size=1, max_size=15),
    basis=st.lists(st.sampled_from(BASES), unique=True, min_size=1, max_size=6),
    fact_only=st.booleans(),
    justification=st.sampled_from([None, "safety plan"]),
)
def test_only_allow_listed_and_justified_fields_leave(
    data, allowed, basis, fact_only, justification
):
    """Whatever the agreement (even unvalidated) and input: nothing outside the allow-list is
    released, and no special-category field leaves without its regime's condition: an Art 9
    condition under UK GDPR (Art 9(2), DPA 2018 Sch 1), a Schedule 8 condition under DPA 2018
    Part 3 (s35(5); consent is not 'required' here, so s35(4) cannot carry it)."""
    f = flow(
        basis=basis,
        fields={n: "release" for n in allowed},
        fact_only=fact_only,
        safety_justification="x",
        consent="not_required",
    )
    reg = register(document(f))
    reg = type(reg)(reg.agreement, reg.document, reg.digest, reg.signatures, ())  # skip validator
    req = {
        "from": "tri-borough-rr",
        "to": "met-police",
        "purpose": "enforcement",
        "data": data,
        "consent": {"state": "given"},
    }
    if justification:
        req["justification"] = justification
    decision = decide(req, [reg], CATALOGUES, PARTNERS, NOW, keyed_hash_secret=SECRET)
    kinds = {CATALOGUES.bases[c].kind for c in basis}
    for name in decision.released:
        assert name in allowed and name in data
        spec = CATALOGUES.fields[name]
        if spec.cls.startswith("SC_"):
            assert ("sch8" in kinds) if "part3" in kinds else ("art9" in kinds)
        if spec.opinion:
            assert not fact_only
    assert set(decision.released) | {w.field for w in decision.withheld} == set(data)


@settings(max_examples=100, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4))
def test_unknown_fields_never_pass(names):
    data = {n: "x" for n in names}
    if all(n in CATALOGUES.fields for n in names):
        return
    req = {"from": "tri-borough-rr", "to": "met-police", "purpose": "enforcement", "data": data}
    try:
        decide(req, [REG], CATALOGUES, PARTNERS, NOW)
    except RequestValidationError as err:
        assert {p.field for p in err.problems if p.code == "unknown_field"} == {
            n for n in names if n not in CATALOGUES.fields
        }
    else:
        raise AssertionError("unknown field accepted")


def _flip(doc, path_index, value):
    """Change one leaf of the document (as an edit of the TOML would)."""
    leaves = []

    def walk(node, trail):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, trail + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, trail + [i])
        else:
            leaves.append(trail)

    walk(doc, [])
    trail = leaves[path_index % len(leaves)]
    node = doc
    for key in trail[:-1]:
        node = node[key]
    old = node[trail[-1]]
    new = (
        value
        if type(value) is type(old) and value != old
        else (
            old + 1
            if type(old) is int
            else (
                not old
                if isinstance(old, bool)
                else old.replace(day=2 if old.day != 2 else 3)
                if hasattr(old, "day")
                else old + "x"
            )
        )
    )
    node[trail[-1]] = new


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, 10_000), value=st.text(max_size=5))
def test_any_change_to_a_signed_agreement_takes_it_out_of_force(index, value):
    doc = document()
    _flip(doc, index, value)
    try:
        reg = register(doc, SIGS)
    except PolicyFileError:
        return  # an edit that breaks the structure is refused at load: never in force
    assert not agreement_status(reg, NOW).in_force


@settings(max_examples=20, deadline=None)
@given(drop=st.integers(0, 1))
def test_removing_one_signature_makes_draft(drop):
    sigs = [s for i, s in enumerate(SIGS) if i != drop]
    assert agreement_status(register(SIGNED, sigs), NOW).status == "draft"

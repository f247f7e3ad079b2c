"""decide(): every refusal and withholding reason, the transforms, and 422 errors."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.policy import Reason, RequestValidationError, decide
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

DATA = {
    "given_name": "Jane Anne",
    "family_name": "Smith",
    "pnc_id": "12/345678A",
    "offence": "burglary",
    "substance_misuse": "heroin",
    "date_of_birth": "1990-02-03",
}


def request(**kw):
    base = {
        "from": "tri-borough-rr",
        "to": "met-police",
        "purpose": "enforcement",
        "data": dict(DATA),
        "consent": {"state": "not_sought", "reason": "prejudice"},
    }
    base.update(kw)
    return base


def run(req, *regs, now=NOW):
    regs = regs or (register(document()),)
    return decide(req, list(regs), CATALOGUES, PARTNERS, now, keyed_hash_secret=SECRET)


def test_share_with_transforms():
    d = run(request())
    assert d.allowed and d.outcome == "share"
    assert d.released == {
        "given_name": "Jane Anne",
        "family_name": "S.",
        "pnc_id": "12/345678A",
        "offence": "burglary",
        "substance_misuse": "heroin",
        "date_of_birth": "35-49",
    }
    assert d.agreement_id == "test-agreement" and len(d.agreement_digest) == 64
    assert d.basis == ("CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10")
    assert d.retention_days == 365 and d.consent_state == "not_sought"


def test_not_in_allow_list():
    d = run(request(data={**DATA, "religion": "x"}))
    assert d.outcome == "partial"
    assert [(w.field, w.reason) for w in d.withheld] == [("religion", Reason.NOT_IN_ALLOW_LIST)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"from": "victim-first"}, Reason.NO_AGREEMENT),
        ({"purpose": "gossip"}, Reason.WRONG_PURPOSE),
        ({"to": "nobody"}, Reason.UNKNOWN_PARTNER),
    ],
)
def test_refusals_without_flow(change, reason):
    d = run(request(**change))
    assert not d.allowed and d.refusals[0].reason == reason
    assert d.released == {} and {w.reason for w in d.withheld} == {reason}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "suspended"}, Reason.AGREEMENT_SUSPENDED),
        ({"status": "terminated"}, Reason.AGREEMENT_TERMINATED),
        ({"effective_from": dt.date(2027, 1, 1)}, Reason.AGREEMENT_NOT_YET_IN_FORCE),
        (
            {"effective_to": dt.date(2026, 6, 30), "review_by": dt.date(2026, 3, 1)},
            Reason.AGREEMENT_EXPIRED,
        ),
    ],
)
def test_refusals_by_status(change, reason):
    d = run(request(), register(document(**change)))
    assert not d.allowed and d.refusals[0].reason == reason


def test_unsigned_is_draft():
    doc = document()
    d = run(request(), register(doc, sign_all(doc)[:1]))
    assert d.refusals[0].reason == Reason.AGREEMENT_DRAFT


def test_invalid_agreement_refused():
    d = run(request(), register(document(flow(consent_exemption="para18_2_c"))))
    assert d.refusals[0].reason == Reason.AGREEMENT_INVALID


def test_superseded_version_refused_and_newer_used():
    old, new = register(document()), register(document(version=2))
    assert run(request(), old, new).agreement_version == 2
    newer_only = decide(request(), [old, new], CATALOGUES, PARTNERS, NOW)
    assert newer_only.allowed
    # a signed v2 that is then suspended does not bring v1 back to life
    d = run(request(), old, register(document(version=2, status="suspended")))
    assert {r.reason for r in d.refusals} == {
        Reason.AGREEMENT_SUPERSEDED,
        Reason.AGREEMENT_SUSPENDED,
    }
    # an unsigned v2 does not supersede v1
    v2 = document(version=2)
    assert run(request(), old, register(v2, sign_all(v2)[:1])).agreement_version == 1


def consent_doc(model):
    f = flow(consent=model)
    f.pop("consent_exemption")
    if model == "required":
        f["basis"] = ["CDA_S115", "GDPR_6_1_A", "GDPR_9_2_A", "SCH1_P29", "ART10"]
        f["fields"] = {"given_name": "release", "substance_misuse": "release", "offence": "release"}
    return register(document(f))


@pytest.mark.parametrize(
    ("model", "consent", "justification", "reason"),
    [
        ("required", {"state": "refused"}, None, Reason.CONSENT_REFUSED),
        (
            "required",
            {"state": "not_sought", "reason": "unsafe"},
            None,
            Reason.CONSENT_REQUIRED_BUT_ABSENT,
        ),
        ("preferred", {"state": "refused"}, None, Reason.CONSENT_REFUSED_WITHOUT_JUSTIFICATION),
        ("preferred", {"state": "not_sought"}, None, Reason.CONSENT_NOT_SOUGHT_WITHOUT_REASON),
        ("preferred", {"state": "refused"}, "risk of serious harm", None),
        ("required", {"state": "given"}, None, None),
    ],
)
def test_consent(model, consent, justification, reason):
    req = request(consent=consent, data={"given_name": "A"})
    if justification:
        req["justification"] = justification
    d = run(req, consent_doc(model))
    assert (d.refusals[0].reason if d.refusals else None) == reason
    assert d.allowed == (reason is None)


def test_opinion_on_fact_only_flow():
    d = run(
        request(data={"given_name": "A", "rag_status": "red"}),
        register(document(flow(fact_only=True))),
    )
    assert [(w.field, w.reason) for w in d.withheld] == [
        ("rag_status", Reason.OPINION_ON_FACT_ONLY_FLOW)
    ]


def unvalidated(f):
    """An agreement that skipped validation: decide() must still hold the line."""
    reg = register(document(f))
    return type(reg)(reg.agreement, reg.document, reg.digest, reg.signatures, ())


@pytest.mark.parametrize(
    ("basis", "field", "reason"),
    [
        (
            ["CDA_S115", "GDPR_6_1_EA", "ART10", "SCH1_P29"],
            "substance_misuse",
            Reason.SPECIAL_CATEGORY_WITHOUT_ART9,
        ),
        (["CDA_S115", "GDPR_6_1_EA", "SCH1_P10"], "offence", Reason.CRIMINAL_OFFENCE_WITHOUT_ART10),
        (["GDPR_6_1_E"], "given_name", Reason.CLASS_NOT_JUSTIFIED_BY_BASIS),
        (
            ["VPA24_ENCOMPASS", "GDPR_6_1_C", "SCH1_P18", "ART10"],
            "substance_misuse",
            Reason.CLASS_EXCLUDED_BY_BASIS,
        ),
        (
            # DPA 2018 s35(5): Part 3 sensitive processing needs a Sch 8 condition
            ["OMA07_S14", "DPA_PART3", "SCH1_P10"],
            "substance_misuse",
            Reason.SENSITIVE_PROCESSING_WITHOUT_SCH8,
        ),
    ],
)
def test_class_reasons_as_second_line_of_defence(basis, field, reason):
    d = run(
        request(data={field: DATA[field], "pnc_id": "1"}),
        unvalidated(flow(basis=basis, fields={field: "release", "pnc_id": "release"})),
    )
    assert (field, reason) in [(w.field, w.reason) for w in d.withheld]


def test_where_needs_request_justification():
    f = flow(
        fields={"refuge_flag": "release", "given_name": "release"},
        safety_justification="plan protection",
    )
    reg = register(document(f))
    d = run(request(data={"refuge_flag": True, "given_name": "A"}), reg)
    assert [(w.field, w.reason) for w in d.withheld] == [
        ("refuge_flag", Reason.WHERE_WITHOUT_JUSTIFICATION)
    ]
    d = run(request(data={"refuge_flag": True}, justification="MARAC safety plan"), reg)
    assert d.released == {"refuge_flag": True}


def test_where_never_to_perpetrator_facing():
    f = flow(
        "tri-borough-rr",
        "probation-london",
        fields={"refuge_flag": "release", "given_name": "release"},
        safety_justification="x",
        basis=["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"],
    )
    d = run(
        request(
            to="probation-london", data={"refuge_flag": True, "given_name": "A"}, justification="x"
        ),
        unvalidated(f),
    )
    assert ("refuge_flag", Reason.WHERE_TO_PERPETRATOR_FACING) in [
        (w.field, w.reason) for w in d.withheld
    ]


def test_transform_failed_and_unavailable():
    f = flow(
        fields={"postcode": "postcode_district", "pnc_id": "keyed_hash", "given_name": "release"}
    )
    reg = register(document(f))
    d = run(request(data={"postcode": "ZZ", "given_name": "A"}), reg)
    assert [(w.field, w.reason) for w in d.withheld] == [("postcode", Reason.TRANSFORM_FAILED)]
    d = decide(
        request(data={"pnc_id": "12/1", "given_name": "A"}), [reg], CATALOGUES, PARTNERS, NOW
    )
    assert [(w.field, w.reason) for w in d.withheld] == [("pnc_id", Reason.TRANSFORM_UNAVAILABLE)]
    d = run(request(data={"pnc_id": "12/1", "postcode": "sm1 1aa"}), reg)
    assert d.released["postcode"] == "SM1" and d.released["pnc_id"].startswith("hmac-sha256:")


def test_nothing_to_release_is_a_refusal():
    d = run(request(data={"religion": "x"}))
    assert not d.allowed and d.refusals[0].reason == Reason.NOTHING_TO_RELEASE
    assert d.withheld[0].reason == Reason.NOT_IN_ALLOW_LIST


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"shoe_size": 9}, "unknown_field"),
        ({"given_name": 7}, "wrong_type"),
        ({"date_of_birth": "03/02/1990"}, "wrong_type"),
        ({"missed_appointments": True}, "wrong_type"),
        ({"gender": "robot"}, "not_in_enum"),
        ({"pnc_id": "x" * 21}, "too_long"),
        ({"incident_datetime": "2026-01-01T10:00:00"}, "wrong_type"),
        ({"given_name": None}, "wrong_type"),
    ],
)
def test_bad_requests_raise_422(data, code):
    with pytest.raises(RequestValidationError) as err:
        run(request(data=data))
    assert [p.code for p in err.value.problems] == [code]
    assert "robot" not in str(err.value) and "03/02" not in str(err.value)


def test_reason_texts_hold_no_values():
    secret_value = "Zebedee-Quux"
    d = run(request(data={**DATA, "given_name": secret_value, "religion": secret_value}))
    text = repr(d.withheld) + repr(d.refusals)
    assert secret_value not in text


def test_as_dict_is_json_ready():
    import json

    out = run(request()).as_dict()
    assert json.loads(json.dumps(out))["agreement"]["id"] == "test-agreement"

"""DPO console pages through the Flask test client, signed in with password + TOTP."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from hub import db
from hub.ledger.projection import AuditEvent
from hub.people.models import Person
from tests.audit.conftest import SUBJECT, seeded  # noqa: F401
from tests.sharing.conftest import auth, consented, send  # noqa: F401
from tests.web.conftest import csrf_token

DPO_PAGES = ["/console/dpo/disclosures", "/console/dpo/subject-access", "/console/dpo/agreements",
             "/console/dpo/processing", "/console/dpo/ledger", "/console/dpo/charts",
             "/console/dpo/notices"]  # fmt: skip


def _consultations(app, email: str) -> list[AuditEvent]:
    with app.app_context():
        session = db.session()
        pseudonym = session.scalar(select(Person.pseudonym).where(Person.email == email))
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.type == "consultation", AuditEvent.actor_user == pseudonym)))  # fmt: skip


def test_search_lists_entries_each_linking_to_its_entry(app, seeded, signed_in_client):  # noqa: F811
    client = signed_in_client("hub_dpo")
    page = client.get("/console/dpo/disclosures?type=disclosure")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for index in seeded.disclosures + seeded.other_agency:
        assert f'href="/console/dpo/entries/{index}"' in html
    partial = client.get("/console/dpo/disclosures?type=refusal", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body
    assert f"/console/dpo/entries/{seeded.refusals[0]}" in body
    bad = client.get("/console/dpo/disclosures?type=bogus")
    assert bad.status_code == 422 and "must be one of" in bad.get_data(as_text=True)
    csv = client.get("/console/dpo/disclosures.csv?type=disclosure")
    assert csv.mimetype == "text/csv" and str(seeded.disclosures[0]) in csv.get_data(as_text=True)


def test_agency_dpo_pages_never_show_another_agency(app, seeded, signed_in_client):  # noqa: F811
    client = signed_in_client("dpo_csc")  # Kent CSC
    html = client.get("/console/dpo/disclosures").get_data(as_text=True)
    assert f"/console/dpo/entries/{seeded.disclosures[0]}\"" in html
    assert f"/console/dpo/entries/{seeded.other_agency[0]}\"" not in html
    assert client.get(f"/console/dpo/entries/{seeded.other_agency[0]}").status_code == 404
    assert client.get(f"/console/dpo/entries/{seeded.disclosures[0]}").status_code == 200


def test_marac_coordinator_cannot_open_dpo_pages(app, seeded, signed_in_client):  # noqa: F811
    client = signed_in_client("marac_coordinator")
    for path in DPO_PAGES + [f"/console/dpo/entries/{seeded.disclosures[0]}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        html = response.get_data(as_text=True)
        # nothing of the entry: no link to it, no heading naming it (bare digits can occur
        # by chance in the page's random CSRF token, so they are not what is checked)
        index = seeded.disclosures[0]
        assert f'href="/console/dpo/entries/{index}"' not in html, path
        assert f"Ledger entry {index}" not in html, path


def test_auditor_sees_metadata_but_no_subject_access(app, seeded, signed_in_client):  # noqa: F811
    client = signed_in_client("auditor")
    entry = client.get(f"/console/dpo/entries/{seeded.disclosures[0]}").get_data(as_text=True)
    assert "Leaf hash" in entry and "Entry body" not in entry and "given_name" not in entry
    assert client.get("/console/dpo/subject-access").status_code == 403


def test_every_view_writes_its_consultation_entry(app, seeded, signed_in_client, console_people):  # noqa: F811
    client = signed_in_client("hub_dpo")
    email = console_people["hub_dpo"].email
    for path in DPO_PAGES + [f"/console/dpo/entries/{seeded.disclosures[0]}"]:
        before = len(_consultations(app, email))
        assert client.get(path).status_code == 200, path
        after = _consultations(app, email)
        assert len(after) == before + 1, path
        assert after[-1].actor_partner == "safer-sutton" and after[-1].purpose
    entry_view = after[-1]
    assert entry_view.purpose == "dpo_entry_view" and entry_view.about_entry == seeded.disclosures[0]


def test_subject_access_report_and_its_pdf_hold_exactly_the_seeded_entries(
    app, seeded, signed_in_client, console_people  # noqa: F811
):
    from pypdf import PdfReader

    client = signed_in_client("hub_dpo")
    page = client.get("/console/dpo/subject-access")
    html = page.get_data(as_text=True)
    for label in ("Given name", "Family name", "Date of birth", "PNC id", "NHS number"):
        assert f">{label} <input" in html
    response = client.post("/console/dpo/subject-access", data={
        "csrf_token": csrf_token(html), "reference": "SAR 2026/1", "received_on": "2026-11-30",
        "identity_checked": "yes", **SUBJECT})  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    report = client.get(response.headers["Location"])
    text = report.get_data(as_text=True)
    assert "Download PDF" in text
    listed = [int(i) for i in re.findall(r'<td class="entry-index">(\d+)</td>', text)]
    assert listed == seeded.disclosures + seeded.refusals + seeded.views
    for unrelated in seeded.unrelated + seeded.other_agency:
        assert unrelated not in listed
    # the identifiers typed in are nowhere in the register or the ledger's consultation
    assert SUBJECT["given_name"] not in text
    pdf_link = re.search(r'href="([^"]+\.pdf)">Download PDF', text).group(1)
    pdf = client.get(pdf_link)
    assert pdf.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Subject access report" in pdf_text
    for index in listed:
        assert re.search(rf"(?<!\d){index}(?!\d)", pdf_text), index
    searches = [c for c in _consultations(app, console_people["hub_dpo"].email)
                if c.purpose == "subject_access"]  # fmt: skip
    assert searches


def test_bad_subject_access_input_is_refused_cleanly(app, signed_in_client, demo_partners):
    client = signed_in_client("dpo")
    html = client.get("/console/dpo/subject-access").get_data(as_text=True)
    response = client.post("/console/dpo/subject-access", data={
        "csrf_token": csrf_token(html), "date_of_birth": "1/4/2010"})  # fmt: skip
    assert response.status_code == 422 and "YYYY-MM-DD" in response.get_data(as_text=True)
    no_token = client.post("/console/dpo/subject-access", data={"pnc_id": "12/3456Z"})
    assert no_token.status_code == 400


@pytest.mark.parametrize("path", ["/console/dpo/agreements/map.svg",
                                  "/console/dpo/charts/weekly.svg",
                                  "/console/dpo/charts/reasons.svg"])  # fmt: skip
def test_pictures_are_svg_without_inline_styles(app, seeded, signed_in_client, path):  # noqa: F811
    response = signed_in_client("hub_dpo").get(path)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    body = response.get_data(as_text=True)
    assert body.startswith("<svg") and "style=" not in body and "<style" not in body


def test_register_processing_and_ledger_health(app, seeded, signed_in_client):  # noqa: F811
    client = signed_in_client("hub_dpo")
    register = client.get("/console/dpo/agreements").get_data(as_text=True)
    assert "kent-syv-intelligence" in register and 'src="/console/dpo/agreements/map.svg"' in register
    processing = client.get("/console/dpo/processing.csv").get_data(as_text=True)
    assert processing.startswith("agreement,version,purpose") and "syv_intervention" in processing
    pdf = client.get("/console/dpo/processing.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    ledger = client.get("/console/dpo/ledger").get_data(as_text=True)
    html = ledger
    verified = client.post("/console/dpo/ledger/verify", data={"csrf_token": csrf_token(html)})
    assert verified.status_code == 303
    after = client.get("/console/dpo/ledger").get_data(as_text=True)
    assert "console" in after and "entries and" in after
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_art19_page_follows_a_withdrawal_and_records_a_decision(
    app, seeded, client, auth, signed_in_client  # noqa: F811
):
    from tests.sharing.conftest import KENT_REFERRAL

    sent = client.post("/api/v1/referrals", json=KENT_REFERRAL, headers=auth("kent-csc"))
    withdrawn = client.post(f"/api/v1/referrals/{sent.get_json()['id']}/withdraw",
                            json={"reason": "sent_in_error"}, headers=auth("kent-csc"))  # fmt: skip
    index = withdrawn.get_json()["ledger_index"]
    dpo = signed_in_client("dpo_csc")
    listing = dpo.get("/console/dpo/notices").get_data(as_text=True)
    assert f'href="/console/dpo/notices/{index}"' in listing and "sent_in_error" in listing
    page = dpo.get(f"/console/dpo/notices/{index}").get_data(as_text=True)
    assert "kent-syv-provider" in page and "Record decision" in page
    short = dpo.post(f"/console/dpo/notices/{index}/decision", data={
        "csrf_token": csrf_token(page), "recipient": "kent-syv-provider", "reason": "too"})
    assert short.status_code == 422
    done = dpo.post(f"/console/dpo/notices/{index}/decision", data={
        "csrf_token": csrf_token(page), "recipient": "kent-syv-provider",
        "reason": "the provider closed in 2026 and has no successor"})  # fmt: skip
    assert done.status_code == 303
    after = dpo.get(f"/console/dpo/notices/{index}").get_data(as_text=True)
    assert "disproportionate" in after and "has no successor" in after
    assert signed_in_client("dpo").get(f"/console/dpo/notices/{index}").status_code == 404

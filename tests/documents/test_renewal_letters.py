"""Every 委嘱状 of a renewal (改選) as one PDF (documents/print_views.py renewal_letters): one page per
appointment of the new term, in the usual form, for the body's secretariat only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from committee import services
from committee.models import Guideline
from core.models import AuditAction, AuditEntry
from tests.conftest import appoint

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
NEW_START = dt.date(2024, 4, 1)


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def renewed(body, guideline):
    """Three members, two continue and one is new, from 2024-04-01 for two years to the end of the fiscal year."""
    members = [appoint(body, family, reading) for family, reading in (("相川", "あいかわ"), ("伊藤", "いとう"),
                                                                     ("上田", "うえだ"))]
    amended = services.guideline_amend(
        actor=None, guideline=guideline, effective_on=NEW_START, amendment_note="任期の改正",
        term_rule=Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END, term_years=2, term_fixed_end=None,
        appointing_authority="青森県知事 宮下宗一郎",
    )
    return services.body_renew(
        actor=None, body=body, term_start=NEW_START, guideline=amended, continuing=members[:2],
        new_members=[services.NewMember(family_name="髙橋", given_name="花子", family_name_kana="たかはし")],
        appointed_on=dt.date(2024, 3, 25),
    )


def letters_url(body, day=NEW_START) -> str:
    return reverse("print:renewal_letters", args=[body.slug]) + f"?term_start={day.isoformat()}"


def test_one_page_per_new_appointment_with_the_names(body, renewed, secretariat):
    response = client_for(secretariat).get(letters_url(body))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == len(renewed) == 3
    texts = [page.extract_text().replace(" ", "").replace("\n", "") for page in reader.pages]
    for name in ("相川", "伊藤", "髙橋花子"):
        assert sum(name in text for text in texts) == 1
    for text in texts:
        assert "委嘱状" in text and "策定委員会委員に委嘱します" in text
        assert "令和6年4月1日から令和8年3月31日まで" in text  # the term in 和暦
        assert "令和6年3月25日" in text and "青森県知事宮下宗一郎" in text


@pytest.mark.parametrize("who", ["outsider", "member", "other_secretariat"])
def test_nobody_else_gets_them(request, body, renewed, who):
    assert client_for(request.getfixturevalue(who)).get(letters_url(body)).status_code == 404


def test_a_day_no_term_starts_on_has_no_letters(body, renewed, secretariat):
    client = client_for(secretariat)
    assert client.get(letters_url(body, dt.date(2024, 4, 2))).status_code == 404
    assert client.get(reverse("print:renewal_letters", args=[body.slug]) + "?term_start=soon").status_code == 400


def test_the_letters_of_one_renewal_record(body, renewed, secretariat, other_body, superuser):
    entry = AuditEntry.objects.get(action=AuditAction.BODY_RENEWED)
    client = client_for(secretariat)
    url = reverse("print:renewal_letters", args=[body.slug])
    response = client.get(url + f"?renewal={entry.pk}")
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 3
    assert client.get(url + "?renewal=999999").status_code == 404
    assert client.get(url + "?renewal=first").status_code == 404
    # Another body's address does not reach this body's renewal, even for one who may see both.
    other = reverse("print:renewal_letters", args=[other_body.slug]) + f"?renewal={entry.pk}"
    assert client_for(superuser).get(other).status_code == 404

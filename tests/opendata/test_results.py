"""結果 of agenda items in the open data: OParl AgendaItem.result (the Japanese term: 承認, 了承, 継続審議 …)
and resolutionText (the secretariat's note), valid against the project's OParl schema; the meetings CSV's
審議結果; and `modified` / ETag moving when a result is recorded. The demo's results, walked from /oparl/:
tests/opendata/test_oparl_walk.py. What stays hidden: tests/opendata/test_leaks.py."""

from __future__ import annotations

import datetime as dt

import time_machine

from meetings import services
from meetings.models import AgendaItem
from tests.opendata.conftest import validate_oparl
from tests.opendata.test_leaks import published  # noqa: F401 - the fixture: a held meeting with results


def test_recording_a_result_moves_modified_and_the_etag(published, client):  # noqa: F811
    meeting_url = f"/oparl/meeting/{published.pk}/"
    item_url = f"/oparl/agendaItem/{published.pk}-1/"
    before = client.get(meeting_url)
    item_before = client.get(item_url).json()
    assert item_before["result"] == "了承"
    opening = AgendaItem.objects.get(agenda__meeting=published, title="開会")
    later = dt.datetime(2023, 7, 1, 9, 0, tzinfo=dt.UTC)  # after everything the fixture did
    with time_machine.travel(later, tick=False):
        services.agenda_results_record(
            actor=None, meeting=published, results={opening.pk: (AgendaItem.Result.APPROVED, "修正なし")}
        )
    after = client.get(meeting_url, HTTP_IF_NONE_MATCH=before["ETag"], HTTP_IF_MODIFIED_SINCE=before["Last-Modified"])
    assert after.status_code == 200, "a recorded result must not answer 304"
    assert after.json()["modified"] > before.json()["modified"]
    item_after = client.get(item_url).json()
    validate_oparl(item_after, "AgendaItem")
    assert (item_after["result"], item_after["resolutionText"]) == ("承認", "修正なし")
    assert item_after["modified"] > item_before["modified"]
    # the agendaItem list's modified_since filter finds it
    since = item_before["modified"]
    listed = client.get("/oparl/body/020001/agendaItem/", {"modified_since": since}).json()["data"]
    assert item_after["id"] in {i["id"] for i in listed}


def test_a_note_without_a_chosen_result_is_the_result(published, client):  # noqa: F811
    opening = AgendaItem.objects.get(agenda__meeting=published, title="開会")
    services.agenda_results_record(actor=None, meeting=published, results={opening.pk: ("", "報告を受けた")})
    item = client.get(f"/oparl/agendaItem/{published.pk}-1/").json()
    validate_oparl(item, "AgendaItem")
    assert item["result"] == "報告を受けた" and "resolutionText" not in item

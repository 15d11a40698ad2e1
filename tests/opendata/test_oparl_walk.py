"""A client walks the whole demo from /oparl/ by links alone, validates every object and list against the
project's schema (written from the OParl 1.1 specification), and finds the seed's committee, its 12 members
whose memberships end on 2024-03-31, and 第1回 on 2023-05-10 14:00 with its five top-level agenda items."""

from __future__ import annotations

import csv
import io
import re
from collections import deque

from django.conf import settings

from tests.opendata.conftest import validate_oparl

OPARL_PREFIX = settings.SITE_URL + "/oparl/"
DEMO_NOTE = "原案のとおり了承(デモ用の結果です。)"  # meetings.demo: the 結果 of the live past meeting


def _links(value, found: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _links(item, found)
    elif isinstance(value, list):
        for item in value:
            _links(item, found)
    elif isinstance(value, str) and value.startswith(OPARL_PREFIX):
        found.add(value)


def _embedded(value, out: list[dict]) -> None:
    if isinstance(value, dict):
        if "type" in value and str(value["type"]).startswith("https://schema.oparl.org/1.1/"):
            out.append(value)
        for item in value.values():
            _embedded(item, out)
    elif isinstance(value, list):
        for item in value:
            _embedded(item, out)


def walk(client) -> dict[str, dict]:
    """Every object reachable from the entry point, by id; lists are followed page by page."""
    seen: set[str] = set()
    objects: dict[str, dict] = {}
    queue = deque([OPARL_PREFIX])
    while queue:
        address = queue.popleft()
        if address in seen:
            continue
        seen.add(address)
        response = client.get(address[len(settings.SITE_URL):])
        assert response.status_code == 200, (address, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        data = response.json()
        if "data" in data and "pagination" in data:
            validate_oparl(data, "List")
            for item in data["data"]:
                validate_oparl(item)
        else:
            validate_oparl(data)
            assert data["id"] == address, "an object's id is the address it is served at"
        found: set[str] = set()
        _links(data, found)
        embedded: list[dict] = []
        _embedded(data, embedded)
        for obj in embedded:
            objects.setdefault(obj["id"], obj)
        queue.extend(sorted(found - seen))
    return objects


def test_walk_the_demo_from_the_entry_point(demo, client):
    objects = walk(client)
    by_type: dict[str, list[dict]] = {}
    for obj in objects.values():
        by_type.setdefault(obj["type"].rsplit("/", 1)[-1], []).append(obj)
    assert {"System", "Body", "Organization", "Person", "Membership", "Meeting", "AgendaItem", "Paper",
            "File", "Consultation"} <= set(by_type)  # the demo gives no venues: Location in test_leaks

    committee = next(o for o in by_type["Organization"] if o["name"] == "「(仮称)青森県DX推進プラン」策定委員会")
    memberships = [o for o in by_type["Membership"] if o.get("organization") == committee["id"]]
    # FY2023, the seed's term (the demo also puts the committee in office in the current 年度).
    members = [m for m in memberships if m.get("votingRight") and m["startDate"] < "2024-04-01"]
    assert len(members) == 12
    assert {m["endDate"] for m in members} == {"2024-03-31"}
    assert {m["id"] for m in members} <= set(committee["membership"])

    first = next(
        o for o in by_type["Meeting"] if committee["id"] in o.get("organization", []) and o["name"].startswith("第1回")
    )
    assert first["start"] == "2023-05-10T14:00:00+09:00"
    top_level = [i for i in first["agendaItem"] if re.fullmatch(r"\d+", i["number"])]
    assert len(top_level) == 5
    assert [i["order"] for i in first["agendaItem"]] == list(range(1, len(first["agendaItem"]) + 1))
    # the 出席者名簿: all 12 members attended, each a published Person
    assert len(first["participant"]) == 12 and set(first["participant"]) <= {p["id"] for p in by_type["Person"]}
    assert "invitation" in first  # the approved 次第 (PDF)
    # the demo's past meeting published its 議事要旨: a results protocol with its text
    protocols = [m["resultsProtocol"] for m in by_type["Meeting"] if "resultsProtocol" in m]
    assert protocols and all(p["accessUrl"].endswith("#minutes-heading") for p in protocols)
    # Each agenda item is also served on its own, with its meeting.
    alone = client.get(first["agendaItem"][0]["id"][len(settings.SITE_URL):]).json()
    assert alone["meeting"] == first["id"] and alone["name"] == first["agendaItem"][0]["name"]


def test_the_body_lists_every_kind_and_paginates(demo, client):
    body = client.get("/oparl/body/").json()["data"][0]
    response = client.get(body["membership"][len(settings.SITE_URL):], {"limit": 5})
    page = response.json()
    validate_oparl(page, "List")
    assert page["pagination"]["elementsPerPage"] == 5
    assert page["pagination"]["totalPages"] == -(-page["pagination"]["totalElements"] // 5)
    assert "next" in page["links"] and "prev" not in page["links"]
    second = client.get(page["links"]["next"][len(settings.SITE_URL):]).json()
    assert second["pagination"]["currentPage"] == 2
    assert not {o["id"] for o in page["data"]} & {o["id"] for o in second["data"]}


def test_the_demo_publishes_the_results_of_its_past_meeting(demo, client):
    items = [o for o in walk(client).values() if o["type"].endswith("/AgendaItem")]  # every object validated
    with_results = [i for i in items if "result" in i]
    assert {(i["result"], i.get("resolutionText")) for i in with_results} >= {("了承", DEMO_NOTE), ("意見交換", None)}
    for item in with_results:
        validate_oparl(item, "AgendaItem")
        alone = client.get(item["id"][len(settings.SITE_URL):]).json()  # the item on its own carries the same result
        assert alone["result"] == item["result"]
        assert alone["meeting"] and alone["modified"] >= alone["created"]
    # the meetings CSV (イベント一覧) sums them up in the committee's own column 審議結果
    rows = list(csv.DictReader(io.StringIO(client.get("/opendata/meetings.csv").content.decode("utf-8"))))
    summaries = [r["審議結果"] for r in rows if r["審議結果"]]
    assert summaries and all("了承" in s and "意見交換" in s for s in summaries)
    assert any(s.startswith("(1) ") and f": 了承（{DEMO_NOTE}）" in s for s in summaries)

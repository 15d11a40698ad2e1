"""Nothing the public site hides reaches the open data, object type by object type: closed (非公開) agenda
items and the 結果 recorded on them, members-only and secretariat-only materials, the files of withdrawn or
replaced versions, private contact data, the members-only online link, closed passages of minutes, the minutes
of a closed meeting, and everything of a body that is not public.

Each hidden thing carries a marker (LEAK…) in its text; the test walks OParl from its entry point, reads
every Popolo, CSV and Atom export, and finds none of them; then it checks each OParl type's own rule."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from committee.models import Person
from documents import services as documents
from documents.models import MaterialPage, MaterialVersion
from meetings import services as meetings
from meetings.models import AgendaItem, Minutes, MinutesEntry, Openness
from tests import factories
from tests.conftest import TOKYO, appoint
from tests.documents.conftest import pdf_bytes
from tests.opendata.test_oparl_walk import walk

MARKERS = {
    "closed agenda item": "LEAK-closed-item",
    "item under a closed item": "LEAK-under-closed",
    "result of a closed item": "LEAK-result-of-closed-item",
    "result under a closed item": "LEAK-result-under-closed",
    "secretariat-only material": "LEAK-secretariat-material",
    "members-only material": "LEAK-members-material",
    "text read from a members-only file": "LEAK-members-file-text",
    "closed material": "LEAK-closed-material",
    "withdrawn material": "LEAK-withdrawn-material",
    "replaced file": "LEAK-old-version",
    "material of a closed item": "LEAK-material-of-closed-item",
    "contact email": "leak-contact@private.example",
    "contact phone": "LEAK-0000-0000",
    "postal address": "LEAK-postal-address",
    "secretariat note": "LEAK-secretariat-note",
    "online link": "leak-online.example",
    "online details": "LEAK-online-note",
    "closed passage": "LEAK-closed-passage",
    "passage of a closed item": "LEAK-passage-of-closed-item",
    "minutes of a closed meeting": "LEAK-closed-meeting-minutes",
    "private body": "LEAK-private-body",
    "private body's member": "LEAK-private-member",
}


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


@pytest.fixture
def published(db, body, secretariat, chair, member_appointment, settings, tmp_path, in_term):
    """A public committee with a held meeting whose every hidden side carries a marker."""
    settings.MEDIA_ROOT = tmp_path / "media"
    Person.objects.filter(pk=member_appointment.person_id).update(
        email=MARKERS["contact email"], phone=MARKERS["contact phone"],
        postal_address=MARKERS["postal address"], note=MARKERS["secretariat note"], birth_year=1980,
    )
    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    meeting = meetings.meeting_create(
        actor=secretariat, body=body, start_at=start, end_at=start + dt.timedelta(hours=2), venue_name="青森県庁",
        venue_room="西棟8階", online_url=f"https://{MARKERS['online link']}/room",
        online_note=MARKERS["online details"],
    )
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    closed = meetings.agenda_item_add(
        actor=secretariat, meeting=meeting, title=MARKERS["closed agenda item"], is_public=False,
        closure_basis="委員の承諾 (第4-4)",
    )
    meetings.agenda_item_add(
        actor=secretariat, meeting=meeting, title=MARKERS["item under a closed item"], parent=closed
    )
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="閉会")
    version = meetings.agenda_submit(actor=secretariat, meeting=meeting)
    meetings.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    meetings.meeting_mark_notified(actor=secretariat, meeting=meeting)
    with time_machine.travel(start + dt.timedelta(hours=20), tick=False):  # the morning after
        meetings.meeting_mark_held(actor=secretariat, meeting=meeting)
    items = {item.title: item.pk for item in meeting.agenda.items.all()}
    Result = AgendaItem.Result  # noqa: N806
    meetings.agenda_results_record(actor=secretariat, meeting=meeting, results={
        items["開会"]: (Result.NOTED, "公開の結果メモ"),
        items[MARKERS["closed agenda item"]]: (Result.CONTINUED, MARKERS["result of a closed item"]),
        items[MARKERS["item under a closed item"]]: ("", MARKERS["result under a closed item"]),
    })

    def material(key: str, visibility: str, **kwargs):
        return documents.material_create(
            actor=secretariat, meeting=meeting, title=MARKERS.get(key, key), upload=_pdf(f"{key}.pdf"),
            visibility=visibility, **kwargs,
        )

    public = material("公開資料", "public")
    material("secretariat-only material", "secretariat")
    members_only = material("members-only material", "members")
    # the text read from the files (for the search; OParl File.text): the public file's is published
    for version, text in ((public.current_version, "公開資料の本文"),
                          (members_only.current_version, MARKERS["text read from a members-only file"])):
        MaterialPage.objects.create(version=version, number=1, text=text)
        MaterialVersion.objects.filter(pk=version.pk).update(text_status=MaterialVersion.TextStatus.DONE)
    material("closed material", "members", is_closed=True)
    material("material of a closed item", "members", agenda_item=closed)
    withdrawn = material("withdrawn material", "public")
    documents.material_withdraw(actor=secretariat, material=withdrawn, reason="誤り")
    replaced = documents.material_create(
        actor=secretariat, meeting=meeting, title="差替のある資料", upload=_pdf(f"{MARKERS['replaced file']}.pdf"),
        visibility="public",
    )
    documents.material_replace(actor=secretariat, material=replaced, upload=_pdf("差替後.pdf"), note="差替")

    minutes = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED, published_at=start)
    item = meeting.agenda.items.get(title=MARKERS["closed agenda item"])
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    MinutesEntry.objects.create(
        minutes=minutes, position=2, speaker="事務局", text=MARKERS["closed passage"], is_closed=True
    )
    MinutesEntry.objects.create(minutes=minutes, position=3, agenda_item=item, text=MARKERS["passage of a closed item"])

    closed_meeting = meetings.meeting_create(
        actor=secretariat, body=body, start_at=start + dt.timedelta(days=30), openness=Openness.CLOSED,
        openness_basis="委員の承諾 (第4-4)",
    )
    closed_minutes = Minutes.objects.create(
        meeting=closed_meeting, status=Minutes.Status.PUBLISHED, published_at=start
    )
    MinutesEntry.objects.create(minutes=closed_minutes, position=1, text=MARKERS["minutes of a closed meeting"])

    hidden = factories.BodyFactory(
        name=MARKERS["private body"], short_name="非公開の会議", slug="hidden", is_public=False
    )
    factories.GuidelineFactory(body=hidden)
    appoint(hidden, MARKERS["private body's member"], "ひみつ")
    meetings.meeting_create(actor=None, body=hidden, start_at=start, title=MARKERS["private body"])
    return meeting


def _exports(client) -> dict[str, str]:
    """Every public export as text, by address."""
    texts = {}
    objects = walk(client)
    import json

    texts["oparl"] = json.dumps(list(objects.values()), ensure_ascii=False)
    for path in ("/opendata/meetings.csv", "/opendata/bodies/dx-plan/meetings.csv",
                 "/opendata/bodies/dx-plan/roster.csv", "/opendata/bodies/dx-plan/popolo.json", "/opendata/feed.atom",
                 "/opendata/bodies/dx-plan/feed.atom", "/opendata/"):
        response = client.get(path)
        assert response.status_code == 200, path
        texts[path] = response.content.decode("utf-8-sig")
    for path in ("/opendata/bodies/hidden/popolo.json", "/opendata/bodies/hidden/roster.csv",
                 "/opendata/bodies/hidden/meetings.csv", "/opendata/bodies/hidden/feed.atom"):
        assert client.get(path).status_code == 404, path
    return texts


def test_no_hidden_thing_is_published(published, client):
    """Every hidden thing (MARKERS) looked for in every export, all read once: each leak is named with where."""
    texts = _exports(client)
    found = {what: [name for name, text in texts.items() if marker in text] for what, marker in MARKERS.items()}
    assert {what: where for what, where in found.items() if where} == {}


def test_each_oparl_type_keeps_its_rule(published, client):
    objects = walk(client)
    by_type: dict[str, list[dict]] = {}
    for obj in objects.values():
        by_type.setdefault(obj["type"].rsplit("/", 1)[-1], []).append(obj)
    # Person: a name and memberships, never contact data.
    for person in by_type["Person"]:
        assert not {"email", "phone", "location", "gender", "life"} & set(person), person
    # Organization: only public bodies (and affiliations named on public rosters).
    names = {o["name"] for o in by_type["Organization"]}
    assert "「(仮称)青森県DX推進プラン」策定委員会" in names and MARKERS["private body"] not in names
    # Meeting: the public one has its location, never the online link; the closed one no minutes.
    meeting = next(m for m in by_type["Meeting"] if m["id"].endswith(f"/meeting/{published.pk}/"))
    assert meeting["location"]["description"] == "青森県庁 西棟8階"
    assert "resultsProtocol" in meeting
    closed = next(m for m in by_type["Meeting"] if m is not meeting and "委員の承諾" not in m.get("name", "")
                  and not m["id"].endswith(f"/meeting/{published.pk}/"))
    assert "resultsProtocol" not in closed and "verbatimProtocol" not in closed
    # AgendaItem: the closed item and everything under it are left out; the others are public.
    assert [i["name"] for i in meeting["agendaItem"]] == ["開会", "閉会"]
    assert all(i["public"] for i in by_type["AgendaItem"])
    # its 結果: the public item's result and note; the closed items' results go with them (markers above)
    opening, closing = meeting["agendaItem"]
    assert (opening["result"], opening["resolutionText"]) == ("了承", "公開の結果メモ")
    assert "result" not in closing and "resolutionText" not in closing
    # Paper: public ones in full; the withdrawn one only as deleted.
    live = [p for p in by_type["Paper"] if not p.get("deleted")]
    gone = [p for p in by_type["Paper"] if p.get("deleted")]
    assert sorted(p["name"] for p in live) == ["公開資料", "差替のある資料"]
    assert len(gone) == 1 and set(gone[0]) == {"id", "type", "created", "modified", "deleted"}
    # Consultation: one per public paper (the withdrawn paper's as deleted), each naming the public meeting.
    live_consultations = [c for c in by_type["Consultation"] if not c.get("deleted")]
    assert {c["meeting"] for c in live_consultations} == {meeting["id"]}
    assert {c["paper"] for c in live_consultations if "paper" in c} <= {p["id"] for p in live}
    assert len(live_consultations) == len(live)
    # File: only the current files of public papers; the replaced and the withdrawn files as deleted.
    files = {f["id"]: f for f in by_type["File"] if f["id"].startswith(settings.SITE_URL + "/oparl/file/")}
    assert sorted(f["fileName"] for f in files.values() if not f.get("deleted")) == ["公開資料.pdf", "差替後.pdf"]
    assert sum(1 for f in files.values() if f.get("deleted")) == 2
    # A file served on its own carries the text read from it; embedded in its Paper it does not repeat it.
    public_file = next(f for f in files.values() if f.get("fileName") == "公開資料.pdf")
    assert client.get(public_file["id"][len(settings.SITE_URL):]).json()["text"] == "公開資料の本文"
    paper = next(p for p in live if p["name"] == "公開資料")
    assert "text" not in paper["mainFile"]
    # Location: the venue, never the online link.
    assert [loc["description"] for loc in by_type["Location"]] == ["青森県庁 西棟8階"]
    # the protocol's text: the published passages only.
    protocol = client.get(meeting["resultsProtocol"]["id"][len(settings.SITE_URL):]).json()
    assert protocol["text"] == "委員長: 開会します。"
    # Membership: only on public bodies.
    organizations = {o["id"] for o in by_type["Organization"]}
    assert all(m["organization"] in organizations for m in by_type["Membership"])


def test_a_detail_of_a_hidden_object_answers_404(published, client):
    from documents.models import Material

    hidden = Material.objects.get(title=MARKERS["members-only material"])
    for path in (f"/oparl/paper/{hidden.pk}/", f"/oparl/file/{hidden.current_version_id}/",
                 f"/oparl/consultation/{hidden.pk}/"):
        assert client.get(path).status_code == 404, path
    private_meeting = published.body.meetings.model.objects.get(body__slug="hidden")
    for kind in ("meeting", "location", "invitation", "protocol"):
        assert client.get(f"/oparl/{kind}/{private_meeting.pk}/").status_code == 404, kind
    assert client.get(f"/oparl/agendaItem/{published.pk}-3/").status_code == 404  # only two public items

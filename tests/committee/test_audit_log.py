"""The secretariat's audit log (/manage/audit/): scoped to the bodies its unit serves, filtered, exported
as CSV, cheap with many entries; and admin edits of bodies, guidelines, people, appointments and minutes
passages are recorded in it."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from committee import audit_views
from committee.models import Body, Guideline, Person
from core.admin_audit import change_message_text
from core.audit import AuditAction, audit_record
from core.models import AuditEntry
from meetings import services as meeting_services
from meetings.models import Minutes, MinutesEntry
from tests import factories
from tests.committee.test_admin import client_for, form_data
from tests.conftest import TOKYO

URL = "/manage/audit/"
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _meeting(body, actor):
    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    return meeting_services.meeting_create(actor=actor, body=body, start_at=start, end_at=start + dt.timedelta(hours=2),
                                           venue_name="青森県庁")


def test_the_url_is_the_named_one():
    assert reverse("committee:audit_log") == URL


def test_entries_are_recorded_with_the_body_and_meeting_of_their_target(secretariat, body, guideline, in_term):
    meeting = _meeting(body, secretariat)
    created = AuditEntry.objects.get(action=AuditAction.MEETING_CREATED)
    assert (created.body_id, created.meeting_id) == (body.pk, meeting.pk)
    on_guideline = audit_record(actor=secretariat, action=AuditAction.GUIDELINE_AMENDED, target=guideline)
    assert (on_guideline.body_id, on_guideline.meeting_id) == (body.pk, None)
    on_body = audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=body)
    assert on_body.body_id == body.pk


def test_the_secretariat_sees_its_bodies_entries_and_not_another_units(
    secretariat, body, other_body, member_appointment, in_term
):
    audit_record(actor=secretariat, action=AuditAction.GUIDELINE_AMENDED, target=body.guidelines.get())
    audit_record(actor=None, action=AuditAction.GUIDELINE_AMENDED, target=other_body.guidelines.get(),
                 data={"note": "他課の改正"})
    audit_record(actor=secretariat, action=AuditAction.CONTACT_UPDATED, target=member_appointment.person)
    foreign_person = factories.PersonFactory(family_name="他課", given_name="人")
    factories.AppointmentFactory(person=foreign_person, body=other_body)
    audit_record(actor=None, action=AuditAction.CONTACT_UPDATED, target=foreign_person)

    page = client_for(secretariat).get(URL, **JA)

    assert page.status_code == 200
    shown = {(row["entry"].target_type.model, row["entry"].target_id) for row in page.context["rows"]}
    assert shown == {
        ("guideline", str(body.guidelines.get().pk)),
        ("person", str(member_appointment.person.pk)),
        ("appointment", str(member_appointment.pk)),
    }
    text = page.content.decode()
    assert "設置要綱の改正" in text  # the action in Japanese, not "guideline_amended"
    assert ">guideline_amended<" not in text


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_the_audit_log_is_not_found_for_anyone_but_the_secretariat(request, who, body, in_term):
    user = request.getfixturevalue(who)
    assert client_for(user).get(URL).status_code == 404


def test_filters_by_body_meeting_person_action_and_date(
    secretariat, body, guideline, member_appointment, in_term
):
    second = factories.BodyFactory(name="第二部会", short_name="第二部会", slug="second", secretariat=body.secretariat)
    meeting = _meeting(body, secretariat)
    second_guideline = factories.GuidelineFactory(body=second)
    audit_record(actor=secretariat, action=AuditAction.GUIDELINE_AMENDED, target=second_guideline)
    person = member_appointment.person
    audit_record(actor=secretariat, action=AuditAction.CONTACT_UPDATED, target=person)
    with time_machine.travel(dt.datetime(2023, 7, 1, 9, 0, tzinfo=TOKYO), tick=False):
        late = audit_record(actor=member_appointment.person.user, action=AuditAction.LOGIN)
    client = client_for(secretariat)

    def actions(**query):
        page = client.get(URL, query, **EN)
        assert page.status_code == 200, page.context["form"].errors
        return sorted(row["entry"].action for row in page.context["rows"])

    assert actions(body=second.pk) == ["guideline_amended"]
    assert actions(meeting=meeting.pk) == ["meeting_created"]
    # The member's own login has no body, so it is out of the secretariat's scope; what concerns them is in.
    assert "contact_updated" in actions(person=person.pk)
    assert "appointment_created" in actions(person=person.pk)
    assert actions(action="guideline_amended") == ["guideline_amended"]
    assert "meeting_created" not in actions(since="2023-06-02")
    assert late.action not in actions(until="2023-06-30")
    assert actions(body=factories.BodyFactory(slug="elsewhere").pk) == []  # not a choice: the form refuses it


def test_csv_export_has_japanese_headers_iso_dates_and_the_filtered_entries(secretariat, body, guideline, in_term):
    audit_record(actor=secretariat, action=AuditAction.GUIDELINE_AMENDED, target=guideline)
    audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=body)
    client = client_for(secretariat)

    response = client.get(URL, {"action": "guideline_amended", "format": "csv"}, **JA)

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日時", "操作者", "操作"]
    assert len(rows) == 2
    assert rows[1][0].startswith("2023-06-01T10:00:00")  # ISO, not 和暦, in the file
    assert rows[1][2] == "設置要綱の改正"
    assert rows[1][3] == body.name
    english = client.get(URL, {"format": "csv"}, **EN).content.decode("utf-8-sig")
    assert english.splitlines()[0].startswith("Date and time,Done by,Action")
    assert AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED, actor=secretariat).count() == 2


def test_the_page_shows_wareki_dates(secretariat, body, in_term):
    audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=body)
    assert "令和5年6月1日" in client_for(secretariat).get(URL, **JA).content.decode()


def test_queries_stay_capped_with_a_thousand_entries(secretariat, body, guideline, member_appointment, in_term,
                                                     django_assert_max_num_queries):
    meeting = _meeting(body, secretariat)
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=secretariat, actor_label="x", action=AuditAction.MEETING_CHANGED, target_label=f"#{i}",
                   body_id=body.pk, meeting_id=meeting.pk, data={"admin_message": [{"changed": {"fields": ["Name"]}}]})
        for i in range(1000)
    )
    client = client_for(secretariat)
    query = {"body": body.pk, "person": member_appointment.person.pk, "since": "2023-01-01"}
    with django_assert_max_num_queries(20):
        page = client.get(URL, **JA)
    assert page.context["page"].paginator.count > 1000
    with django_assert_max_num_queries(20):
        client.get(URL, query, **JA)
    with django_assert_max_num_queries(20):
        assert client.get(URL, {"format": "csv"}, **JA).status_code == 200



# --- growth: the page is the same at 10x the bodies, people and entries (issue 13) -------------------

CHANGED = {"admin_message": [{"changed": {"fields": ["Name"]}}]}


def _grow(body, secretariat, bodies: int, people: int, per_body: int) -> None:
    """Bodies of the secretariat's unit, people on no body yet (the secretariat's to see) and entries about
    each body and two meetings of each, in bulk."""
    have = Body.objects.count()
    new = Body.objects.bulk_create(
        Body(name=f"増えた部会{n:05d}", short_name=f"部会{n:05d}", slug=f"grown-{n}", kind=body.kind,
             secretariat=body.secretariat)
        for n in range(have, have + bodies)
    )
    start = Person.objects.count()
    Person.objects.bulk_create(
        Person(family_name=f"増田{n:05d}", given_name="一郎", family_name_kana="ますだ", sort_key=f"ますだ{n:05d}")
        for n in range(start, start + people)
    )
    meeting_type = ContentType.objects.get_by_natural_key("meetings", "meeting")
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=secretariat, actor_label="事務局", action=AuditAction.MEETING_CHANGED, body_id=grown.pk,
                   meeting_id=grown.pk * 10 + i % 2, target_type=meeting_type, target_id=str(grown.pk * 10 + i % 2),
                   target_label=f"{grown.name} 第{i % 2 + 1}回", data=CHANGED)
        for grown in new for i in range(per_body)
    )


def test_the_page_is_as_large_and_as_many_queries_at_ten_times_the_bodies_people_and_entries(
    secretariat, body, guideline, member_appointment, in_term, django_assert_max_num_queries
):
    client = client_for(secretariat)

    def fetch():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL, **JA)
        assert page.status_code == 200
        return len(queries), len(page.content)

    _grow(body, secretariat, bodies=100, people=100, per_body=10)
    client.get(URL, **JA)  # the session and the cached posts, read once
    small_queries, small_size = fetch()
    _grow(body, secretariat, bodies=900, people=900, per_body=10)
    with django_assert_max_num_queries(12):
        large_queries, large_size = fetch()

    assert Body.objects.count() > 1000 and AuditEntry.objects.count() > 10000
    assert large_queries == small_queries
    assert large_size < 200 * 1024
    assert large_size < small_size + 2000  # flat: not a line more per body or person


# --- many bodies and people: typed names, not lists ----------------------------------------------

@pytest.fixture
def few_listed(monkeypatch):
    monkeypatch.setattr(audit_views, "LISTED", 3)


def test_with_many_bodies_the_body_filter_is_a_search_box_that_takes_a_name_or_the_id(
    secretariat, body, other_body, guideline, in_term, few_listed
):
    second = factories.BodyFactory(name="景観審議会", short_name="景観", slug="keikan", secretariat=body.secretariat)
    third = factories.BodyFactory(name="景観審議会専門部会", short_name="景観部会", slug="keikan-bukai",
                                  secretariat=body.secretariat)
    factories.BodyFactory(name="環境審議会", short_name="環境", slug="kankyo", secretariat=body.secretariat)
    for each in (body, second, third, other_body):
        audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=each)
    client = client_for(secretariat)

    def shown(**query):
        page = client.get(URL, query, **JA)
        assert page.status_code == 200
        return page, sorted(row["entry"].target_label for row in page.context["rows"])

    page, _rows = shown()
    text = page.content.decode()
    assert '<input type="search" name="body"' in text and '<select name="body"' not in text
    assert "名称・氏名の一部を入力してください。" in text

    page, rows = shown(body=second.pk)  # the id, as links and the old select gave it
    assert rows == [str(second)]
    assert 'value="景観審議会"' in page.content.decode()  # the box shows the name, not the id
    assert shown(body="専門部会")[1] == [str(third)]  # part of the name
    assert shown(body="景観審議会")[1] == [str(second)]  # a whole name wins over longer ones containing it

    assert shown(body="景観")[1] == [str(second)]  # a whole short name too
    page, rows = shown(body="景観審")  # two match: a select of the two, nothing listed yet
    assert rows == []
    text = page.content.decode()
    assert "「景観審」に当てはまる会議体が複数あります。" in text
    assert '<select name="body"' in text and ">景観審議会専門部会<" in text and ">環境審議会<" not in text

    # Another unit's body is not found by its id or its name.
    for asked in (other_body.pk, other_body.name):
        page, rows = shown(body=asked)
        assert rows == []
        assert "担当する会議体に" in page.content.decode()

    many = [factories.BodyFactory(name=f"景観審議会{n}", short_name=f"景観{n}", secretariat=body.secretariat)
            for n in (1, 10, 11, 12)]
    audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=many[0])
    assert shown(body="景観審議会1")[1] == [str(many[0])]  # even among more than are listed


def test_with_many_people_the_person_filter_takes_a_name(
    secretariat, body, guideline, member_appointment, in_term, few_listed
):
    for family, given in (("大谷", "次郎"), ("小林", "次郎"), ("中村", "次郎"), ("西田", "三郎")):
        factories.PersonFactory(family_name=family, given_name=given)
    audit_record(actor=secretariat, action=AuditAction.CONTACT_UPDATED, target=member_appointment.person)
    client = client_for(secretariat)
    person = member_appointment.person

    page = client.get(URL, {"person": person.family_name}, **EN)
    assert page.status_code == 200
    assert '<input type="search" name="person"' in page.content.decode()
    assert {row["entry"].action for row in page.context["rows"]} >= {"contact_updated", "appointment_created"}
    assert [row["entry"].action for row in client.get(URL, {"person": "小林"}, **EN).context["rows"]] == []
    by_reading = client.get(URL, {"person": "サトウ"}, **EN)  # 佐藤's reading, typed in katakana
    assert {row["entry"].action for row in by_reading.context["rows"]} >= {"contact_updated"}
    several = client.get(URL, {"person": "次郎"}, **JA)
    assert several.context["rows"] == [] and '<select name="person"' in several.content.decode()
    assert ">中村 次郎<" in several.content.decode() and ">西田 三郎<" not in several.content.decode()
    many = client.get(URL, {"person": "郎"}, **JA)  # more than are listed: type more
    assert many.context["rows"] == [] and '<input type="search" name="person"' in many.content.decode()
    assert "「郎」に当てはまるものが多すぎます。" in many.content.decode()


def test_the_count_stops_at_the_cap_and_later_pages_still_come(secretariat, body, in_term, monkeypatch):
    monkeypatch.setattr(audit_views, "COUNT_CAP", 100)
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=secretariat, actor_label="x", action=AuditAction.MEETING_CHANGED, target_label=f"#{i}",
                   body_id=body.pk) for i in range(300)
    )
    client = client_for(secretariat)
    first = client.get(URL, **JA)
    assert "100件を超えています。" in first.content.decode()
    assert first.context["page"].has_next()
    fifth = client.get(URL, {"page": 5}, **EN)
    assert fifth.context["page"].number == 5 and len(fifth.context["rows"]) == 50
    sixth = client.get(URL, {"page": 6}, **EN)  # the end: counted to the end, so the whole count shows
    assert sixth.context["page"].number == 6 and not sixth.context["page"].has_next()
    assert "Page 6 of 6" in sixth.content.decode()


# --- admin edits are recorded --------------------------------------------------------------------


def _entry(action, model) -> AuditEntry:
    return AuditEntry.objects.filter(action=action, data__model=model._meta.label).latest("id")


def test_an_admin_change_of_a_body_is_recorded_with_its_change_message(secretariat, body, in_term):
    client = client_for(secretariat)
    change_url = reverse("admin:committee_body_change", args=[body.pk])
    data = form_data(client.get(change_url))

    response = client.post(change_url, {**data, "short_name": "改めた略称"}, **EN)

    assert response.status_code == 302
    entry = _entry(AuditAction.ADMIN_CHANGE, Body)
    assert (entry.actor, entry.body_id, entry.target_id) == (secretariat, body.pk, str(body.pk))
    page = client.get(URL, {"action": "admin_change"}, **JA).content.decode()
    assert "管理サイトでの変更" in page
    assert "略称" in page and "を変更しました" in page  # Django's change message, in Japanese


def test_admin_deletions_of_guidelines_and_people_are_recorded(secretariat, superuser, body, guideline, in_term):
    client = client_for(superuser)  # only a superuser deletes
    person = factories.PersonFactory(family_name="削除", given_name="対象")
    delete_url = reverse("admin:committee_person_delete", args=[person.pk])
    assert client.post(delete_url, {"post": "yes"}, **EN).status_code == 302
    assert not Person.objects.filter(pk=person.pk).exists()
    deleted = _entry(AuditAction.ADMIN_DELETE, Person)
    assert deleted.target_label == "削除 対象"

    article_guideline = factories.GuidelineFactory(body=body, effective_on=dt.date(2023, 5, 1))
    delete_url = reverse("admin:committee_guideline_delete", args=[article_guideline.pk])
    assert client.post(delete_url, {"post": "yes"}, **EN).status_code == 302
    assert not Guideline.objects.filter(pk=article_guideline.pk).exists()
    assert _entry(AuditAction.ADMIN_DELETE, Guideline).body_id == body.pk
    in_log = client_for(secretariat).get(URL, {"action": "admin_delete"}, **EN).context["rows"]
    assert [row["entry"].target_id for row in in_log] == [str(article_guideline.pk)]  # still in the body's log


def test_an_admin_edit_of_minutes_passages_is_recorded(secretariat, superuser, body, in_term):
    meeting = _meeting(body, secretariat)
    minutes = Minutes.objects.create(meeting=meeting)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    client = client_for(superuser)
    change_url = reverse("admin:meetings_minutes_change", args=[minutes.pk])
    data = form_data(client.get(change_url))
    data["entries-0-text"] = "ただいまから開会します。"
    data.update({"entries-TOTAL_FORMS": 1, "entries-0-position": 1})  # no blank extra form
    response = client.post(change_url, data, **EN)

    assert response.status_code == 302, response.context and [
        f.formset.errors for f in response.context["inline_admin_formsets"]]
    entry = _entry(AuditAction.ADMIN_CHANGE, Minutes)
    assert (entry.body_id, entry.meeting_id) == (body.pk, meeting.pk)
    assert entry.data["admin_message"] == [{"changed": {"name": "minutes passage", "object": str(
        MinutesEntry.objects.get()), "fields": ["Text"]}}]
    with translation.override("ja"):
        message = change_message_text(entry.data)
    assert message == "議事録の段落 “委員長: ただいまから開会します。” の テキスト を変更しました。"

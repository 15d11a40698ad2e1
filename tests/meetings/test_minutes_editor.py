"""The secretariat writes the minutes in the site (issue 10, 2a): passages with speakers, 公開/非公開 per
passage, the 議事要旨 and 議事録 from one record, versions with a diff, the deadline per body with its
reminder, and the printed 議事録."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from committee.models import Body
from core.models import AuditAction, AuditEntry
from meetings import selectors, services
from meetings.models import AgendaItem, Meeting, Minutes, MinutesEntry, MinutesVersion
from tests.conftest import TOKYO

from .conftest import add_attendance, add_members, sign_in

CLOSED_TEXT = "人事案件について説明した。"
CONFIRM_BY = "2023-06-20"


def _client(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages asserted by their English msgids
    if user is not None:
        sign_in(client, user)
    return client


def _main(page: str) -> str:
    """The page's own content, without the site header (whose menu links the administration for staff)."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _item(meeting: Meeting, title: str) -> AgendaItem:
    return AgendaItem.objects.get(agenda__meeting=meeting, title=title)


def _passage(client: Client, meeting: Meeting, *, headers: dict | None = None, **data):
    return client.post(reverse("meetings:minutes_passage_add", args=[meeting.pk]), {"in_summary": "on", **data},
                       headers=headers)


def _start(client: Client, meeting: Meeting, kind: str = "verbatim"):
    return client.post(reverse("meetings:minutes_settings", args=[meeting.pk]), {"kind": kind})


def _write_three_speakers(client: Client, meeting: Meeting, chair_appointment, member_appointment) -> None:
    assert _start(client, meeting).status_code == 302
    opening = _item(meeting, "開会")
    draft = _item(meeting, "骨子案について")
    for data in (
        {"speaker_choice": f"a{chair_appointment.pk}", "agenda_item": opening.pk, "text": "ただいまから開会します。"},
        {"speaker_choice": f"a{member_appointment.pk}", "agenda_item": draft.pk, "text": "骨子案に賛成します。"},
        {"speaker_choice": "secretariat", "agenda_item": draft.pk, "text": CLOSED_TEXT, "is_closed": "on",
         "closed_basis": "審議会等の会議の公開に関する指針 第3条"},
    ):
        response = _passage(client, meeting, **data)
        assert response.status_code == 302, response.content.decode()[:2000]


def test_a_secretariat_without_superuser_writes_sends_and_publishes_and_the_public_misses_the_closed_passage(
    held, secretariat, chair, member, chair_appointment, member_appointment
):
    assert not secretariat.is_superuser
    staff = _client(secretariat)
    editor = staff.get(reverse("meetings:minutes_edit", args=[held.pk]))
    assert editor.status_code == 200 and "/admin/" not in _main(editor.content.decode())
    _write_three_speakers(staff, held, chair_appointment, member_appointment)

    entries = list(MinutesEntry.objects.filter(minutes__meeting=held).order_by("position"))
    assert [e.speaker for e in entries] == ["委員長", "佐藤委員", "事務局"]
    assert [e.speaker_role for e in entries] == ["presiding", "member", "secretariat"]
    assert entries[0].speaker_appointment == chair_appointment and entries[2].is_closed
    assert entries[2].closed_basis == "審議会等の会議の公開に関する指針 第3条"
    manage = staff.get(reverse("meetings:manage", args=[held.pk])).content.decode()
    assert reverse("meetings:minutes_edit", args=[held.pk]) in manage
    assert "admin/meetings/minutes" not in manage

    staff.post(reverse("meetings:manage_action", args=[held.pk, "minutes-send"]), {"confirm_by": CONFIRM_BY})
    assert Minutes.objects.get(meeting=held).status == Minutes.Status.CONFIRMING
    _client(member).post(reverse("meetings:minutes_confirm", args=[held.pk]), {"comment": ""})
    _client(chair).post(reverse("meetings:minutes_finalise", args=[held.pk]))
    assert Minutes.objects.get(meeting=held).status == Minutes.Status.FINALISED
    staff.post(reverse("meetings:manage_action", args=[held.pk, "minutes-publish"]))
    assert Minutes.objects.get(meeting=held).status == Minutes.Status.PUBLISHED

    public = _client(None).get(reverse("meetings:detail", args=[held.pk])).content.decode()
    assert "ただいまから開会します。" in public and "骨子案に賛成します。" in public
    assert CLOSED_TEXT not in public
    assert "Minutes (議事録)" in public  # which form was published
    printed = Client().get(reverse("print:minutes_html", args=[held.pk])).content.decode()
    assert "骨子案に賛成します。" in printed and CLOSED_TEXT not in printed and "【非公開】" not in printed
    reasons = list(MinutesVersion.objects.filter(minutes__meeting=held).values_list("reason", flat=True))
    assert reasons == ["sent", "finalised", "published"]
    actions = set(AuditEntry.objects.filter(target_id=str(held.pk)).values_list("action", flat=True))
    assert {AuditAction.MINUTES_STARTED, AuditAction.MINUTES_PASSAGE_ADDED} <= actions


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member", "chair", "other_secretariat"])
@pytest.mark.parametrize(
    "name", ["minutes_edit", "minutes_versions", "minutes_settings", "minutes_passage_add"]
)
def test_only_the_secretariat_reaches_the_editor(held, secretariat, chair, member, outsider, other_secretariat,
                                                 who, name):
    services.minutes_start(actor=secretariat, meeting=held)
    user = {"anonymous": None, "outsider": outsider, "member": member, "chair": chair,
            "other_secretariat": other_secretariat}[who]
    url = reverse(f"meetings:{name}", args=[held.pk])
    client = _client(user)
    response = client.get(url) if name in ("minutes_edit", "minutes_versions") else client.post(url, {"text": "x"})
    if user is None:
        assert response.status_code == 302 and reverse("login") in response["Location"]
    else:
        assert response.status_code == 404
    assert not MinutesEntry.objects.exists()


def test_a_closed_passage_needs_its_basis(held, secretariat):
    services.minutes_start(actor=secretariat, meeting=held)
    response = _passage(_client(secretariat), held, speaker="事務局", text=CLOSED_TEXT, is_closed="on")
    assert response.status_code == 422
    assert not MinutesEntry.objects.exists()
    with pytest.raises(ValidationError):
        services.minutes_passage_add(
            actor=secretariat, meeting=held,
            data=services.PassageInput(text=CLOSED_TEXT, speaker="事務局", is_closed=True),
        )


def test_passages_are_editable_in_draft_and_confirming_only_and_only_by_the_secretariat(held, secretariat, chair,
                                                                                       member):
    services.minutes_start(actor=secretariat, meeting=held)
    entry = services.minutes_passage_add(
        actor=secretariat, meeting=held, data=services.PassageInput(text="開会します。", speaker="委員長")
    )
    with pytest.raises(ValidationError):
        services.minutes_passage_add(actor=member, meeting=held, data=services.PassageInput(text="x", speaker="y"))
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    services.minutes_passage_update(
        actor=secretariat, entry=entry, data=services.PassageInput(text="ただいまから開会します。", speaker="委員長")
    )
    assert MinutesVersion.objects.filter(minutes__meeting=held).count() == 2
    services.minutes_finalise(actor=chair, meeting=held)
    with pytest.raises(ValidationError):
        services.minutes_passage_update(
            actor=secretariat, entry=entry, data=services.PassageInput(text="改ざん", speaker="委員長")
        )
    with pytest.raises(ValidationError):
        services.minutes_passage_delete(actor=secretariat, entry=entry)
    assert MinutesEntry.objects.get(pk=entry.pk).text == "ただいまから開会します。"


def test_an_unchanged_save_keeps_no_new_version(held, secretariat):
    services.minutes_start(actor=secretariat, meeting=held)
    data = services.PassageInput(text="開会します。", speaker="委員長")
    entry = services.minutes_passage_add(actor=secretariat, meeting=held, data=data)
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    services.minutes_passage_update(actor=secretariat, entry=entry, data=data)
    assert MinutesVersion.objects.filter(minutes__meeting=held).count() == 1


def test_the_version_page_shows_the_edit_as_a_diff_escaped(held, secretariat, chair_appointment, member_appointment):
    staff = _client(secretariat)
    _write_three_speakers(staff, held, chair_appointment, member_appointment)
    staff.post(reverse("meetings:manage_action", args=[held.pk, "minutes-send"]), {"confirm_by": CONFIRM_BY})
    entry = MinutesEntry.objects.get(minutes__meeting=held, speaker="佐藤委員")
    response = staff.post(
        reverse("meetings:minutes_passage_edit", args=[held.pk, entry.pk]),
        {f"p{entry.pk}-{k}": v for k, v in {
            "speaker_choice": f"a{member_appointment.pk}", "agenda_item": entry.agenda_item_id,
            "text": "骨子案に<script>alert(1)</script>賛成します。", "in_summary": "on",
        }.items()},
    )
    assert response.status_code == 302
    page = staff.get(reverse("meetings:minutes_versions", args=[held.pk])).content.decode()
    assert "Edited during confirmation" in page
    assert "-  骨子案に賛成します。" in page
    assert "+  骨子案に&lt;script&gt;alert(1)&lt;/script&gt;賛成します。" in page
    assert "<script>alert(1)" not in page


def test_passages_move_within_their_agenda_item(held, secretariat):
    services.minutes_start(actor=secretariat, meeting=held)
    item = _item(held, "骨子案について")
    add = services.minutes_passage_add
    first = add(actor=secretariat, meeting=held, data=services.PassageInput(text="一", speaker="a", agenda_item=item))
    add(actor=secretariat, meeting=held, data=services.PassageInput(text="他", speaker="b"))
    third = add(actor=secretariat, meeting=held, data=services.PassageInput(text="三", speaker="c", agenda_item=item))
    services.minutes_passage_move(actor=secretariat, entry=third, direction="up")
    in_item = MinutesEntry.objects.filter(minutes__meeting=held, agenda_item=item).order_by("position")
    assert [e.text for e in in_item] == ["三", "一"]
    services.minutes_passage_move(actor=secretariat, entry=first, direction="down")  # last already
    assert [e.text for e in in_item.all()] == ["三", "一"]


def test_the_summary_carries_only_the_passages_marked_for_it(held, secretariat, chair, member):
    services.minutes_start(actor=secretariat, meeting=held, kind=Minutes.Kind.SUMMARY)
    add = services.minutes_passage_add
    add(actor=secretariat, meeting=held, data=services.PassageInput(text="要旨に入る", speaker="委員長"))
    add(actor=secretariat, meeting=held, data=services.PassageInput(text="逐語のみ", speaker="委員長",
                                                                    in_summary=False))
    minutes = Minutes.objects.get(meeting=held)
    assert [e.text for e in selectors.published_minutes_entries(minutes)] == ["要旨に入る"]
    assert [e.text for e in selectors.published_minutes_entries(minutes, kind=Minutes.Kind.VERBATIM)] == [
        "要旨に入る", "逐語のみ"]
    staff = _client(secretariat)
    summary = staff.get(reverse("print:minutes_html", args=[held.pk]) + "?output=summary").content.decode()
    verbatim = staff.get(reverse("print:minutes_html", args=[held.pk]) + "?output=verbatim").content.decode()
    assert "議事要旨" in summary and "逐語のみ" not in summary
    assert "議事録" in verbatim and "逐語のみ" in verbatim


def test_htmx_saves_a_passage_without_a_page(held, secretariat, member_appointment):
    services.minutes_start(actor=secretariat, meeting=held)
    staff = _client(secretariat)
    editor = staff.get(reverse("meetings:minutes_edit", args=[held.pk])).content.decode()
    assert "django_htmx/htmx-2.min.js" in editor and 'hx-post="' in editor
    assert 'action="' + reverse("meetings:minutes_passage_add", args=[held.pk]) in editor  # works without JS too
    response = _passage(staff, held, headers={"HX-Request": "true"}, speaker_choice=f"a{member_appointment.pk}",
                        text="htmx で追加")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "htmx で追加" in body and 'hx-swap-oob="true"' in body
    entry = MinutesEntry.objects.get(minutes__meeting=held)
    response = staff.post(
        reverse("meetings:minutes_passage_edit", args=[held.pk, entry.pk]),
        {f"p{entry.pk}-speaker": "佐藤委員", f"p{entry.pk}-text": "htmx で修正", f"p{entry.pk}-in_summary": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and f'id="passage-{entry.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert MinutesEntry.objects.get(pk=entry.pk).text == "htmx で修正"
    form = staff.get(reverse("meetings:minutes_passage_edit", args=[held.pk, entry.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in form.content.decode() and "htmx で修正" in form.content.decode()


def test_the_editor_offers_the_meetings_people_with_the_titles_of_the_guidelines(
    held, secretariat, guideline, chair_appointment, member_appointment, vice_chair_appointment
):
    guideline.chair_title = "会長"
    guideline.save(update_fields=["chair_title"])
    options = {o.label: o for o in selectors.speaker_options(held)}
    assert options["会長"].appointment == chair_appointment
    assert options["佐藤委員"].appointment == member_appointment
    assert "事務局" in options
    assert "石井委員" not in options and "副委員長" not in options  # recorded absent


def test_the_pdf_lists_who_attended_and_who_did_not(held, secretariat, chair_appointment, member_appointment):
    staff = _client(secretariat)
    _write_three_speakers(staff, held, chair_appointment, member_appointment)
    Minutes.objects.filter(meeting=held).update(observers_count=3)
    response = staff.get(reverse("print:minutes_pdf", args=[held.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    compact = "".join(text.split())
    expected_lines = ("出席者", "欠席者", "傍聴者数", "3人", "委員長森樹男", "委員石井重成", "【非公開】",
                      "令和5年6月7日(水)")
    for expected in expected_lines:
        assert expected in compact, expected
    public = staff.get(reverse("print:minutes_html", args=[held.pk]) + "?public=1").content.decode()
    assert CLOSED_TEXT not in public


def test_the_unpublished_minutes_print_for_nobody_else(held, secretariat, member):
    services.minutes_start(actor=secretariat, meeting=held)
    assert Client().get(reverse("print:minutes_html", args=[held.pk])).status_code == 404
    assert _client(member).get(reverse("print:minutes_pdf", args=[held.pk])).status_code == 404


def test_the_deadline_follows_the_body(held, body):
    meeting = Meeting.objects.select_related("body").get(pk=held.pk)
    assert selectors.minutes_due_on(meeting) == dt.date(2023, 7, 7)
    assert not selectors.minutes_overdue(meeting, dt.date(2023, 7, 7))
    assert selectors.minutes_overdue(meeting, dt.date(2023, 7, 8))
    Body.objects.filter(pk=body.pk).update(minutes_publish_days=60)
    meeting = Meeting.objects.select_related("body").get(pk=held.pk)
    assert not selectors.minutes_overdue(meeting, dt.date(2023, 7, 8))


def test_the_overdue_reminder_goes_to_the_secretariat_once_a_day(held, secretariat):
    from notices import services as notice_services
    from notices.models import Notice

    def remind(day: int, hour: int = 9) -> int:
        with time_machine.travel(dt.datetime(2023, 7, day, hour, 0, tzinfo=TOKYO), tick=False):
            return notice_services.minutes_overdue_remind()

    assert remind(7) == 0  # due on 7/7 (30 days after 6/7)
    assert remind(8) == 1
    assert remind(8, 15) == 0  # the same day again
    assert remind(9) == 1
    notices = Notice.objects.filter(meeting=held, kind=Notice.Kind.MINUTES_OVERDUE)
    assert notices.count() == 2
    addresses = set(notices.first().deliveries.values_list("email", flat=True))
    assert addresses and "member@test.example" not in addresses and "chair@test.example" not in addresses


def test_the_dashboard_lists_overdue_minutes(held, secretariat):
    with time_machine.travel(dt.datetime(2023, 7, 10, 9, 0, tzinfo=TOKYO), tick=False):
        page = _client(secretariat).get(reverse("meetings:dashboard")).content.decode()
    assert "Minutes overdue" in page and reverse("meetings:minutes_edit", args=[held.pk]) in page


def test_the_editor_costs_the_same_with_200_passages(held, secretariat, body, guideline,
                                                     django_assert_max_num_queries):
    add_attendance(held, add_members(body, guideline, 1, 30), held=True)
    minutes = services.minutes_start(actor=secretariat, meeting=held)
    items = list(AgendaItem.objects.filter(agenda__meeting=held))
    MinutesEntry.objects.bulk_create(
        MinutesEntry(minutes=minutes, position=i, speaker="委員", text=f"発言{i}", agenda_item=items[i % len(items)],
                     is_closed=i % 7 == 0, closed_basis="指針" if i % 7 == 0 else "")
        for i in range(200)
    )
    client = _client(secretariat)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("meetings:minutes_edit", args=[held.pk]))
    assert response.status_code == 200 and "発言199" in response.content.decode()
    with django_assert_max_num_queries(30):
        assert client.get(reverse("meetings:minutes_versions", args=[held.pk])).status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(reverse("print:minutes_html", args=[held.pk])).status_code == 200


def test_before_anyone_is_invited_the_members_in_office_are_offered(meeting, chair_appointment, member_appointment):
    assert not meeting.attendances.exists()
    options = {o.label: o for o in selectors.speaker_options(meeting)}
    assert options["委員長"].appointment == chair_appointment
    assert options["佐藤委員"].appointment == member_appointment


def test_the_members_review_page_shows_the_passages_by_agenda_item(held, secretariat, member):
    services.minutes_start(actor=secretariat, meeting=held)
    services.minutes_passage_add(actor=secretariat, meeting=held, data=services.PassageInput(
        text=CLOSED_TEXT, speaker="事務局", agenda_item=_item(held, "骨子案について"), is_closed=True,
        closed_basis="指針第3条"))
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    page = _client(member).get(reverse("meetings:minutes_review", args=[held.pk])).content.decode()
    assert "骨子案について" in page and "指針第3条" in page and CLOSED_TEXT in page


def test_changing_only_the_observers_during_confirmation_keeps_no_new_version(held, secretariat):
    services.minutes_start(actor=secretariat, meeting=held)
    services.minutes_passage_add(actor=secretariat, meeting=held,
                                 data=services.PassageInput(text="開会します。", speaker="委員長"))
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    services.minutes_settings_update(actor=secretariat, meeting=held, kind=Minutes.Kind.SUMMARY, observers_count=5)
    assert Minutes.objects.get(meeting=held).observers_count == 5
    assert MinutesVersion.objects.filter(minutes__meeting=held).count() == 1


def test_starting_twice_keeps_one_record_and_one_audit_entry(held, secretariat):
    first = services.minutes_start(actor=secretariat, meeting=held, kind=Minutes.Kind.VERBATIM)
    second = services.minutes_start(actor=secretariat, meeting=held, kind=Minutes.Kind.SUMMARY)
    assert first.pk == second.pk and Minutes.objects.get(meeting=held).kind == Minutes.Kind.VERBATIM
    assert AuditEntry.objects.filter(action=AuditAction.MINUTES_STARTED).count() == 1


XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def test_what_the_secretariat_types_is_shown_escaped_everywhere(held, secretariat, chair, member):
    services.minutes_start(actor=secretariat, meeting=held)
    services.minutes_passage_add(actor=secretariat, meeting=held, data=services.PassageInput(
        text=f"公開{XSS}", speaker=f"委員{XSS}"[:60]))
    services.minutes_passage_add(actor=secretariat, meeting=held, data=services.PassageInput(
        text="非公開", speaker="事務局", is_closed=True, closed_basis=f"指針{XSS}"))
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    services.minutes_finalise(actor=chair, meeting=held)
    services.minutes_publish(actor=secretariat, meeting=held)
    staff, anyone = _client(secretariat), _client(None)
    pages = [
        staff.get(reverse("meetings:minutes_edit", args=[held.pk])),
        staff.get(reverse("meetings:minutes_versions", args=[held.pk])),
        staff.get(reverse("print:minutes_html", args=[held.pk])),
        _client(member).get(reverse("meetings:minutes_review", args=[held.pk])),
        anyone.get(reverse("meetings:detail", args=[held.pk])),
        anyone.get(reverse("print:minutes_html", args=[held.pk])),
    ]
    for response in pages:
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert(1)" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)" in body or "&lt;img src=x" in body

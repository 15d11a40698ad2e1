"""The meeting's step list (次第 → 承認 → 通知 → 開催 → 議事録) on the secretariat's meeting page, and the
error summary and notifications shared by every page (templates/includes/)."""

import pytest
from django import forms
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from meetings.templatetags.meetings_tags import meeting_progress


def _states(meeting_status, agenda_status):
    return [step["state"] for step in meeting_progress(meeting_status, agenda_status)]


@pytest.mark.parametrize(
    ("meeting_status", "agenda_status", "expected"),
    [
        ("planned", None, ["current", "todo", "todo", "todo", "todo"]),
        ("planned", "draft", ["current", "todo", "todo", "todo", "todo"]),
        ("planned", "returned", ["current", "todo", "todo", "todo", "todo"]),
        ("planned", "submitted", ["done", "current", "todo", "todo", "todo"]),
        ("planned", "approved", ["done", "done", "current", "todo", "todo"]),
        ("notified", "approved", ["done", "done", "done", "current", "todo"]),
        # A 次第 revised after the notice: the chair's approval (or the revision itself) is the work to do
        # next, while the notice stays sent.
        ("notified", "submitted", ["done", "current", "done", "todo", "todo"]),
        ("notified", "draft", ["current", "todo", "done", "todo", "todo"]),
        ("notified", "returned", ["current", "todo", "done", "todo", "todo"]),
        ("notified", None, ["done", "done", "done", "current", "todo"]),
        # Held: a revision left over no longer matters.
        ("held", "submitted", ["done", "done", "done", "done", "current"]),
        ("held", "approved", ["done", "done", "done", "done", "current"]),
        ("minutes_published", "approved", ["done", "done", "done", "done", "done"]),
        ("cancelled", "draft", ["todo", "todo", "todo", "todo", "todo"]),
    ],
)
def test_the_first_step_not_done_is_current(meeting_status, agenda_status, expected):
    assert _states(meeting_status, agenda_status) == expected


def test_the_steps_read_in_japanese():
    with translation.override("ja"):
        labels = [str(step["label"]) for step in meeting_progress("planned", None)]
        state = str(meeting_progress("planned", None)[0]["state_label"])
    assert labels == ["次第", "承認", "通知", "開催", "議事録"]
    assert state == "次の作業"


@pytest.mark.django_db
def test_the_secretariat_meeting_page_shows_the_current_step(client, secretariat, meeting):
    client.force_login(secretariat)
    page = client.get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
    assert 'class="step-list"' in page
    assert page.count('aria-current="step"') == 1


class _Form(forms.Form):
    name = forms.CharField(label="Name")
    note = forms.CharField(label="Note", required=False, help_text="Optional")


def test_the_error_summary_links_each_error_to_its_field():
    form = _Form(data={})
    html = Template('{% include "includes/error_summary.html" %}').render(Context({"form": form}))
    assert 'role="alert"' in html
    assert '<a href="#id_name">Name: ' in html
    assert "#id_note" not in html  # no error, no entry


def test_a_field_error_is_what_the_field_names_in_aria_describedby():
    form = _Form(data={})
    field = form["name"]
    html = Template('{{ field }}{% include "includes/field_feedback.html" %}').render(Context({"field": field}))
    assert 'aria-describedby="id_name_error"' in html
    assert 'id="id_name_error"' in html
    note = Template('{{ field }}{% include "includes/field_feedback.html" %}').render(Context({"field": form["note"]}))
    assert 'aria-describedby="id_note_helptext"' in note and 'id="id_note_helptext"' in note


def test_a_notification_names_its_kind_in_words():
    messages = [Message(constants.SUCCESS, "Saved."), Message(constants.ERROR, "Refused.")]
    with translation.override("en"):
        html = Template('{% include "includes/messages.html" %}').render(Context({"messages": messages}))
    assert html.count('role="status"') == 2
    assert "Done" in html and "Error" in html  # not told by colour alone
    assert 'data-type="success"' in html and "alert-danger" in html

"""Every URL of the project, for every role (SECURITY.md, Access).

MATRIX maps each URL pattern name to one or more cases; each case names the URL's arguments and
the status every role must get. A pattern missing from MATRIX fails `test_every_url_pattern_is_in_the_matrix`,
so a new view cannot ship without deciding who may reach it. The admin has its own tests
(tests/committee/test_admin.py); Django's i18n views are Django's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from committee.models import Body
from tests.conftest import TOKYO

ANONYMOUS = "anonymous"
OUTSIDER = "outsider"
OTHER_MEMBER = "other_member"
MEMBER = "member"
CHAIR = "chair"
VICE_CHAIR = "vice_chair"
OTHER_SECRETARIAT = "other_secretariat"
SECRETARIAT = "secretariat"
SUPERUSER = "superuser"
ROLES = (ANONYMOUS, OUTSIDER, OTHER_MEMBER, MEMBER, CHAIR, VICE_CHAIR, OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER)
MEMBERS_OF_BODY = (MEMBER, CHAIR, VICE_CHAIR)
LOGGED_IN = ROLES[1:]

# The first backend (django-axes) only guards logins and loads no user, so sessions name this one.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

LOGIN = "redirect to login"  # 302 to the login page, with ?next= back here

# Patterns outside the matrix, and why.
EXCLUDED = {
    "set_language": "Django's i18n view (i18n/setlang/)",
    "javascript-catalog": "Django's i18n view (jsi18n/)",
}
EXCLUDED_NAMESPACES = {"admin"}  # tests/committee/test_admin.py


def expect(default, **by_role) -> dict[str, object]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


def only(roles, status, otherwise) -> dict[str, object]:
    return {role: status if role in roles else otherwise for role in ROLES}


@dataclass(frozen=True)
class Case:
    label: str
    expected: dict[str, object]
    kwargs: dict[str, str] = field(default_factory=dict)
    private_body: bool = False  # make the fixture body 非公開 (is_public=False) first

    @property
    def needs_meeting(self) -> bool:
        return MEETING in self.kwargs.values()


MEETING = "<the meeting's pk>"  # replaced by the `meeting` fixture's pk
STATEMENT = "<the member's fee statement pk>"  # replaced by the `member_statement` fixture's pk


PUBLIC = expect(200)
PRIVATE_BODY = only((*MEMBERS_OF_BODY, SECRETARIAT, SUPERUSER), 200, 404)
NOWHERE = expect(404)
SECRETARIAT_OF_BODY = {**only((SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN}
EFFECTIVE = "2023-04-13"  # the fixture guideline's date
MEETING_INSIDERS = (*MEMBERS_OF_BODY, SECRETARIAT, SUPERUSER)  # members on the day, its secretariat
SIGNED_IN_ONLY = expect(200, **{ANONYMOUS: LOGIN})
POST_ONLY = expect(405, **{ANONYMOUS: LOGIN})  # GET is refused; what a POST may do is in tests/meetings/
# A form's POST-only address sends a GET back to the form's page (core.http.post_only: the login page sends
# someone whose session ran out there); that page decides who may see it.
BACK_TO_THE_FORM = expect(302, **{ANONYMOUS: LOGIN})
MANAGERS_ONLY = {**only((SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN}
ON_MEETING = {"pk": MEETING}

MATRIX: dict[str, list[Case]] = {
    "committee:home": [Case("list", PUBLIC)],
    "meetings:landing": [Case("by role", expect(302, **{ANONYMOUS: LOGIN}))],
    "committee:body_list": [Case("list", PUBLIC)],
    "committee:body_detail": [
        Case("public body", PUBLIC, {"slug": "dx-plan"}),
        Case("private body", PRIVATE_BODY, {"slug": "dx-plan"}, private_body=True),
        Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
    ],
    "committee:guideline_current": [
        Case("public body", PUBLIC, {"slug": "dx-plan"}),
        Case("private body", PRIVATE_BODY, {"slug": "dx-plan"}, private_body=True),
        Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
    ],
    "committee:guideline_detail": [
        Case("public body", PUBLIC, {"slug": "dx-plan", "effective_on": EFFECTIVE}),
        Case("private body", PRIVATE_BODY, {"slug": "dx-plan", "effective_on": EFFECTIVE}, private_body=True),
        Case("unknown version", NOWHERE, {"slug": "dx-plan", "effective_on": "2023-04-14"}),
        Case("not a date", NOWHERE, {"slug": "dx-plan", "effective_on": "latest"}),
    ],
    "committee:composition": [
        Case("report", {**only((OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN}),
    ],
    "committee:audit_log": [
        Case("log", {**only((OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN}),
    ],
    "committee:roster_manage": [
        Case("public body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}),
        Case("private body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}, private_body=True),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "committee:body_edit": [
        Case("public body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}),
        Case("private body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}, private_body=True),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "committee:body_renew": [
        Case("public body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}),
        Case("private body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}, private_body=True),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "committee:guideline_amend": [
        Case("public body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "committee:roster_action": [
        Case("GET back to the roster", BACK_TO_THE_FORM, {"slug": "dx-plan", "pk": "1", "action": "end"}),
    ],
    "committee:roster_export": [
        Case("csv", SECRETARIAT_OF_BODY, {"slug": "dx-plan", "fmt": "csv"}),
        Case("xlsx", SECRETARIAT_OF_BODY, {"slug": "dx-plan", "fmt": "xlsx"}),
        Case("private body", SECRETARIAT_OF_BODY, {"slug": "dx-plan", "fmt": "csv"}, private_body=True),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body", "fmt": "csv"},
        ),
        Case("unknown format", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "dx-plan", "fmt": "pdf"}),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body", "fmt": "csv"}),
    ],
    # Meetings: `meeting` is 第1回 of the fixture body on 2023-06-07, its 次第 approved and notices sent.
    "meetings:body_meetings": [
        Case("public body", PUBLIC, {"slug": "dx-plan"}),
        Case("private body", PRIVATE_BODY, {"slug": "dx-plan"}, private_body=True),
        Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
    ],
    "meetings:detail": [
        Case("public body", PUBLIC, ON_MEETING),
        Case("private body", only(MEETING_INSIDERS, 200, 404), ON_MEETING, private_body=True),
        Case("unknown meeting", NOWHERE, {"pk": "999999"}),
    ],
    "meetings:agenda_print": [
        Case("notified", PUBLIC, ON_MEETING),
        Case("private body", only(MEETING_INSIDERS, 200, 404), ON_MEETING, private_body=True),
    ],
    "meetings:attendance_list": [Case("before the meeting", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "meetings:seating": [Case("before the meeting", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "meetings:answer": [Case("GET", BACK_TO_THE_FORM, ON_MEETING)],
    "meetings:minutes_review": [Case("no minutes yet", {**NOWHERE, ANONYMOUS: LOGIN}, ON_MEETING)],
    "meetings:minutes_confirm": [Case("GET", BACK_TO_THE_FORM, ON_MEETING)],
    "meetings:minutes_finalise": [Case("GET", BACK_TO_THE_FORM, ON_MEETING)],
    # The chair approved the 次第 and may read it there; so may the secretariat.
    "meetings:agenda_review": [
        Case("approved", {**only((CHAIR, SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN}, ON_MEETING)
    ],
    # Search: everyone; what each role finds is tests/meetings/test_search.py.
    "search:search": [Case("form", PUBLIC)],
    "meetings:schedule": [Case("this year", expect(302))],
    "meetings:schedule_year": [
        Case("FY2023", PUBLIC, {"fiscal_year": "2023"}),
        Case("out of range", NOWHERE, {"fiscal_year": "1800"}),
    ],
    "meetings:my_meetings": [Case("list", SIGNED_IN_ONLY)],
    "meetings:approvals": [Case("list", SIGNED_IN_ONLY)],
    "meetings:dashboard": [
        Case("list", {**only((OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN})
    ],
    "meetings:manage": [Case("notified", MANAGERS_ONLY, ON_MEETING)],
    "meetings:manage_action": [Case("GET", BACK_TO_THE_FORM, {"pk": MEETING, "action": "submit"})],
    # Planning a meeting and drafting its 次第 (what the forms do: tests/meetings/test_editing.py).
    "meetings:create": [
        Case("public body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}),
        Case("private body", SECRETARIAT_OF_BODY, {"slug": "dx-plan"}, private_body=True),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "meetings:edit": [Case("notified", MANAGERS_ONLY, ON_MEETING)],
    "meetings:agenda_edit": [
        Case("notified", MANAGERS_ONLY, ON_MEETING),
        Case("private body", MANAGERS_ONLY, ON_MEETING, private_body=True),
    ],
    "meetings:agenda_item_edit": [
        Case("unknown item", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "item_pk": "999999"})
    ],
    "meetings:agenda_item_delete": [Case("GET", POST_ONLY, {"pk": MEETING, "item_pk": "999999"})],
    "meetings:agenda_item_move": [Case("GET", POST_ONLY, {"pk": MEETING, "item_pk": "999999"})],
    # The minutes editor, on the fixture meeting without minutes yet (tests/meetings/test_minutes_editor.py).
    "meetings:minutes_edit": [Case("not started", MANAGERS_ONLY, ON_MEETING)],
    "meetings:minutes_settings": [Case("GET", POST_ONLY, ON_MEETING)],
    "meetings:minutes_passage_add": [Case("GET", POST_ONLY, ON_MEETING)],
    "meetings:minutes_passage_edit": [
        Case("unknown passage", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "entry_pk": "999999"})
    ],
    "meetings:minutes_passage_show": [
        Case("unknown passage", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "entry_pk": "999999"})
    ],
    "meetings:minutes_passage_delete": [Case("GET", POST_ONLY, {"pk": MEETING, "entry_pk": "999999"})],
    "meetings:minutes_passage_move": [Case("GET", POST_ONLY, {"pk": MEETING, "entry_pk": "999999"})],
    "meetings:minutes_versions": [Case("not started", MANAGERS_ONLY, ON_MEETING)],
    # Other attendees (issue 10, 2b): what the pages do is tests/meetings/test_attendees.py.
    "meetings:attendees": [Case("list", MANAGERS_ONLY, ON_MEETING)],
    "meetings:attendee_edit": [
        Case("unknown attendee", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "attendee_pk": "999999"})
    ],
    "meetings:attendee_remove": [Case("GET", POST_ONLY, {"pk": MEETING, "attendee_pk": "999999"})],
    # Adjusting the 席図 (tests/meetings/test_seating_adjust.py); the fixture meeting has no plan yet.
    "meetings:seating_adjust": [Case("no plan yet", MANAGERS_ONLY, ON_MEETING)],
    # Recording the 結果 of the items (tests/meetings/test_agenda_results.py); not yet held, the page says so.
    "meetings:agenda_results": [Case("not held yet", MANAGERS_ONLY, ON_MEETING)],
    # Materials: the fixture meeting has none, so downloads answer 404 to everyone; who may fetch an
    # existing material at each visibility is tests/documents/test_views.py::test_permission_matrix.
    "documents:download": [Case("unknown material", NOWHERE, {"pk": "999999"})],
    "documents:guest_download": [Case("altered token", NOWHERE, {"token": "not-a-signed-value", "pk": "999999"})],
    "documents:version_download": [
        Case("unknown material", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999", "number": "1"})
    ],
    "documents:download_all": [Case("no materials", NOWHERE, ON_MEETING)],
    "documents:manage": [Case("no materials", MANAGERS_ONLY, ON_MEETING)],
    "documents:manage_action": [Case("GET", POST_ONLY, {"pk": "999999", "action": "replace"})],
    # Who has not downloaded one members' material (tests/documents/test_material_list_growth.py).
    "documents:not_downloaded": [Case("unknown material", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999"})],
    # A signed-in user is sent on (LoginView.redirect_authenticated_user).
    "login": [Case("form", expect(302, **{ANONYMOUS: 200}))],
    # Logging out is a POST (tests/core/test_security.py); a GET must not log anyone out.
    "logout": [Case("GET", expect(405))],
    "healthz": [Case("probe", PUBLIC)],
    "favicon": [Case("to the static icon", expect(301))],
    "brand_css": [Case("the organisation's colour", PUBLIC)],
    "accessibility": [Case("policy", PUBLIC)],
    "accessibility_results": [Case("test record", PUBLIC)],
    # Notices (notices/urls.py). What sending, resending and answering do: tests/notices/.
    "notices:status": [Case("notified", MANAGERS_ONLY, ON_MEETING)],
    "notices:send": [Case("GET", BACK_TO_THE_FORM, ON_MEETING)],
    "notices:preview": [
        Case("convocation", MANAGERS_ONLY, {"pk": MEETING, "kind": "convocation"}),
        Case("unknown kind", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "kind": "nonsense"}),
    ],
    "notices:resend": [Case("GET", POST_ONLY, {"pk": "999999"})],
    "notices:resend_failed": [Case("GET", POST_ONLY, {"pk": "999999"})],
    "notices:answer": [Case("altered token", expect(400), {"token": "not-a-signed-value"})],
    "notices:attendee_invite": [Case("GET", POST_ONLY, {"pk": MEETING, "attendee_pk": "999999"})],
    "notices:guest": [Case("altered token", NOWHERE, {"token": "not-a-signed-value"})],
    "notices:body_calendar": [
        Case("public body", PUBLIC, {"slug": "dx-plan"}),
        Case("private body", NOWHERE, {"slug": "dx-plan"}, private_body=True),
        Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
    ],
    "notices:member_calendar": [Case("bad token", NOWHERE, {"token": "1.forged"})],
    "notices:my_calendar": [Case("feed address", SIGNED_IN_ONLY)],
    "notices:settings": [Case("own settings", SIGNED_IN_ONLY)],
    # Printed documents (documents/print_urls.py) of the fixture meeting: notified, not yet held, no seats,
    # no materials. Held meetings, real appointments and materials: tests/documents/test_pdf.py::test_access.
    "print:agenda_html": [
        Case("notified", PUBLIC, ON_MEETING),
        Case("private body", only(MEETING_INSIDERS, 200, 404), ON_MEETING, private_body=True),
    ],
    "print:agenda_pdf": [Case("notified", PUBLIC, ON_MEETING)],
    "print:attendance_html": [Case("before the meeting", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "print:attendance_pdf": [Case("before the meeting", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "print:seating_html": [Case("members", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "print:seating_pdf": [Case("members", only(MEETING_INSIDERS, 200, 404), ON_MEETING)],
    "print:materials_pdf": [Case("no materials", NOWHERE, ON_MEETING)],
    "print:minutes_html": [Case("no minutes", NOWHERE, ON_MEETING)],
    "print:minutes_pdf": [Case("no minutes", NOWHERE, ON_MEETING)],
    "print:notice_html": [
        Case("unknown appointment", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "appointment_pk": "999999"})
    ],
    "print:notice_pdf": [
        Case("unknown appointment", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": MEETING, "appointment_pk": "999999"})
    ],
    "print:notices_pdf": [Case("notified", MANAGERS_ONLY, ON_MEETING)],
    "print:commission_html": [Case("unknown appointment", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999"})],
    "print:commission_pdf": [Case("unknown appointment", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999"})],
    # Without ?term_start= there are no letters; with it: tests/documents/test_renewal_letters.py.
    "print:renewal_letters": [Case("no term given", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "dx-plan"})],
    # The one-time-code form: for any signed-in account (it answers even when no device is set up).
    "otp_verify": [Case("form", SIGNED_IN_ONLY)],
    # Accounts (core/urls.py). Invitations, resets and contact edits: tests/core/test_accounts.py.
    "account": [Case("my account", SIGNED_IN_ONLY)],
    "password_change": [Case("form", SIGNED_IN_ONLY)],
    "account_feed_reset": [Case("GET", POST_ONLY)],
    "password_reset": [Case("form", PUBLIC)],
    "password_reset_done": [Case("page", PUBLIC)],
    "password_reset_confirm": [Case("altered link", expect(400), {"uidb64": "MQ", "token": "bp4140-forged"})],
    "password_reset_complete": [Case("page", PUBLIC)],
    "account_invitation": [Case("altered link", expect(400), {"uidb64": "MQ", "token": "bp4140-forged"})],
    "account_invite": [Case("GET", POST_ONLY, {"pk": "999999"})],
    # Open data (opendata/urls.py): what the public site shows, the same to every role; a private body's
    # objects are in no export, not even for its members (tests/opendata/test_leaks.py).
    "opendata:oparl_system": [Case("entry point", PUBLIC)],
    "opendata:oparl_bodies": [Case("list", PUBLIC)],
    "opendata:oparl_body": [
        Case("the government", PUBLIC, {"code": "020001"}),
        Case("unknown code", NOWHERE, {"code": "999999"}),
    ],
    "opendata:oparl_body_list": [
        Case("meetings", PUBLIC, {"code": "020001", "kind": "meeting"}),
        Case("private body's meetings left out", PUBLIC, {"code": "020001", "kind": "meeting"}, private_body=True),
        Case("unknown kind", NOWHERE, {"code": "020001", "kind": "nonsense"}),
    ],
    "opendata:oparl_organization_meetings": [Case("unknown body", NOWHERE, {"pk": "999999"})],
    "opendata:oparl_object": [
        Case("meeting", PUBLIC, {"kind": "meeting", "ident": MEETING}),
        Case("private body's meeting", NOWHERE, {"kind": "meeting", "ident": MEETING}, private_body=True),
        Case("unknown kind", NOWHERE, {"kind": "nonsense", "ident": MEETING}),
        Case("not a number", NOWHERE, {"kind": "meeting", "ident": "first"}),
    ],
    "opendata:datasets": [Case("page", PUBLIC)],
    "opendata:meetings_csv": [Case("all bodies", PUBLIC)],
    "opendata:site_feed": [Case("all bodies", PUBLIC)],
    **{
        name: [
            Case("public body", PUBLIC, {"slug": "dx-plan"}),
            Case("private body", NOWHERE, {"slug": "dx-plan"}, private_body=True),
            Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
        ]
        for name in ("opendata:body_meetings_csv", "opendata:roster_csv", "opendata:popolo", "opendata:body_feed")
    },
    # Fees (issue 18): the body's secretariat works on them; a member sees only their own statement
    # (STATEMENT is the member's statement for the fixture meeting).
    # 傍聴 and subscriptions (participation/urls.py); what they do: tests/participation/. The fixture meeting has
    # no 傍聴 settings: the registration page says so to everyone who may know the meeting.
    "participation:register": [
        Case("no settings", PUBLIC, ON_MEETING),
        Case("private body", only(MEETING_INSIDERS, 200, 404), ON_MEETING, private_body=True),
    ],
    "participation:confirm": [Case("unknown token", NOWHERE, {"pk": MEETING, "token": "forged"})],
    "participation:cancel": [Case("unknown token", NOWHERE, {"pk": MEETING, "token": "forged"})],
    "participation:subscribe": [
        Case("public body", PUBLIC, {"slug": "dx-plan"}),
        Case("private body", NOWHERE, {"slug": "dx-plan"}, private_body=True),
        Case("unknown body", NOWHERE, {"slug": "no-such-body"}),
    ],
    "participation:subscription_confirm": [Case("unknown token", NOWHERE, {"token": "forged"})],
    # A link whose subscription is gone says it ended (unsubscribing deletes the row).
    "participation:unsubscribe": [Case("unknown token", PUBLIC, {"token": "forged"})],
    "participation:manage": [Case("no settings yet", MANAGERS_ONLY, ON_MEETING)],
    "participation:manage_action": [Case("GET", POST_ONLY, {"pk": MEETING, "action": "draw"})],
    "participation:register_pdf": [Case("no settings", {**NOWHERE, ANONYMOUS: LOGIN}, ON_MEETING)],
    "participation:guide": [
        Case("own body", MANAGERS_ONLY, {"slug": "dx-plan"}),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
    ],
    "fees:body": [
        Case("own body", MANAGERS_ONLY, {"slug": "dx-plan"}),
        Case(
            "another unit's body",
            {**only((OTHER_SECRETARIAT, SUPERUSER), 200, 404), ANONYMOUS: LOGIN},
            {"slug": "other-body"},
        ),
        Case("unknown body", {**NOWHERE, ANONYMOUS: LOGIN}, {"slug": "no-such-body"}),
    ],
    "fees:rule_set_create": [Case("form", MANAGERS_ONLY, {"slug": "dx-plan"})],
    "fees:payees": [Case("form", MANAGERS_ONLY, {"slug": "dx-plan"})],
    "fees:year": [Case("2023", MANAGERS_ONLY, {"slug": "dx-plan", "fiscal_year": "2023"})],
    "fees:year_csv": [Case("2023", MANAGERS_ONLY, {"slug": "dx-plan", "fiscal_year": "2023"})],
    "fees:year_people_csv": [Case("2023", MANAGERS_ONLY, {"slug": "dx-plan", "fiscal_year": "2023"})],
    "fees:meeting": [
        Case("statements", MANAGERS_ONLY, ON_MEETING),
        Case("private body", MANAGERS_ONLY, ON_MEETING, private_body=True),
        Case("unknown meeting", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999"}),
    ],
    "fees:meeting_csv": [Case("csv", MANAGERS_ONLY, ON_MEETING)],
    "fees:meeting_pdf": [Case("pdf", MANAGERS_ONLY, ON_MEETING)],
    "fees:meeting_action": [Case("GET", POST_ONLY, {"pk": MEETING, "action": "approve"})],
    "fees:statement_correct": [Case("member's statement", MANAGERS_ONLY, {"pk": STATEMENT})],
    "fees:my": [Case("my statements", SIGNED_IN_ONLY)],
    "fees:my_statement": [
        Case("member's statement", {**only((MEMBER,), 200, 404), ANONYMOUS: LOGIN}, {"pk": STATEMENT}),
        Case("unknown statement", {**NOWHERE, ANONYMOUS: LOGIN}, {"pk": "999999"}),
    ],
}


def _pattern_names(patterns, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _pattern_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            # An unnamed pattern cannot be put in the matrix: name it.
            names.add(f"{prefix}{entry.name}" if entry.name else f"<unnamed {entry.pattern}>")
    return names


def test_every_url_pattern_is_in_the_matrix():
    names = _pattern_names(get_resolver().url_patterns)
    missing = sorted(names - set(MATRIX) - set(EXCLUDED))
    assert not missing, f"URL patterns missing from MATRIX in {__file__}: {missing}"
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"MATRIX names patterns that no longer exist: {stale}"


def test_every_case_covers_every_role():
    for name, cases in MATRIX.items():
        for case in cases:
            assert set(case.expected) == set(ROLES), (name, case.label)


def _namespace(name: str) -> str:
    return name.split(":")[0] if ":" in name else "site"


# One test per namespace: its people, meeting and statement are made once, each role signs in once, and every
# case runs in a savepoint rolled back after it (a 非公開 body, a GET that writes), so no case sees another's.
NAMESPACES = sorted({_namespace(name) for name in MATRIX})


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 at production strength costs ~0.4 s per account; these tests make eight per case.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(in_term, secretariat, chair, vice_chair, member, outsider, other_member, other_secretariat, superuser):
    return {
        ANONYMOUS: None,
        OUTSIDER: outsider,
        OTHER_MEMBER: other_member,
        MEMBER: member,
        CHAIR: chair,
        VICE_CHAIR: vice_chair,
        OTHER_SECRETARIAT: other_secretariat,
        SECRETARIAT: secretariat,
        SUPERUSER: superuser,
    }


def session_of(user) -> str:
    """The key of a session signed in as `user` (a client per request then carries only that cookie, so no
    cookie one answer sets, a language or a message, reaches the next request)."""
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def client_with(session_key: str | None) -> Client:
    client = Client()
    if session_key is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def _outcome(response, url: str) -> object:
    login = reverse("login")
    if response.status_code == 302 and response["Location"].startswith(f"{login}?next="):
        assert url.split("?")[0] in response["Location"] or url.replace("/", "%2F") in response["Location"]
        return LOGIN
    return response.status_code


@pytest.fixture
def meeting(body, secretariat, chair, in_term):
    """第1回 on 2023-06-07 14:00: one item, submitted, approved by the chair, notices sent."""
    from meetings import services as meeting_services

    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    meeting = meeting_services.meeting_create(
        actor=secretariat, body=body, start_at=start, end_at=start + dt.timedelta(hours=2), venue_name="青森県庁"
    )
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = meeting_services.agenda_submit(actor=secretariat, meeting=meeting)
    meeting_services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    return meeting_services.meeting_mark_notified(actor=secretariat, meeting=meeting)


@pytest.fixture
def member_statement(meeting, member_appointment):
    """The member's fee statement for the fixture meeting (fees)."""
    from fees.models import FeeSheet, Statement

    sheet = FeeSheet.objects.create(meeting=meeting)
    return Statement.objects.create(sheet=sheet, appointment=member_appointment, person=member_appointment.person)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_url_permission_matrix(namespace, users, request):
    sessions = {role: None if user is None else session_of(user) for role, user in users.items()}
    wrong = []
    for name, cases in MATRIX.items():
        if _namespace(name) != namespace:
            continue
        for case in cases:
            kwargs = dict(case.kwargs)
            # The fixtures are made outside the case's savepoint, once for the whole test.
            if case.needs_meeting:
                pk = str(request.getfixturevalue("meeting").pk)
                kwargs = {key: pk if value == MEETING else value for key, value in kwargs.items()}
            if STATEMENT in kwargs.values():
                pk = str(request.getfixturevalue("member_statement").pk)
                kwargs = {key: pk if value == STATEMENT else value for key, value in kwargs.items()}
            url = reverse(name, kwargs=kwargs)
            with transaction.atomic():
                if case.private_body:
                    assert Body.objects.filter(slug="dx-plan").update(is_public=False) == 1
                for role in ROLES:
                    with transaction.atomic():
                        got = _outcome(client_with(sessions[role]).get(url), url)
                        transaction.set_rollback(True)
                    if got != case.expected[role]:
                        wrong.append(
                            f"GET {url} ({name}, {case.label}) {role}: expected {case.expected[role]}, got {got}"
                        )
                transaction.set_rollback(True)
    assert not wrong, "\n".join(wrong)

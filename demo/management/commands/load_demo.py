"""Load the Aomori demo data and create the demo accounts. Running it again changes nothing.

The seed's FY2023 committee is loaded as it is (history), then the live part keeps the same committee in
office in the 年度 of the day it runs (timezone.localdate()): renewed members, a past meeting with
published minutes, next month's meeting with its 開催通知 sent and a revised 次第 awaiting the chair, and
the rest of the year planned. See committee/demo.py, meetings/demo.py and documents/demo.py (load_live).
"""

import datetime as dt
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from committee import demo as committee_demo
from committee.models import Appointment, Body, OrgUnit, Person, StaffAssignment
from core.models import User
from documents import demo as documents_demo
from fees import demo as fees_demo
from meetings import demo as meetings_demo
from meetings.models import Meeting
from notices import services as notice_services
from notices.models import Notice
from participation import demo as participation_demo

DEMO_ACCOUNTS = [
    # email, role shown, person (family, given) or None, is staff of the secretariat
    ("secretariat@demo.dxplan.example", "事務局 (DX推進課)", None, True),
    ("chair@demo.dxplan.example", "委員長 (森 樹男)", ("森", "樹男"), False),
    ("member@demo.dxplan.example", "委員 (石井 重成)", ("石井", "重成"), False),
    (
        "director@demo.dxplan.example",
        "企画政策部長、令和6年度から総合政策部長 (招集者: 委員長選任前の次第を承認)",
        None,
        False,
    ),
    ("deputy@demo.dxplan.example", "企画政策部次長 (令和4年度庁内WG座長)", None, False),
]
CONVENERS = {"dx-plan-committee": "director@demo.dxplan.example", "dx-wg-2022": "deputy@demo.dxplan.example"}


class Command(BaseCommand):
    help = (
        "Load the demo data of the Aomori DX plan committee (the seed's FY2023, and the committee in office "
        "in the current fiscal year) and create demo accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production", action="store_true", help="Load even when DEBUG is off (never on a live site)."
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("Demo data is for a development machine; pass --allow-production to load it anyway.")
        with transaction.atomic():
            counts = committee_demo.load()
            created = self._accounts()
            for slug, email in CONVENERS.items():
                Body.objects.filter(slug=slug, convener_account__isnull=True).update(
                    convener_account=User.objects.get(email=email)
                )
            counts |= meetings_demo.load(
                secretariat=User.objects.get(email=DEMO_ACCOUNTS[0][0]),
                convener=User.objects.get(email=CONVENERS["dx-plan-committee"]),
                wg_convener=User.objects.get(email=CONVENERS["dx-wg-2022"]),
            )
            counts |= documents_demo.load(secretariat=User.objects.get(email=DEMO_ACCOUNTS[0][0]))
            counts |= fees_demo.load(secretariat=User.objects.get(email=DEMO_ACCOUNTS[0][0]))
            counts |= self._live(timezone.localdate())
            counts |= participation_demo.load(secretariat=User.objects.get(email=DEMO_ACCOUNTS[0][0]))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data: {bodies} bodies, {people} people, {appointments} appointments, {meetings} meetings.".format(
                    **counts
                )
            )
        )
        self.stdout.write(
            f"The committee is in office today ({timezone.localdate():%Y-%m-%d}): see /my/, /approvals/ and /manage/."
        )
        accounts_file = settings.VAR_DIR / "demo-accounts.txt"
        if created:
            lines = [f"{email}  {password}  ({role})" for email, password, role in created]
            with accounts_file.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            accounts_file.chmod(0o600)
            self.stdout.write(f"Demo accounts created (email, password); kept in {accounts_file}:")
            for line in lines:
                self.stdout.write("  " + line)
        else:
            self.stdout.write(f"Demo accounts exist already; their passwords are in {accounts_file}.")

    def _live(self, today: dt.date) -> dict[str, int]:
        """The committee in office around `today`: its term, meetings, materials and the 開催通知."""
        secretariat, chair, member = (User.objects.get(email=email) for email, *_rest in DEMO_ACCOUNTS[:3])
        counts = committee_demo.load_live(today=today)
        live = meetings_demo.load_live(today=today, secretariat=secretariat, member_user=member, chair_user=chair)
        counts |= documents_demo.load_live(secretariat=secretariat, past=live.past, upcoming=live.next)
        if live.next is not None:
            self._invite(live.next, secretariat)
        return counts | {
            "people": Person.objects.count(),
            "appointments": Appointment.objects.count(),
            "meetings": Meeting.objects.count(),
        }

    @staticmethod
    def _invite(meeting: Meeting, secretariat: User) -> None:
        """The 開催通知 of next month's meeting goes to the members in office (mail to var/mail in
        development); afterwards the 次第 is revised and waits for the chair again."""
        if not Notice.objects.filter(meeting=meeting, kind=Notice.Kind.CONVOCATION).exists():
            notice_services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
        meetings_demo.live_revise_next(meeting=meeting, secretariat=secretariat)

    def _accounts(self) -> list[tuple[str, str, str]]:
        created = []
        unit = OrgUnit.objects.get(code="dx-suishin")
        for email, role, person_name, is_secretariat in DEMO_ACCOUNTS:
            if User.objects.filter(email=email).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(email=email, password=password, is_staff=is_secretariat)
            if is_secretariat:
                StaffAssignment.objects.create(user=user, unit=unit, start_on=dt.date(2023, 4, 1))
            if person_name:
                person = Person.objects.get(family_name=person_name[0], given_name=person_name[1])
                if person.user_id is None:
                    person.user = user
                    person.email = person.email or email
                    person.save(update_fields=["user", "email"])
            created.append((email, password, role))
        return created

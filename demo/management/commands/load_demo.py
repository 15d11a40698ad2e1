"""Load the Aomori demo data and create the demo accounts. Running it again changes nothing."""

import datetime as dt
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from committee import demo as committee_demo
from committee.models import Body, OrgUnit, Person, StaffAssignment
from core.models import User
from documents import demo as documents_demo
from fees import demo as fees_demo
from meetings import demo as meetings_demo
from participation import demo as participation_demo

DEMO_ACCOUNTS = [
    # email, role shown, person (family, given) or None, is staff of the secretariat
    ("secretariat@demo.dxplan.example", "事務局 (DX推進課)", None, True),
    ("chair@demo.dxplan.example", "委員長 (森 樹男)", ("森", "樹男"), False),
    ("member@demo.dxplan.example", "委員 (石井 重成)", ("石井", "重成"), False),
    ("director@demo.dxplan.example", "企画政策部長 (招集者: 委員長選任前の次第を承認)", None, False),
    ("deputy@demo.dxplan.example", "企画政策部次長 (令和4年度庁内WG座長)", None, False),
]
CONVENERS = {"dx-plan-committee": "director@demo.dxplan.example", "dx-wg-2022": "deputy@demo.dxplan.example"}


class Command(BaseCommand):
    help = "Load the demo data of the Aomori DX plan committee (FY2023) and create demo accounts."

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
            counts |= participation_demo.load(secretariat=User.objects.get(email=DEMO_ACCOUNTS[0][0]))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data: {bodies} bodies, {people} people, {appointments} appointments, {meetings} meetings.".format(
                    **counts
                )
            )
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

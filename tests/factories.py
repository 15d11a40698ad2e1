"""factory_boy factories for the roster. Dates default to the demo's FY2023."""
import datetime as dt

import factory
from factory.django import DjangoModelFactory

from committee.models import (
    Affiliation,
    Appointment,
    Body,
    Guideline,
    GuidelineArticle,
    OrgUnit,
    OrgUnitName,
    Person,
    StaffAssignment,
)
from core.models import User

FY2023_START = dt.date(2023, 4, 1)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@test.example")
    password = factory.django.Password("correct horse battery staple")


class OrgUnitFactory(DjangoModelFactory):
    class Meta:
        model = OrgUnit
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"unit-{n}")
    kind = OrgUnit.Kind.DIVISION
    name = factory.RelatedFactory(
        "tests.factories.OrgUnitNameFactory", factory_related_name="unit", name=factory.Sequence(lambda n: f"課{n}")
    )


class OrgUnitNameFactory(DjangoModelFactory):
    class Meta:
        model = OrgUnitName

    unit = factory.SubFactory(OrgUnitFactory, name=None)
    name = factory.Sequence(lambda n: f"課{n}")
    valid_from = dt.date(2000, 4, 1)


class BodyFactory(DjangoModelFactory):
    class Meta:
        model = Body

    name = factory.Sequence(lambda n: f"テスト委員会{n}")
    short_name = factory.Sequence(lambda n: f"委員会{n}")
    slug = factory.Sequence(lambda n: f"body-{n}")
    kind = Body.Kind.GUIDELINE_COMMITTEE
    secretariat = factory.SubFactory(OrgUnitFactory)
    has_external_members = True


class GuidelineFactory(DjangoModelFactory):
    class Meta:
        model = Guideline

    body = factory.SubFactory(BodyFactory)
    title = factory.LazyAttribute(lambda o: f"{o.body.name}設置要綱")
    effective_on = dt.date(2023, 4, 13)
    term_rule = Guideline.TermRule.FIXED_DATE
    term_fixed_end = dt.date(2024, 3, 31)
    convener_title = "青森県企画政策部長"
    appointing_authority = "青森県企画政策部長"


class GuidelineArticleFactory(DjangoModelFactory):
    class Meta:
        model = GuidelineArticle

    guideline = factory.SubFactory(GuidelineFactory)
    position = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"第{o.position}")
    heading = "設置"
    text = "委員会を設置する。"


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    family_name = factory.Sequence(lambda n: f"山田{n}")
    given_name = "太郎"
    family_name_kana = "やまだ"
    given_name_kana = "たろう"


class AppointmentFactory(DjangoModelFactory):
    """A raw row; tests of the rules use services.appointment_create instead."""

    class Meta:
        model = Appointment

    body = factory.SubFactory(BodyFactory)
    person = factory.SubFactory(PersonFactory)
    category = Appointment.Category.MEMBER
    appointed_on = dt.date(2023, 5, 10)
    term_start = dt.date(2023, 5, 10)
    term_end = dt.date(2024, 3, 31)


class AffiliationFactory(DjangoModelFactory):
    class Meta:
        model = Affiliation

    appointment = factory.SubFactory(AppointmentFactory)
    text = "株式会社テスト代表取締役"
    valid_from = factory.LazyAttribute(lambda o: o.appointment.term_start)


class StaffAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = StaffAssignment

    user = factory.SubFactory(UserFactory, is_staff=True)
    unit = factory.SubFactory(OrgUnitFactory)
    start_on = dt.date(2020, 4, 1)

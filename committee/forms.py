"""The secretariat's roster forms: an early end (辞任・解嘱・死亡), a new 所属・役職, a successor, an officer's end."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Appointment, Person

DATE = forms.DateInput(attrs={"type": "date"})
EARLY_ENDS = [(value, label) for value, label in Appointment.EndReason.choices
              if value != Appointment.EndReason.EXPIRED]


class EndForm(forms.Form):
    ended_on = forms.DateField(label=_("Last day in office"), widget=DATE)
    reason = forms.ChoiceField(label=_("Reason"), choices=EARLY_ENDS)


class AffiliationForm(forms.Form):
    valid_from = forms.DateField(label=_("From"), widget=DATE)
    text = forms.CharField(label=_("New affiliation and title"), max_length=200)


class SuccessorForm(forms.Form):
    family_name = forms.CharField(label=_("Family name"), max_length=60)
    given_name = forms.CharField(label=_("Given name"), max_length=60, required=False)
    family_name_kana = forms.CharField(label=_("Family name reading"), max_length=80)
    given_name_kana = forms.CharField(label=_("Given name reading"), max_length=80, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Person.Gender.choices], required=False)
    email = forms.EmailField(label=_("Contact email"), required=False)
    affiliation = forms.CharField(label=_("Affiliation and title"), max_length=200, required=False)
    appointed_on = forms.DateField(label=_("Appointed on (委嘱日)"), widget=DATE)


class OfficerEndForm(forms.Form):
    end_on = forms.DateField(label=_("Last day in the post"), widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

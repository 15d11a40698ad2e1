"""The secretariat's roster forms: an early end (辞任・解嘱・死亡), a new 所属・役職, a successor, an officer's end."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Appointment, Body, Guideline, Person
from .services import BODY_EDITABLE

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


# --- renewal (改選) ----------------------------------------------------------------------------

MEMBER_CATEGORIES = [(value, label) for value, label in Appointment.Category.choices
                     if value in Appointment.MEMBER_CATEGORIES]


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        select = isinstance(field.widget, forms.Select)
        css = "form-select form-select-sm" if select else "form-control form-control-sm"
        field.widget.attrs.setdefault("class", css)


class RenewalForm(forms.Form):
    """The new term: its first day, the guidelines version it follows and the date of 委嘱."""

    term_start = forms.DateField(label=_("First day of the new term"), widget=DATE)
    guideline = forms.TypedChoiceField(label=_("Guidelines version"), coerce=int)
    appointed_on = forms.DateField(label=_("Appointed on (委嘱日)"), widget=DATE, required=False,
                                   help_text=_("Empty: the first day of the term."))

    def __init__(self, *args, guidelines: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["guideline"]).choices = guidelines
        _styled(self)


class NewMemberForm(forms.Form):
    """One member a renewal adds: someone already on the roster, or a new person."""

    person = forms.TypedChoiceField(label=_("Someone already on the roster"), coerce=int, required=False,
                                    empty_value=None)
    family_name = forms.CharField(label=_("Family name"), max_length=60, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=60, required=False)
    family_name_kana = forms.CharField(label=_("Family name reading"), max_length=80, required=False)
    given_name_kana = forms.CharField(label=_("Given name reading"), max_length=80, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Person.Gender.choices], required=False)
    email = forms.EmailField(label=_("Contact email"), required=False)
    affiliation = forms.CharField(label=_("Affiliation and title"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=MEMBER_CATEGORIES,
                                 initial=Appointment.Category.MEMBER)

    def __init__(self, *args, people: list[tuple[int | str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["person"]).choices = [("", "—"), *people]
        _styled(self)

    def has_changed(self) -> bool:
        # The category has a default: a row with nothing else filled in is an empty row.
        return any(name in self.changed_data for name in self.fields if name != "category")

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("person") is None and not (data.get("family_name") and data.get("family_name_kana")):
            raise forms.ValidationError(_("Give the family name and its reading, or choose someone on the roster."))
        return data


NewMemberFormSet = forms.formset_factory(NewMemberForm, extra=3, max_num=200, validate_max=True)


class GuidelineAmendForm(forms.Form):
    """改正 of the guidelines from a chosen day: the rules of the term that a renewal applies."""

    effective_on = forms.DateField(label=_("In force from"), widget=DATE)
    amendment_note = forms.CharField(label=_("What changed"), max_length=250)
    term_rule = forms.ChoiceField(label=_("Term of office"), choices=Guideline.TermRule.choices)
    term_years = forms.IntegerField(label=_("Term in years"), min_value=1, max_value=10, required=False)
    term_fixed_end = forms.DateField(label=_("Terms end on"), widget=DATE, required=False)
    reappointment_allowed = forms.BooleanField(label=_("Reappointment allowed"), required=False)
    max_consecutive_terms = forms.IntegerField(label=_("At most this many consecutive terms"), min_value=1,
                                               max_value=20, required=False, help_text=_("Empty: no limit."))
    appointing_authority = forms.CharField(label=_("Appointed by"), max_length=100, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _styled(self)
        self.fields["reappointment_allowed"].widget.attrs["class"] = "form-check-input"


class BodyEditForm(forms.Form):
    """The body's own details the secretariat keeps (services.BODY_EDITABLE); labels from the model."""

    def __init__(self, *args, parents, conveners, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Body, fields=BODY_EDITABLE))
        for name in ("established_on", "dissolved_on"):
            self.fields[name].widget = DATE
        parent = cast(forms.ModelChoiceField, self.fields["parent"])
        parent.queryset = parents
        convener = cast(forms.ModelChoiceField, self.fields["convener_account"])
        convener.queryset = conveners
        for name in ("has_external_members", "is_public"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        _styled(self)

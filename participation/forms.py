"""Forms of 傍聴 and subscriptions."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from .models import ObservationSettings, Registration


class ObservationSettingsForm(forms.ModelForm):
    class Meta:
        model = ObservationSettings
        fields = ["public_seats", "press_seats", "max_party", "opens_at", "closes_at", "method"]
        widgets = {
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


class GuideForm(forms.Form):
    text = forms.CharField(label=_("rules for observers (傍聴要領)"), widget=forms.Textarea(attrs={"rows": 12}))


class RegistrationForm(forms.Form):
    kind = forms.ChoiceField(label=_("You are"), choices=Registration.Kind.choices, initial=Registration.Kind.PUBLIC)
    name = forms.CharField(label=_("Name"), max_length=100)
    organisation = forms.CharField(label=_("Organisation (press only)"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email address"), help_text=_("We send a link to confirm it; the seat counts "
                                                                    "once you have opened it."))
    party_size = forms.IntegerField(label=_("Number in your party, you included"), min_value=1, initial=1)
    accept = forms.BooleanField(label=_("I have read the rules for observers (傍聴要領) and accept them."))
    # A field people do not see (hidden by CSS and from screen readers); bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, max_party: int = 1, press: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party_size"].validators.append(MaxValueValidator(max_party))
        self.fields["party_size"].widget.attrs["max"] = max_party
        if not press:
            kind = self.fields["kind"]
            assert isinstance(kind, forms.ChoiceField)
            kind.choices = [(Registration.Kind.PUBLIC, Registration.Kind.PUBLIC.label)]
            del self.fields["organisation"]


class SubscriptionForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    website = forms.CharField(required=False, label=_("Leave this empty"))

"""The secretariat's forms: a version of the rules, a correction of a statement, who is paid.
Forms check input; the services decide what may change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import FeeKind, Post, RuleSet

YEN_MIN, YEN_MAX = 0, 10_000_000


def _yen(label: Any, *, required: bool = False, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, help_text=help_text, min_value=YEN_MIN, max_value=YEN_MAX)


class RuleSetForm(forms.Form):
    """One version of a body's fee rules (支給基準), in force from a date."""

    effective_on = forms.DateField(
        label=_("In force from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Meetings on or after this date use these rules, until the next version."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=FeeKind.choices)
    basis = forms.CharField(label=_("Basis (条例・要領)"), max_length=250, required=False)
    member_venue = _yen(_("Member, at the venue (yen)"), required=True)
    member_online = _yen(_("Member, online (yen)"), required=True)
    chair_venue = _yen(_("Chair, at the venue (yen)"), help_text=_("Empty: the member's amount."))
    chair_online = _yen(_("Chair, online (yen)"))
    vice_chair_venue = _yen(_("Vice chair, at the venue (yen)"), help_text=_("Empty: the member's amount."))
    vice_chair_online = _yen(_("Vice chair, online (yen)"))
    travel = forms.ChoiceField(label=_("Travel"), choices=RuleSet.Travel.choices)
    travel_for_online = forms.BooleanField(label=_("Travel is also paid for online attendance"), required=False)
    bands = forms.CharField(
        label=_("Distance bands"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One band a line: the distance up to which it applies (km, one way) and the amount, e.g. "
            "“50 1200”. The last line may be “- 3000” for any longer distance."
        ),
    )
    withholding = forms.ChoiceField(label=_("Withholding"), choices=RuleSet.Withholding.choices)
    withholding_rate = forms.DecimalField(
        label=_("Withholding rate (%)"),
        required=False,
        min_value=Decimal("0.001"),
        max_value=Decimal("99.999"),
        decimal_places=3,
        initial=Decimal("10.21"),
    )
    rounding = forms.ChoiceField(label=_("Rounding of the tax"), choices=RuleSet.Rounding.choices)

    def clean_bands(self) -> list[tuple[int | None, int]]:
        bands: list[tuple[int | None, int]] = []
        for number, line in enumerate(self.cleaned_data.get("bands", "").splitlines(), start=1):
            parts = line.replace(",", "").split()
            if not parts:
                continue
            try:
                if len(parts) != 2:
                    raise ValueError
                km = None if parts[0] in ("-", "－") else int(parts[0])
                amount = int(parts[1])
                if amount < 0 or (km is not None and km < 0):
                    raise ValueError
            except ValueError:
                raise ValidationError(
                    _("Line %(n)d: write the distance in km and the amount in yen, e.g. “50 1200”.") % {"n": number}
                ) from None
            bands.append((km, amount))
        limits = [km for km, _a in bands if km is not None]
        if limits != sorted(limits) or len(set(limits)) != len(limits):
            raise ValidationError(_("List the bands from the shortest distance to the longest."))
        if any(km is None for km, _a in bands[:-1]):
            raise ValidationError(_("Only the last band may be without a distance."))
        return bands

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs type it as Optional
        if data.get("withholding") == RuleSet.Withholding.RATE and not data.get("withholding_rate"):
            self.add_error("withholding_rate", _("Give the withholding rate, e.g. 10.21."))
        if data.get("travel") == RuleSet.Travel.BAND and not data.get("bands") and "bands" not in self.errors:
            self.add_error("bands", _("Give at least one distance band."))
        return data

    def rates(self) -> dict[str, tuple[int, int]]:
        data = self.cleaned_data
        member = (data["member_venue"], data["member_online"])
        rates = {Post.MEMBER.value: member}
        for post in (Post.CHAIR, Post.VICE_CHAIR):
            venue, online = data.get(f"{post.value}_venue"), data.get(f"{post.value}_online")
            if venue is not None or online is not None:
                rates[post.value] = (
                    venue if venue is not None else member[0],
                    online if online is not None else member[1],
                )
        return rates


class CorrectionForm(forms.Form):
    """Amounts entered for one statement (a fare, the tax by the table) or corrected, with the reason."""

    fare = _yen(_("Actual fare (yen)"), help_text=_("When the rules pay the actual fare of the trip."))
    table_tax = _yen(_("Tax by the withholding table (yen)"), help_text=_("When the rules withhold by the table."))
    base_override = _yen(_("Corrected amount (yen)"), help_text=_("Empty: the amount the rules give."))
    travel_override = _yen(_("Corrected travel (yen)"), help_text=_("Empty: the travel the rules give."))
    tax_override = _yen(_("Corrected tax (yen)"), help_text=_("Empty: the tax the rules give."))
    reason = forms.CharField(label=_("Reason"), max_length=250, help_text=_("Kept in the statement's history."))


class PayeeForm(forms.Form):
    """Who is not paid (with the reason) and each person's distance, for the body's current roster."""

    def __init__(self, *args: Any, people: list[Any], settings: dict[int, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = people
        for person in people:
            setting = settings.get(person.pk)
            self.fields[f"excluded_{person.pk}"] = forms.BooleanField(
                label=_("Not paid"), required=False, initial=bool(setting and setting.excluded)
            )
            self.fields[f"reason_{person.pk}"] = forms.CharField(
                label=_("Reason"), max_length=200, required=False, initial=setting.excluded_reason if setting else ""
            )
            self.fields[f"distance_{person.pk}"] = forms.IntegerField(
                label=_("Distance (km)"),
                required=False,
                min_value=0,
                max_value=10_000,
                initial=setting.distance_km if setting else None,
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs type it as Optional
        for person in self.people:
            if data.get(f"excluded_{person.pk}") and not (data.get(f"reason_{person.pk}") or "").strip():
                self.add_error(f"reason_{person.pk}", _("Say why this person is not paid (e.g. 県職員のため)."))
        return data

    def rows(self) -> list[tuple[Any, Any, Any, Any]]:
        return [(p, self[f"excluded_{p.pk}"], self[f"reason_{p.pk}"], self[f"distance_{p.pk}"]) for p in self.people]

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPTokenForm


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        # Accounts are stored with the address in lower case (UserManager), so Taro@Example.jp logs in too.
        return self.cleaned_data["username"].lower()

    def clean(self):
        # An address that is not an address (line breaks, 300 characters, NUL) never reaches authenticate(),
        # which is what signals a failed login: signal it here, so the audit and axes count it like any other.
        raw_username = self.data.get("username", "")
        if "username" not in self.cleaned_data and (raw_username or self.data.get("password")):
            user_login_failed.send(sender=__name__, credentials={"username": str(raw_username)}, request=self.request)
        return super().clean()


class SecondFactorForm(OTPTokenForm):
    """The one-time code after the password: one field. The code is tried against every confirmed
    device of the account (authenticator app or backup codes), so nobody has to pick a device."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        label=_("One-time code"),
        help_text=_("The six digits your authenticator app shows now, or one of your backup codes."),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def _chosen_device(self, user):
        # django-otp wants the device named; six digits come from the app, anything else is a backup code.
        device = super()._chosen_device(user)
        if device is not None:
            return device
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
        return model.objects.filter(user=user, confirmed=True).order_by("pk").first()


class PasswordResetRequestForm(forms.Form):
    """Asks for the address only; the view answers the same whether an account has it or not."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ContactForm(forms.Form):
    """A member's own contact details (their person record), saved through person_update_contact."""

    email = forms.EmailField(
        label=_("Contact email"),
        required=False,
        max_length=254,
        help_text=_("Where the secretariat writes to you. Your login address does not change."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    postal_address = forms.CharField(
        label=_("Postal address"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"autocomplete": "street-address", "rows": 3}),
    )

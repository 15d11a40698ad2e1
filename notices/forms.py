"""Forms of the notices pages."""

from __future__ import annotations

from django import forms

from .models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["reminders", "materials", "copy_to"]

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeesConfig(AppConfig):
    name = "fees"
    verbose_name = _("Fees and travel (報酬・謝金, 費用弁償・旅費)")

    def ready(self) -> None:
        from meetings.signals import attendance_changed

        from . import receivers

        attendance_changed.connect(receivers.on_attendance_changed, dispatch_uid="fees.attendance_changed")

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _register_relay(sender, **kwargs) -> None:
    """Create the beat entry for notices.relay once the tables exist; running migrate again changes nothing."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    every, _created = IntervalSchedule.objects.using(using).get_or_create(
        every=settings.DXPLAN_MAIL_RELAY_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.using(using).update_or_create(
        name="notices.relay", defaults={"task": "notices.tasks.relay", "interval": every, "enabled": True}
    )
    # Every morning at 9:00 Tokyo time: minutes past their body's deadline (at most once a day per meeting).
    morning, _created = CrontabSchedule.objects.using(using).get_or_create(
        minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Tokyo"
    )
    PeriodicTask.objects.using(using).update_or_create(
        name="notices.remind_minutes_overdue",
        defaults={"task": "notices.tasks.remind_minutes_overdue", "crontab": morning, "interval": None,
                  "enabled": True},
    )


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self) -> None:
        post_migrate.connect(_register_relay, sender=self, dispatch_uid="notices.register_relay")

        from core import outbox
        from documents import recorders

        from . import receivers, tasks  # noqa: F401 - registers the tasks, which services queue by name
        from .services import outbox_discard, outbox_states, outbox_write, queue_outbox

        # Inside the transaction of the publication: the 資料掲載のお知らせ is recorded with it, or neither.
        recorders.on_published("notices", receivers.on_material_published)
        recorders.on_hidden("notices", receivers.on_material_hidden)
        # The floors below notices (accounts: invitations, password resets) write their mails through
        # core.outbox, and read their state there.
        outbox.register(writer=outbox_write, queue=queue_outbox, states=outbox_states, discard=outbox_discard)
        from meetings.signals import absence_recorded

        absence_recorded.connect(receivers.on_absence_recorded, dispatch_uid="notices.absence_recorded")
        from meetings.signals import minutes_sent_for_confirmation

        minutes_sent_for_confirmation.connect(
            receivers.on_minutes_sent_for_confirmation, dispatch_uid="notices.minutes_sent_for_confirmation"
        )

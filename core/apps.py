from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _register_relay(sender, **kwargs) -> None:
    """The beat entry that re-queues invitations left waiting; running migrate again changes nothing."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    every, _created = IntervalSchedule.objects.using(using).get_or_create(every=300, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.using(using).update_or_create(
        name="core.relay_invitations",
        defaults={"task": "core.tasks.relay_invitations", "interval": every, "enabled": True},
    )


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Accounts and audit")

    def ready(self) -> None:
        from . import signals  # noqa: F401

        post_migrate.connect(_register_relay, sender=self, dispatch_uid="core.register_relay")

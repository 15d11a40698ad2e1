from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _register_purge(sender, **kwargs) -> None:
    """Create the daily beat entry that deletes observers' personal data; running migrate again changes nothing."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    nightly, _created = CrontabSchedule.objects.using(using).get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Tokyo"
    )
    PeriodicTask.objects.using(using).update_or_create(
        name="participation.purge",
        defaults={"task": "participation.tasks.purge_personal_data", "crontab": nightly, "enabled": True},
    )


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = _("Public participation")

    def ready(self) -> None:
        post_migrate.connect(_register_purge, sender=self, dispatch_uid="participation.register_purge")

        from core.models import AuditEntry
        from documents import recorders

        from . import receivers, tasks  # noqa: F401 - registers the task

        # The meetings services send no signal of their own; each change writes its audit entry in its
        # transaction, and that entry is what this app listens to.
        post_save.connect(receivers.on_audit_entry, sender=AuditEntry, dispatch_uid="participation.audit")
        recorders.on_published("participation", receivers.on_material_published)

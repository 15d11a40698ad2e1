from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _register_relay(sender, **kwargs) -> None:
    """The beat entry that hands invitations written before the outbox to it; running migrate again changes
    nothing."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    every, _created = IntervalSchedule.objects.using(using).get_or_create(every=300, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.using(using).update_or_create(
        name="core.relay_invitations",
        defaults={"task": "committee.tasks.relay_invitations", "interval": every, "enabled": True},
    )


class CommitteeConfig(AppConfig):
    name = "committee"
    verbose_name = _("Bodies and rosters")

    def ready(self) -> None:
        from core import outbox
        from core.roles import require_second_factor_for

        from .accounts import INVITATION_TOPIC, invitation_mail_failed
        from .selectors import is_secretariat

        # An invitation's mail that the outbox gives up on is audited as such.
        outbox.on_failed(INVITATION_TOPIC, invitation_mail_failed)

        # The secretariat sees private data (contact details, drafts): it gives a one-time code too.
        require_second_factor_for(is_secretariat)
        # The beat entry keeps its first name (core.relay_invitations) so an upgrade updates it in place.
        post_migrate.connect(_register_relay, sender=self, dispatch_uid="core.register_relay")

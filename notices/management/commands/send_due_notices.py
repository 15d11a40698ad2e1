from django.core.management.base import BaseCommand

from committee.tasks import relay_invitations
from notices import services


class Command(BaseCommand):
    help = (
        "Do the periodic relay's work in-process: queue pending deliveries, send due reminders and due "
        "notices of published materials, and queue invitations left waiting (for cron)."
    )

    def handle(self, *args, **options):
        result = services.relay()
        invitations = relay_invitations()
        self.stdout.write(
            f"requeued={result['requeued']} reminders={result['reminders']} materials={result['materials']} "
            f"invitations={invitations}"
        )

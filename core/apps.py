from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Accounts and audit")

    def ready(self) -> None:
        from . import checks, logredact, pagecache, signals  # noqa: F401

        pagecache.connect()
        logredact.install()


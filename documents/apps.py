from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Meeting materials")

    def ready(self) -> None:
        # Meeting pages list the materials a user may see; meetings sits below documents and learns
        # how through this registration, never an import.
        from meetings.views import register_materials_lister

        from . import tasks  # noqa: F401 - registers the tasks, which services queue by name
        from .access import materials_visible_to

        register_materials_lister(materials_visible_to)

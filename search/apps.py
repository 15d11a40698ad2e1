from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from committee.models import Body, Guideline, GuidelineArticle
        from documents.models import Material
        from documents.signals import material_text_read
        from meetings.models import Agenda, Meeting, Minutes, MinutesEntry

        from . import receivers

        # The sources live on lower floors and learn nothing of the index: it listens.
        for model, receiver in (
            (Body, receivers.on_body_saved),
            (Meeting, receivers.on_meeting_saved),
            (Agenda, receivers.on_agenda_saved),
            (Material, receivers.on_material_saved),
            (MinutesEntry, receivers.on_minutes_entry_saved),
            (Minutes, receivers.on_minutes_saved),
        ):
            post_save.connect(receiver, sender=model, dispatch_uid=f"search.{model.__name__}")
        for source in (Guideline, GuidelineArticle):
            post_save.connect(receivers.on_article_changed, sender=source, dispatch_uid=f"search.{source.__name__}")
            post_delete.connect(
                receivers.on_article_changed, sender=source, dispatch_uid=f"search.{source.__name__}.deleted"
            )
        material_text_read.connect(receivers.on_material_text_read, dispatch_uid="search.material_text_read")

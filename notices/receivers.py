"""What notices records when other apps change something (registered in NoticesConfig.ready): materials
published or hidden, inside the transaction of the change (documents.recorders)."""

from __future__ import annotations

from . import announcements


def on_material_published(sender, material, replaced: bool = False, **kwargs) -> None:
    announcements.material_announce(material_id=material.pk, replaced=replaced)


def on_material_hidden(sender, material, **kwargs) -> None:
    announcements.material_forget(material_id=material.pk)

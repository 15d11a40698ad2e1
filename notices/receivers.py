"""Receivers of other apps' signals (connected in NoticesConfig.ready)."""

from __future__ import annotations

from . import announcements


def on_material_published(sender, material, replaced: bool = False, **kwargs) -> None:
    announcements.material_announce(material_id=material.pk, replaced=replaced)


def on_material_hidden(sender, material, **kwargs) -> None:
    announcements.material_forget(material_id=material.pk)

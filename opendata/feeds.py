"""Atom feeds (django.contrib.syndication) for the site and for each public body: meetings when planned,
changed, postponed or cancelled, materials when published or replaced, and minutes when published.

An entry's id names the state it reports (a meeting's revision and status, a material's file version),
so a change appears as a new entry in a feed reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from committee.models import Body
from meetings.models import Meeting

from . import selectors, timestamps

ENTRIES = 50


@dataclass(frozen=True)
class Entry:
    title: str
    link: str
    description: str
    updated: dt.datetime
    guid: str
    category: str


def _abs(name: str, args: list | None = None) -> str:
    # Absolute from SITE_URL: the syndication framework would otherwise take the request's Host header.
    return settings.SITE_URL + reverse(name, args=args)


def _tag(name: str, when: dt.datetime) -> str:
    domain = settings.SITE_URL.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    return f"tag:{domain},{timezone.localdate(when).isoformat()}:{name}"


def _meeting_kind(m: Meeting) -> str:
    if m.status == Meeting.Status.CANCELLED:
        return _("Cancelled")
    if m.status == Meeting.Status.POSTPONED:
        return _("Postponed")
    if m.sequence:
        return _("Changed")
    return _("Meeting")


def _meeting_entries(body: Body | None) -> list[Entry]:
    qs = timestamps.meetings(selectors.meetings()).select_related("body")
    if body is not None:
        qs = qs.filter(body=body)
    entries = []
    for m in qs.order_by("-modified_ts")[:ENTRIES]:
        kind = _meeting_kind(m)
        lines = [m.when_ja, " ".join(v for v in (m.venue_name, m.venue_room) if v), m.theme]
        if m.cancel_reason and m.status in (Meeting.Status.CANCELLED, Meeting.Status.POSTPONED):
            lines.append(m.cancel_reason)
        entries.append(
            Entry(
                title=f"【{kind}】{m.body.short_name} {m.label} {m.title}",
                link=_abs("meetings:detail", args=[m.pk]),
                description="\n".join(v for v in lines if v),
                updated=m.modified_ts,
                guid=_tag(f"meeting-{m.pk}-{m.sequence}-{m.status}", m.modified_ts),
                category=kind,
            )
        )
    return entries


def _material_entries(body: Body | None) -> list[Entry]:
    qs = timestamps.materials(selectors.materials()).select_related("meeting__body", "current_version")
    if body is not None:
        qs = qs.filter(meeting__body=body)
    entries = []
    for m in qs.order_by("-modified_ts")[:ENTRIES]:
        version = m.current_version
        kind = _("Material replaced") if version.number > 1 else _("Material published")
        size = _("%(format)s, %(size)s bytes") % {"format": version.extension.upper(), "size": f"{version.size:,}"}
        entries.append(
            Entry(
                title=f"【{kind}】{m.meeting.body.short_name} {m.meeting.label} {m}",
                link=_abs("meetings:detail", args=[m.meeting_id]),
                description=size,
                updated=m.modified_ts,
                guid=_tag(f"material-{m.pk}-{version.number}", m.modified_ts),
                category=kind,
            )
        )
    return entries


def _minutes_entries(body: Body | None) -> list[Entry]:
    qs = selectors.meetings().filter(selectors.public_minutes_q("minutes__")).select_related("body", "minutes")
    if body is not None:
        qs = qs.filter(body=body)
    entries = []
    for m in qs.order_by("-minutes__published_at")[:ENTRIES]:
        if not selectors.minutes_published(m):
            continue
        kind = _("Minutes published")
        when = m.minutes.published_at or m.created_at
        entries.append(
            Entry(
                title=f"【{kind}】{m.body.short_name} {m.label} {m.minutes.get_kind_display()}",
                link=_abs("meetings:detail", args=[m.pk]) + "#minutes-heading",
                description=m.title,
                updated=when,
                guid=_tag(f"minutes-{m.pk}", when),
                category=kind,
            )
        )
    return entries


def entries(body: Body | None) -> list[Entry]:
    found = _meeting_entries(body) + _material_entries(body) + _minutes_entries(body)
    return sorted(found, key=lambda e: e.updated, reverse=True)[:ENTRIES]


class SiteFeed(Feed):
    feed_type = Atom1Feed
    language = "ja"

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        # The syndication framework writes the feed a bit at a time; the server sends each piece of a response
        # apart, and the page cache keeps them so (6.9 ms from the cache through gunicorn against 2.9 ms whole).
        response.content = response.content
        return response

    def get_object(self, request: HttpRequest, *args, **kwargs) -> Body | None:
        return None

    def title(self, obj: Body | None) -> str:
        return _("%(organisation)s advisory bodies: updates") % {"organisation": settings.DXPLAN_ORGANISATION_NAME}

    def link(self, obj: Body | None) -> str:
        return _abs("committee:home")

    def subtitle(self, obj: Body | None) -> str:
        return _("Meetings planned, changed or cancelled; materials and minutes published.")

    def feed_url(self, obj: Body | None) -> str:
        return _abs("opendata:site_feed")

    def feed_guid(self, obj: Body | None) -> str:
        return self.feed_url(obj)

    def author_name(self, obj: Body | None) -> str:
        return settings.DXPLAN_ORGANISATION_NAME

    def feed_copyright(self, obj: Body | None) -> str:
        return f"{settings.DXPLAN_OPENDATA_LICENSE_NAME} {settings.DXPLAN_OPENDATA_LICENSE_URL}"

    def items(self, obj: Body | None) -> list[Entry]:
        return entries(obj)

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.description

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_guid(self, item: Entry) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_updateddate(self, item: Entry) -> dt.datetime:
        return item.updated

    def item_pubdate(self, item: Entry) -> dt.datetime:
        return item.updated

    def item_categories(self, item: Entry) -> list[str]:
        return [item.category]


class BodyFeed(SiteFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Body:
        body = selectors.organizations().filter(slug=slug).first()
        if body is None:
            raise Http404
        return body

    def title(self, obj: Body | None) -> str:
        return _("%(body)s: updates") % {"body": obj.name if obj else ""}

    def link(self, obj: Body | None) -> str:
        return _abs("committee:body_detail", args=[obj.slug]) if obj else _abs("committee:home")

    def feed_url(self, obj: Body | None) -> str:
        return _abs("opendata:body_feed", args=[obj.slug]) if obj else _abs("opendata:site_feed")


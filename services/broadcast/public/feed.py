"""The Atom feed of active alerts: one entry per alert, each carrying its CAP document inline
(``<content type="application/cap+xml">``) and linking to it (``/public/alerts/{id}.cap``).

Active means: the city's alert about an open public incident, each national alert the view
finds relayable and not expired, updated or cancelled (``PublicView.active_alerts``), and each
disaster text message sent to Seoul that has not expired (``PublicView.active_disaster_messages``,
written as CAP by ``disaster_messages``). A closed
incident's entry leaves the feed; its ``.cap`` address then answers the ``Cancel`` message.
A document the schema refuses is left out and logged, never served broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from lxml import etree

from services.broadcast.public.cap import CAP_12, SENDER, city_alert, relayed_alert, schema_problems, xml_text
from services.broadcast.public.disaster_messages import disaster_message_alert
from services.broadcast.public.mapping import cap_time
from services.broadcast.public.view import PublicView
from shared.events.cap import CapAlert

__all__ = ["ATOM", "FeedEntry", "alert_document", "build_feed", "entries"]

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "urn:jikimi:public:alerts"
# The default namespace's key is None, which lxml-stubs' Mapping[str, str] does not admit.
_DEFAULT_NAMESPACE: Any = {None: ATOM}

log = structlog.get_logger()


@dataclass(frozen=True)
class FeedEntry:
    """One alert of the feed: its stream id (an incident or a received alert), when it last
    changed, its title, and the CAP alert element."""

    id: UUID
    updated: datetime
    title: str
    category: str
    element: etree._Element


def alert_document(view: PublicView, alert_id: UUID, *, base_url: str = "") -> etree._Element | None:
    """The CAP document behind ``/public/alerts/{id}.cap``: a public incident's latest message
    (its Cancel once closed), a relayable national alert or a disaster text message sent to Seoul,
    even one no longer active."""
    incident = view.incidents.get(alert_id)
    if incident is not None and incident.latest is not None:
        return _checked(alert_id, city_alert(incident, base_url=base_url))
    received = view.alerts.get(alert_id)
    if received is not None and received.alert is not None and received.scope == "Public":
        return _checked(alert_id, relayed_alert(received.alert))
    message = view.disaster_messages.get(alert_id)
    if message is not None:
        return _checked(alert_id, relayed_alert(disaster_message_alert(message)))
    return None


def entries(view: PublicView, now: datetime, *, base_url: str = "") -> Iterator[FeedEntry]:
    """The feed's entries: city alerts, then national ones (CAP alerts and disaster text
    messages together), each newest change first."""
    for incident in view.public_incidents():
        latest = incident.latest
        assert latest is not None  # public incidents have issued at least their Alert
        element = _checked(incident.id, city_alert(incident, base_url=base_url))
        if element is not None:
            yield FeedEntry(incident.id, latest.sent, incident.headline or incident.title, _category(element), element)
    national: list[tuple[UUID, CapAlert]] = []
    for received in view.active_alerts(now):
        assert received.alert is not None  # relayable alerts have theirs
        national.append((received.originator_id, received.alert))
    national += [(m.originator_id, disaster_message_alert(m)) for m in view.active_disaster_messages(now)]
    for alert_id, alert in sorted(national, key=lambda pair: pair[1].sent, reverse=True):
        element = _checked(alert_id, relayed_alert(alert))
        if element is not None:
            info = alert.infos[0]
            yield FeedEntry(alert_id, alert.sent, info.headline or info.event, _category(element), element)


def build_feed(view: PublicView, now: datetime, *, base_url: str = "") -> bytes:
    """The Atom document of every active alert, as UTF-8 bytes."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=_DEFAULT_NAMESPACE)
    found = list(entries(view, now, base_url=base_url))
    _add(feed, "id", FEED_ID)
    _add(feed, "title", "서울 재난 경보 · Seoul public alerts (Jikimi)")
    _add(feed, "updated", cap_time(max((e.updated for e in found), default=now)))
    author = _add(feed, "author")
    _add(author, "name", "서울특별시 지키미")
    _add(author, "email", SENDER)
    _link(feed, "self", f"{base_url}/public/alerts.atom", "application/atom+xml")
    for entry in found:
        element = _add(feed, "entry")
        _add(element, "id", f"urn:uuid:{entry.id}")
        _add(element, "title", entry.title)
        _add(element, "updated", cap_time(entry.updated))
        etree.SubElement(element, f"{{{ATOM}}}category", term=entry.category)
        _link(element, "alternate", f"{base_url}/public/alerts/{entry.id}.cap", "application/cap+xml")
        content = _add(element, "content")
        content.set("type", "application/cap+xml")
        content.append(entry.element)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")


def _checked(alert_id: UUID, alert: etree._Element) -> etree._Element | None:
    problems = schema_problems(alert)
    if problems:
        log.error("public_alert_invalid", alert_id=str(alert_id), problems=problems[:5])
        return None
    return alert


def _category(alert: etree._Element) -> str:
    found = alert.findtext(f"{{{CAP_12}}}info/{{{CAP_12}}}category")
    return found or "Other"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    if text is not None:
        child.text = xml_text(text)
    return child


def _link(parent: etree._Element, rel: str, href: str, media_type: str) -> None:
    etree.SubElement(parent, f"{{{ATOM}}}link", rel=rel, href=href, type=media_type)

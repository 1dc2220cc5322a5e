"""Citizens subscribed to a district, and the guide each gets when an incident opens there.

``Subscriptions`` are folded from broadcast's own log (``SubscriptionAdded``/``Removed``). The
use cases ``subscribe``/``unsubscribe`` decide against that view; ``DistrictGuides.handle`` is
the consumer handler that turns intake's ``IncidentOpened`` (and national CAP alerts naming
Seoul districts) into the alert batches of the district's subscribers (``alerts.py``), with
ids derived from the cause so a redelivered event asks for nothing twice.

Reporters are not handled here: intake's own answer to a report already carries the guide
(``services/intake/replies.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from services.broadcast.alerts import alert_batches
from shared import geo, taxonomy
from shared.eventlog.view import LogView
from shared.events import Event
from shared.events.broadcast import AlertBatchRequested, AlertRecipient, SubscriptionAdded, SubscriptionRemoved
from shared.events.cap import CapInfo
from shared.events.intake import CapAlertReceived, IncidentOpened
from shared.guides import UnknownGuideError, get_guide
from shared.privacy import Privacy

__all__ = [
    "CHANNELS",
    "KIND",
    "LANGUAGES",
    "DistrictGuides",
    "Subscription",
    "SubscriptionError",
    "Subscriptions",
    "guide_text",
    "subscribe",
    "subscription_id",
    "unsubscribe",
]

KIND = "district_guide"
CHANNELS = ("sms", "kakao", "telegram", "email")
LANGUAGES = ("ko", "en")
_TAGS = frozenset({SubscriptionAdded.family(), SubscriptionRemoved.family()})


class SubscriptionError(ValueError):
    """Raised when a subscription names a district, channel or language Jikimi does not serve;
    ``field`` names the request field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Subscription(msgspec.Struct, frozen=True, gc=False):
    id: UUID
    version: int
    subscriber: str
    district_code: str
    channel: str
    address_sealed: str
    language: str
    active: bool = True


def subscription_id(subscriber: str, district_code: str) -> UUID:
    """One stream per subscriber (pseudonym of channel and address) and district."""
    return uuid5(NAMESPACE_URL, f"jikimi:subscription:{subscriber}:{district_code}")


class Subscriptions(LogView):
    """Every subscription by id, and the active ones by district, from broadcast's log."""

    topics = _TAGS  # the log is mostly deliveries: only subscription events are decoded

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.reset()

    def reset(self) -> None:
        """Forget everything (the next catch-up reads the whole log again)."""
        with self.lock:
            self.position = 0
            self.all: dict[UUID, Subscription] = {}
            self.by_district: dict[str, dict[UUID, Subscription]] = {}

    def apply(self, event: Event) -> None:
        if not isinstance(event, SubscriptionAdded | SubscriptionRemoved):
            return
        with self.lock:
            current = self.all.get(event.originator_id)
            if event.originator_version != (current.version if current else 0) + 1:
                return
            if isinstance(event, SubscriptionAdded):
                after = Subscription(
                    event.originator_id,
                    event.originator_version,
                    event.subscriber,
                    event.district_code,
                    event.channel,
                    event.address_sealed,
                    event.language,
                )
                self.by_district.setdefault(after.district_code, {})[after.id] = after
            elif current is not None:
                after = msgspec.structs.replace(current, version=event.originator_version, active=False)
                self.by_district.get(current.district_code, {}).pop(current.id, None)
            else:
                return
            self.all[after.id] = after

    def of_district(self, district_code: str) -> list[Subscription]:
        """The active subscriptions of a district, in id order (stable, so replays agree)."""
        with self.lock:
            return sorted(self.by_district.get(district_code, {}).values(), key=lambda s: s.id)


@dataclass(frozen=True)
class Subscribed:
    """The subscription, what to record for it, and whether it is new (not active before)."""

    subscription: Subscription
    events: Sequence[Event]
    created: bool


_ADDRESSES = {
    "sms": re.compile(r"^\+?[0-9][0-9 -]{6,19}$"),
    "kakao": re.compile(r"^\+?[0-9][0-9 -]{6,19}$"),
    "telegram": re.compile(r"^-?[0-9]{1,20}$"),
    "email": re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"),
}


def subscribe(
    view: Subscriptions, privacy: Privacy, *, district_code: str, channel: str, address: str, language: str
) -> Subscribed:
    """The subscription for these, recorded unless it is active already (then no events)."""
    if geo.district_by_code(district_code) is None:
        raise SubscriptionError("district_code", "not one of Seoul's 25 district codes")
    if channel not in CHANNELS:
        raise SubscriptionError("channel", f"one of {', '.join(CHANNELS)}")
    if language not in LANGUAGES:
        raise SubscriptionError("language", f"one of {', '.join(LANGUAGES)}")
    if not _ADDRESSES[channel].match(address) or len(address) > 254:
        raise SubscriptionError("address", f"not a {channel} address")
    subscriber = privacy.pseudonym(channel, address)
    stream = subscription_id(subscriber, district_code)
    current = view.all.get(stream)
    if current is not None and current.active and current.language == language:
        return Subscribed(current, (), created=False)
    added = SubscriptionAdded(
        originator_id=stream,
        originator_version=(current.version if current else 0) + 1,
        subscriber=subscriber,
        district_code=district_code,
        channel=channel,
        address_sealed=privacy.seal_address(channel, address),
        language=language,
    )
    if current is not None and current.active:  # a new language: removed, then added again
        removed = SubscriptionRemoved(
            originator_id=stream,
            originator_version=current.version + 1,
            subscriber=subscriber,
            district_code=district_code,
        )
        added = msgspec.structs.replace(added, originator_version=current.version + 2)
        return Subscribed(_of(added), (removed, added), created=False)
    return Subscribed(_of(added), (added,), created=True)


def _of(added: SubscriptionAdded) -> Subscription:
    return Subscription(
        added.originator_id,
        added.originator_version,
        added.subscriber,
        added.district_code,
        added.channel,
        added.address_sealed,
        added.language,
    )


def unsubscribe(view: Subscriptions, stream: UUID) -> Sequence[Event]:
    """``SubscriptionRemoved`` for an active subscription; nothing if it is gone already."""
    current = view.all.get(stream)
    if current is None or not current.active:
        return ()
    return [
        SubscriptionRemoved(
            originator_id=stream,
            originator_version=current.version + 1,
            subscriber=current.subscriber,
            district_code=current.district_code,
        )
    ]


_WORDS = {
    "ko": ("[지키미] {where}에서 {what} 발생: {title}", "담당 기관이 대응 중입니다. 안내에 따라 주세요."),
    "en": ("[Jikimi] {what} in {where}: {title}", "Responders are on it. Follow their instructions."),
}


def guide_text(disaster_type: str, language: str, *, district_code: str, title: str) -> str:
    """What a subscriber reads: what happened and where, then the short guide for its type."""
    district = geo.district_by_code(district_code)
    english = language == "en"
    where = (district.en if english else district.ko) if district else district_code
    try:
        kind = taxonomy.get(disaster_type)
        what = kind.en if english else kind.ko
    except taxonomy.UnknownDisasterTypeError:
        what = disaster_type
    head, fallback = _WORDS["en" if english else "ko"]
    lines = [head.format(where=where, what=what, title=title)]
    try:
        guide = get_guide(disaster_type).text(language)
        lines.append(f"[{guide.title}]\n{guide.short}")
    except UnknownGuideError:
        lines.append(fallback)
    return "\n".join(lines)


def _cap_text(alert: CapAlertReceived, language: str) -> str | None:
    infos: list[CapInfo] = list(alert.alert.infos) if alert.alert else []
    if not infos:
        return None
    english = language == "en"
    chosen = next((i for i in infos if i.language.lower().startswith("en") == english), infos[0])
    parts = [chosen.headline or chosen.event, chosen.instruction or ""]
    return "\n".join(p for p in parts if p)


class DistrictGuides:
    """The consumer handler: an incident opened (or a national alert) in a district → one guide
    delivery per subscriber of it. Reads ``view``, which must be the consumer's state."""

    def __init__(self, view: Subscriptions) -> None:
        self.view = view

    def handle(self, event: Event) -> Sequence[Event]:
        if isinstance(event, IncidentOpened):
            return self._incident(event)
        if isinstance(event, CapAlertReceived):
            return self._alert(event)
        return ()

    def _incident(self, event: IncidentOpened) -> list[Event]:
        location = event.location
        district = location.district_code if location else None
        if district is None and location is not None and location.point is not None:
            found = geo.district_at(location.point.lat, location.point.lon)
            district = found.code if found else None
        if district is None:
            return []
        texts = {
            language: guide_text(event.disaster_type, language, district_code=district, title=event.title)
            for language in LANGUAGES
        }
        return [*self._batches(event, self.view.of_district(district), texts, event.incident_id)]

    def _alert(self, event: CapAlertReceived) -> list[Event]:
        if event.status != "Actual" or event.msg_type not in {"Alert", "Update"} or event.scope != "Public":
            return []
        texts = {language: text for language in LANGUAGES if (text := _cap_text(event, language)) is not None}
        chosen: dict[str, Subscription] = {}  # one message per subscriber, however many districts it names
        for district in sorted(set(event.district_codes)):
            for s in self.view.of_district(district):
                chosen.setdefault(s.subscriber, s)
        return [*self._batches(event, [s for s in chosen.values() if s.language in texts], texts, None)]

    @staticmethod
    def _batches(
        cause: Event, subscriptions: Sequence[Subscription], texts: dict[str, str], incident_id: UUID | None
    ) -> list[AlertBatchRequested]:
        recipients = ((s.channel, AlertRecipient(s.subscriber, s.address_sealed, s.language)) for s in subscriptions)
        return alert_batches(cause, recipients, texts, kind=KIND, incident_id=incident_id)

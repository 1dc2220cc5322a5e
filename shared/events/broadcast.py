"""Events of the broadcast service: every delivery to a person, step by step.

A delivery's stream is the delivery. It is requested once (its id follows from what caused
it), then each attempt is recorded, and its end: delivered, or failed for good. The address is
sealed; the recipient is a pseudonym or a member id, never a phone number.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

import msgspec

from shared.events.base import Event
from shared.events.common import ContactRef
from shared.events.community import EngagedDepartment

__all__ = [
    "AlertBatchAttempted",
    "AlertBatchRequested",
    "AlertBatchSent",
    "AlertFailure",
    "AlertRecipient",
    "DeliveryAcknowledged",
    "DeliveryAttempted",
    "DeliveryDelivered",
    "DeliveryEscalated",
    "DeliveryFailed",
    "DeliveryRequested",
    "DeliveryWithdrawn",
    "LiveFannedOut",
    "LiveReached",
    "live_delivery_id",
    "member_of",
]


class DeliveryRequested(Event, frozen=True, tag="broadcast.delivery_requested"):
    """Something must reach ``recipient`` on ``channel`` (``kind`` says what: a reporter's notice …)."""

    recipient: str
    channel: str
    kind: str
    text: str
    address_sealed: str = ""
    language: str = "ko"
    alternates: list[ContactRef] = msgspec.field(default_factory=list)
    """Other channels to fall back to, in order, when ``channel`` fails for good."""
    data: dict[str, str] = msgspec.field(default_factory=dict)
    """What a live client shows beside the text (a room message's author and number …)."""
    ack_within_s: int | None = None
    """Once delivered, if the recipient has not acknowledged it (answered, or seen it live) within
    this many seconds, it goes on to the next of the alternates as well."""
    link_until: datetime | None = None
    """The message carries a link (an invitation's, a room's) minted when sent, valid until then;
    the text holds ``{link}`` where it goes. No link is ever stored in an event."""
    sitrep: SitRep | None = None
    """A briefing's situation report, for a channel that carries structured data beside the text
    (a department's webhook gets it as JSON); None for every other message."""


class DeliveryAttempted(Event, frozen=True, tag="broadcast.delivery_attempted"):
    attempt: int
    channel: str


class DeliveryDelivered(Event, frozen=True, tag="broadcast.delivery_delivered"):
    """The channel accepted the message (``provider_id`` is its own id for it, if it gave one).
    ``kind`` and ``recipient`` repeat the request's, so the service that asked can tell."""

    attempt: int
    channel: str
    provider_id: str = ""
    kind: str = ""
    recipient: str = ""


class DeliveryFailed(Event, frozen=True, tag="broadcast.delivery_failed"):
    """An attempt failed; ``retry_at`` is when the next one is due, or None when it is final."""

    attempt: int
    channel: str
    error: str
    retry_at: datetime | None = None
    next_channel: str = ""
    """Set when the delivery goes on on the next of the request's alternates (from ``retry_at``)."""
    kind: str = ""
    recipient: str = ""

    @property
    def final(self) -> bool:
        """No attempt follows: the message did not reach the recipient on any channel."""
        return self.retry_at is None and not self.next_channel


class DeliveryEscalated(Event, frozen=True, tag="broadcast.delivery_escalated"):
    """Delivered on ``channel`` but not acknowledged in time: it goes on to ``next_channel``."""

    channel: str
    next_channel: str
    reason: str = ""


class DeliveryAcknowledged(Event, frozen=True, tag="broadcast.delivery_acknowledged"):
    """The recipient saw it: acknowledged on their live stream (``by`` is ``role:id``)."""

    recipient: str
    kind: str = ""
    by: str = ""


class DeliveryWithdrawn(Event, frozen=True, tag="broadcast.delivery_withdrawn"):
    """What the message was for ended before it was answered (an invitation released or timed
    out): it is not sent, sent again or escalated any more."""

    recipient: str = ""
    kind: str = ""
    reason: str = ""


# A room message goes to the live streams of its room's members as one fan-out: one event for
# the whole room (a room of 1,000 is one row, not 1,000), holding one delivery per member whose
# id is ``live_delivery_id(fan-out id, member)``. Which of them reached an open stream is
# recorded in rounds on the fan-out's stream; each member's acknowledgement is the first event
# of their delivery's own stream.


_ROLE_OF_KIND = {
    "invitation": "expert",
    "release_notice": "expert",
    "briefing": "department",
    "room_link": "citizen",
    "reporter_notice": "citizen",
    "district_guide": "citizen",
    "seat_unfillable": "operator",
}


def member_of(recipient: str, kind: str) -> str:
    """Who a delivery is for, as ``role:id``, from its recipient and what it is (an expert's
    invitation names the bare expert id; an operators' alert is for every operator)."""
    if recipient == "operators":
        return "operator:*"
    if ":" in recipient:
        return recipient
    return f"{_ROLE_OF_KIND.get(kind, 'member')}:{recipient}"


def live_delivery_id(fan_out_id: UUID, member: str) -> UUID:
    """The id of ``member``'s delivery within a fan-out."""
    return uuid5(fan_out_id, member)


class LiveFannedOut(Event, frozen=True, tag="broadcast.live_fanned_out"):
    """A message for the live streams of ``members`` (``role:id``): one delivery each."""

    members: list[str]
    kind: str = "room_message"
    text: str = ""
    data: dict[str, str] = msgspec.field(default_factory=dict)


class LiveReached(Event, frozen=True, tag="broadcast.live_reached"):
    """These members' deliveries of the fan-out reached an open stream of theirs (SSE, WebSocket)."""

    members: list[str]


# An alert to many (an incident opened in a district: its subscribers) goes out in batches of at
# most 500 recipients, each batch one stream: requested once, then each attempt (the recipients
# it tries) and how it ended for each of them. A recipient's delivery id within a batch is
# ``live_delivery_id(batch id, recipient)``, as for a fan-out. Ten thousand recipients are twenty
# events to record, publish and read, not thirty thousand.


class AlertRecipient(msgspec.Struct, frozen=True, gc=False):
    recipient: str
    """The subscriber's pseudonym."""
    address_sealed: str
    """``channel:address``, sealed."""
    language: str = "ko"


class AlertFailure(msgspec.Struct, frozen=True, gc=False):
    recipient: str
    error: str


class AlertBatchRequested(Event, frozen=True, tag="broadcast.alert_batch_requested"):
    """One message, in each recipient's language (``texts`` by language), to these recipients on
    ``channel``."""

    channel: str
    kind: str
    recipients: list[AlertRecipient]
    texts: dict[str, str]


class AlertBatchAttempted(Event, frozen=True, tag="broadcast.alert_batch_attempted"):
    """Attempt ``attempt`` of the batch, to ``recipients`` (those still to reach)."""

    attempt: int
    recipients: list[str]


class AlertBatchSent(Event, frozen=True, tag="broadcast.alert_batch_sent"):
    """How attempt ``attempt`` ended for each recipient it tried: the channel took the message
    (``delivered``), refused it for good (``failed``), or is to be asked again at ``retry_at``."""

    attempt: int
    delivered: list[str] = msgspec.field(default_factory=list)
    failed: list[AlertFailure] = msgspec.field(default_factory=list)
    retry: list[str] = msgspec.field(default_factory=list)
    retry_at: datetime | None = None


# Briefings: situation reports (EDXL-SitRep-like) for an incident's engaged departments. What
# broadcast learns of an incident from intake and community is noted first, one stream per
# upstream event (uuid5 of "jikimi:briefing-fact:<event id>"), so noting never contends with
# issuing; each report is one event on the incident's briefing stream (uuid5 of
# "jikimi:briefings:<incident id>") whose version is the report's number.


class BriefingSeat(msgspec.Struct, frozen=True):
    """A seat of the community as planned: its field and how many experts it needs."""

    field: str
    needed: int


class BriefingFactNoted(Event, frozen=True, tag="broadcast.briefing_fact_noted"):
    """A fact about an incident that its briefings report, taken from ``cause`` (an upstream tag).

    A ``significant`` one calls for a report by ``due_at`` (its upstream time plus the debounce,
    or at once): the next report is due at the earliest such time among the facts no report
    covers yet, so a burst of changes makes one report. No reporter or phone is ever noted."""

    cause: str
    significant: bool = False
    reason: str = ""
    due_at: datetime | None = None
    disaster_type: str = ""
    severity: str = ""
    title: str = ""
    district_code: str | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    reports: int = 0
    """The change in the number of reports linked to the incident (+1, -1)."""
    text: str = ""
    casualties_injured: int | None = None
    casualties_dead: int | None = None
    next_update_at: datetime | None = None
    seats: list[BriefingSeat] = msgspec.field(default_factory=list)
    engaged: list[EngagedDepartment] = msgspec.field(default_factory=list)
    """The departments engaged from now on (empty: unchanged), with their sealed briefing channels."""
    expert_id: str = ""
    seat_field: str = ""
    member_status: str = ""
    """invited, accepted, declined, timed_out, released, or unfillable (then ``text`` says why)."""
    outcome: str = ""


class SitRepUpdate(msgspec.Struct, frozen=True):
    at: datetime
    text: str


class SituationInformation(msgspec.Struct, frozen=True, kw_only=True):
    """What happened and where: type, severity, place, reports so far, updates, what changed."""

    title: str = ""
    disaster_type: str = ""
    severity: str = ""
    district_code: str | None = None
    district: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    reports: int = 0
    opened_at: datetime | None = None
    status: str = "open"
    outcome: str = ""
    changes: list[str] = msgspec.field(default_factory=list)
    """What changed since the previous report (empty for a scheduled one with nothing new)."""
    updates: list[SitRepUpdate] = msgspec.field(default_factory=list)
    """The latest situation updates, newest last."""
    next_update_expected: datetime | None = None


class CasualtySummary(msgspec.Struct, frozen=True):
    """Casualties as last reported; None where nobody has said."""

    injured: int | None = None
    dead: int | None = None
    as_of: datetime | None = None


class SitRepSeat(msgspec.Struct, frozen=True):
    field: str
    needed: int
    filled: int = 0
    invited: int = 0
    unfillable: bool = False
    reason: str = ""


class SitRepMember(msgspec.Struct, frozen=True):
    """An expert by id and field only."""

    expert_id: str
    field: str
    status: str


class SitRepDepartment(msgspec.Struct, frozen=True):
    id: str
    name: str
    kind: str


class ResponseResources(msgspec.Struct, frozen=True):
    """The community: its seats (filled/needed), its experts, the departments engaged."""

    seats: list[SitRepSeat] = msgspec.field(default_factory=list)
    members: list[SitRepMember] = msgspec.field(default_factory=list)
    departments: list[SitRepDepartment] = msgspec.field(default_factory=list)


class SitRepBody(msgspec.Struct, frozen=True):
    situation: SituationInformation
    casualties: CasualtySummary = msgspec.field(default_factory=CasualtySummary)
    resources: ResponseResources = msgspec.field(default_factory=ResponseResources)


class SitRep(msgspec.Struct, frozen=True, kw_only=True):
    """One situation report, shaped after EDXL-SitRep (message id, preparer, purpose, number and
    version, period covered, incidents, severity, body, next report)."""

    message_id: UUID
    prepared_by: str
    prepared_at: datetime
    purpose: str
    report_number: int
    report_version: str
    """Initial, Update or Final."""
    period_from: datetime
    period_to: datetime
    incident_ids: list[UUID] = msgspec.field(default_factory=list)
    severity: str = ""
    body: SitRepBody
    next_report_at: datetime | None = None


class BriefingIssued(Event, frozen=True, tag="broadcast.briefing_issued"):
    """Report ``number`` of the incident was issued (and requested for each of ``recipients``)."""

    number: int
    version: str
    sitrep: SitRep
    reason: str = ""
    covers: list[UUID] = msgspec.field(default_factory=list)
    """The significant facts (BriefingFactNoted stream ids) this report answered."""
    recipients: list[str] = msgspec.field(default_factory=list)
    next_report_at: datetime | None = None
    """When the next scheduled report falls due (None: only changes call for one)."""


__all__ += [
    "BriefingFactNoted",
    "BriefingIssued",
    "BriefingSeat",
    "CasualtySummary",
    "ResponseResources",
    "SitRep",
    "SitRepBody",
    "SitRepDepartment",
    "SitRepMember",
    "SitRepSeat",
    "SitRepUpdate",
    "SituationInformation",
]


# Subscriptions: citizens who asked to be told when an incident opens in a district. A
# subscription's stream id is uuid5 of "jikimi:subscription:<subscriber>:<district code>", so the
# same channel, address and district make one stream however often they are sent. The address is
# sealed as "channel:address"; the subscriber is its pseudonym.


class SubscriptionAdded(Event, frozen=True, tag="broadcast.subscription_added"):
    """``subscriber`` (a pseudonym) wants the guides of incidents in ``district_code`` on ``channel``."""

    subscriber: str
    district_code: str
    channel: str
    address_sealed: str
    language: str = "ko"


class SubscriptionRemoved(Event, frozen=True, tag="broadcast.subscription_removed"):
    """The subscriber followed their unsubscribe link: nothing more for this district."""

    subscriber: str = ""
    district_code: str = ""


__all__ += ["SubscriptionAdded", "SubscriptionRemoved"]

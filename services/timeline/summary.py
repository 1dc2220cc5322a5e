"""One line per event, as an analyst reads a timeline: what happened, to whom, and why.

``summarize`` knows every event of the contract; an event it does not know (a type added later)
gets a line made from its tag. A summary names people only as the events do (``role:id``,
expert ids, pseudonyms) and never carries a sealed address, a contact, a reply-to or a link:
those fields are simply never read here.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from zoneinfo import ZoneInfo

from shared import geo
from shared.events import Event, family_of
from shared.events.broadcast import (
    AlertBatchAttempted,
    AlertBatchRequested,
    AlertBatchSent,
    BriefingFactNoted,
    BriefingIssued,
    DeliveryAcknowledged,
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryEscalated,
    DeliveryFailed,
    DeliveryRequested,
    DeliveryWithdrawn,
    LiveFannedOut,
    LiveReached,
    SubscriptionAdded,
    SubscriptionRemoved,
)
from shared.events.community import (
    CommunityAssembled,
    CommunityClosed,
    ExpertAvailabilityChanged,
    ExpertChanged,
    ExpertRegistered,
    ExpertRetired,
    InvitationAccepted,
    InvitationDeclined,
    InvitationDelivered,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
    MemberReleased,
    MessagePosted,
    ReporterJoined,
    ReporterLeft,
    SeatPlanned,
    SeatsChanged,
    SeatUnfillable,
)
from shared.events.intake import (
    CapAlertReceived,
    DisasterMessageReceived,
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    ReportAmended,
    ReportCancelled,
    ReporterNoticeQueued,
    ReportLinked,
    ReportReceived,
    ReportUnlinked,
    SituationUpdated,
)
from shared.events.system import ProbeEchoed, ProbeSent
from shared.events.timeline import TimelineExported

__all__ = ["generic_summary", "summarize"]

SEOUL = ZoneInfo("Asia/Seoul")

_KINDS = {
    "invitation": "Invitation",
    "release_notice": "Release notice",
    "briefing": "Briefing",
    "room_link": "Room link",
    "room_message": "Room message",
    "reporter_notice": "Notice",
    "seat_unfillable": "Unfillable-seat alert",
    "district_guide": "District guide",
}


def summarize(event: Event) -> str:
    """One short line saying what ``event`` is about, for any event (older versions are upcast)."""
    return _summary(event.upcast())


def generic_summary(event: Event) -> str:
    """The line of an event nothing more is known of: its tag in words (``Subscription added (broadcast)``)."""
    service, _, name = family_of(event.wire_tag()).partition(".")
    return f"{name.replace('_', ' ').capitalize()} ({service})"


@singledispatch
def _summary(event: Event) -> str:
    return generic_summary(event)


def _quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return f"'{flat[: limit - 1]}…'" if len(flat) > limit else f"'{flat}'"


def _why(reason: str, limit: int = 80) -> str:
    """``: reason``, cut to a line; nothing when there is no reason."""
    flat = " ".join(reason.split())
    if not flat:
        return ""
    return f": {flat[: limit - 1]}…" if len(flat) > limit else f": {flat}"


def _district(code: str | None) -> str:
    district = geo.district_by_code(code) if code else None
    return f" in {district.en}" if district else (f" in district {code}" if code else "")


def _kst(at: datetime) -> str:
    return at.astimezone(SEOUL).strftime("%H:%M:%S KST")


def _short(value: object) -> str:
    return str(value)[:8]


def _what(kind: str) -> str:
    return _KINDS.get(kind, kind.replace("_", " ").capitalize() or "Delivery")


def _seats(seats: list[SeatPlanned]) -> str:
    needed = sum(s.count for s in seats)
    listed = ", ".join(f"{s.field}: {s.count}" for s in seats)
    return f"{needed} seat{'s' if needed != 1 else ''} ({listed})" if seats else "no seats"


# intake


@_summary.register
def _report_received(event: ReportReceived) -> str:
    c = event.classification
    judged = f"{c.disaster_type}, {c.confidence:.2f}" if c.disaster_type else "unclassified"
    said = _quote(event.text) if event.text else f"{len(event.attachments)} attachment(s), no text"
    return f"Report received on {event.channel}: {said} ({judged})"


@_summary.register
def _report_amended(event: ReportAmended) -> str:
    parts = [_quote(event.text)] if event.text else []
    if event.attachments:
        parts.append(f"{len(event.attachments)} attachment(s)")
    if event.location is not None:
        parts.append(f"a better location{_district(event.location.district_code)}")
    if event.classification is not None and event.classification.disaster_type:
        parts.append(f"now {event.classification.disaster_type}, {event.classification.confidence:.2f}")
    return f"Report amended: {'; '.join(parts) or 'no new content'}"


@_summary.register
def _report_cancelled(event: ReportCancelled) -> str:
    return f"Report cancelled by {event.by}{_why(event.reason)}"


@_summary.register
def _incident_opened(event: IncidentOpened) -> str:
    where = _district(event.location.district_code if event.location else None)
    return (
        f"Incident opened by {event.opened_by}: {event.disaster_type} ({event.severity}) "
        f"{_quote(event.title)}{where}{_why(event.reason)}"
    )


@_summary.register
def _report_linked(event: ReportLinked) -> str:
    distance = f" ({event.distance_km:.1f} km away)" if event.distance_km else ""
    return f"Report {_short(event.report_id)} from {event.reporter} linked by {event.by}{distance}{_why(event.reason)}"


@_summary.register
def _report_unlinked(event: ReportUnlinked) -> str:
    return f"Report {_short(event.report_id)} from {event.reporter} unlinked by {event.by}{_why(event.reason)}"


@_summary.register
def _incident_reclassified(event: IncidentReclassified) -> str:
    return (
        f"Reclassified by {event.by} from {event.previous_type} ({event.previous_severity}) "
        f"to {event.disaster_type} ({event.severity}){_why(event.reason)}"
    )


@_summary.register
def _incident_escalated(event: IncidentEscalated) -> str:
    return f"Escalated by {event.by} from {event.previous_severity} to {event.severity}{_why(event.reason)}"


@_summary.register
def _situation_updated(event: SituationUpdated) -> str:
    toll = ((event.casualties_injured, "injured"), (event.casualties_dead, "dead"))
    counted = [f"{n} {what}" for n, what in toll if n is not None]
    return f"Situation update by {event.by}: {_quote(event.text)}" + (f" ({', '.join(counted)})" if counted else "")


@_summary.register
def _incident_made_public(event: IncidentMadePublic) -> str:
    return f"Made public by {event.by}" + (f": {_quote(event.headline)}" if event.headline else "")


@_summary.register
def _incident_closed(event: IncidentClosed) -> str:
    return f"Incident closed by {event.by}: {event.outcome or 'no outcome given'}"


@_summary.register
def _reporter_notice_queued(event: ReporterNoticeQueued) -> str:
    return f"Notice to reporter {event.reporter} queued on {event.channel}: {event.status}"


@_summary.register
def _cap_alert_received(event: CapAlertReceived) -> str:
    info = event.alert.infos[0] if event.alert and event.alert.infos else None
    what = _quote(info.headline or info.event) if info else event.identifier
    districts = f" ({len(event.district_codes)} Seoul districts)" if event.district_codes else ""
    return f"CAP alert {event.status} {event.msg_type} from {event.sender}: {what}{districts}"


@_summary.register
def _disaster_message_received(event: DisasterMessageReceived) -> str:
    return f"Disaster text message #{event.serial} ({event.level}, {event.disaster_type_ko}): {_quote(event.text)}"


# community


@_summary.register
def _community_assembled(event: CommunityAssembled) -> str:
    joining = "reporters join" if event.reporters_join else "reporters do not join"
    return (
        f"Community assembled for {event.disaster_type} ({event.severity}) under policy {event.policy_version}: "
        f"{_seats(event.seats)}, {len(event.departments)} department(s), {joining}"
    )


@_summary.register
def _member_invited(event: MemberInvited) -> str:
    return (
        f"Expert {event.expert_id} invited to the {event.seat_field} seat "
        f"(rank {event.rank}, score {event.score.total:.2f}){_why(event.reason or event.score.reason)}"
    )


@_summary.register
def _seat_unfillable(event: SeatUnfillable) -> str:
    skipped = f" ({len(event.skipped)} skipped)" if event.skipped else ""
    return f"The {event.seat_field} seat cannot be filled{skipped}{_why(event.reason)}"


@_summary.register
def _reporter_joined(event: ReporterJoined) -> str:
    return f"Reporter {event.reporter} joined the community"


@_summary.register
def _reporter_left(event: ReporterLeft) -> str:
    return f"Reporter {event.reporter} left the community{_why(event.reason)}"


@_summary.register
def _invitation_accepted(event: InvitationAccepted) -> str:
    by = f" (answered by {event.by})" if event.by and event.by != f"expert:{event.expert_id}" else ""
    return f"Expert {event.expert_id} accepted the {event.seat_field} seat{by}"


@_summary.register
def _invitation_declined(event: InvitationDeclined) -> str:
    return f"Expert {event.expert_id} declined the {event.seat_field} seat{_why(event.reason)}"


@_summary.register
def _invitation_timed_out(event: InvitationTimedOut) -> str:
    return f"Invitation to {event.expert_id} for the {event.seat_field} seat timed out unanswered"


@_summary.register
def _seats_changed(event: SeatsChanged) -> str:
    return (
        f"Seats changed for {event.disaster_type} ({event.severity}) under policy {event.policy_version}: "
        f"{_seats(event.seats)}{_why(event.reason)}"
    )


@_summary.register
def _member_released(event: MemberReleased) -> str:
    return f"Expert {event.expert_id} released from the {event.seat_field} seat{_why(event.reason)}"


@_summary.register
def _community_closed(event: CommunityClosed) -> str:
    return f"Community closed{_why(event.outcome)}"


@_summary.register
def _message_posted(event: MessagePosted) -> str:
    attached = (("a photo", bool(event.photo_ref)), ("a location", event.lat is not None))
    extras = [what for what, present in attached if present]
    said = _quote(event.text) if event.text else "no text"
    return f"Room message from {event.author} to {len(event.audience)} member(s): {said}" + (
        f" with {' and '.join(extras)}" if extras else ""
    )


@_summary.register
def _expert_registered(event: ExpertRegistered) -> str:
    fields = ", ".join(event.profile.fields)
    by = f" by {event.by}" if event.by else ""
    return f"Expert {event.expert_id} registered ({fields}){_district(event.profile.district_code)}{by}"


@_summary.register
def _expert_changed(event: ExpertChanged) -> str:
    changed = ", ".join(event.changed) or "nothing named"
    return f"Expert {event.expert_id}'s profile changed: {changed}" + (f" by {event.by}" if event.by else "")


@_summary.register
def _expert_retired(event: ExpertRetired) -> str:
    return f"Expert {event.expert_id} retired from the pool{_why(event.reason)}"


@_summary.register
def _expert_availability_changed(event: ExpertAvailabilityChanged) -> str:
    state = "available" if event.available else "unavailable"
    until = f" until {_kst(event.until)}" if event.until else ""
    return f"Expert {event.expert_id} marked {state}{until}{_why(event.reason)}"


@_summary.register
def _invitation_delivered(event: InvitationDelivered) -> str:
    return f"Invitation to {event.expert_id} delivered on {event.channel}"


@_summary.register
def _invitation_undeliverable(event: InvitationUndeliverable) -> str:
    moves_on = f"the {event.seat_field} seat moves on"
    return f"Invitation to {event.expert_id} reached no channel; {moves_on}{_why(event.error)}"


# broadcast


@_summary.register
def _delivery_requested(event: DeliveryRequested) -> str:
    fallbacks = f" (+{len(event.alternates)} fallback channel(s))" if event.alternates else ""
    return f"{_what(event.kind)} to {event.recipient} requested on {event.channel}{fallbacks}"


@_summary.register
def _delivery_attempted(event: DeliveryAttempted) -> str:
    return f"Delivery {_short(event.originator_id)}: attempt {event.attempt} on {event.channel}"


@_summary.register
def _delivery_delivered(event: DeliveryDelivered) -> str:
    to = f" to {event.recipient}" if event.recipient else f" {_short(event.originator_id)}"
    return f"{_what(event.kind)}{to} delivered on {event.channel} (attempt {event.attempt})"


@_summary.register
def _delivery_failed(event: DeliveryFailed) -> str:
    to = f" to {event.recipient}" if event.recipient else f" {_short(event.originator_id)}"
    if event.next_channel:
        then = f"; goes on on {event.next_channel}"
    elif event.retry_at is not None:
        then = f"; retry at {_kst(event.retry_at)}"
    else:
        then = "; failed for good"
    return f"{_what(event.kind)}{to} failed on {event.channel} (attempt {event.attempt}){_why(event.error)}{then}"


@_summary.register
def _delivery_escalated(event: DeliveryEscalated) -> str:
    return (
        f"Delivery {_short(event.originator_id)} not acknowledged in time on {event.channel}: "
        f"sent on {event.next_channel} too{_why(event.reason)}"
    )


@_summary.register
def _alert_batch_requested(event: AlertBatchRequested) -> str:
    languages = ", ".join(sorted(event.texts))
    return f"{_what(event.kind)} to {len(event.recipients)} subscriber(s) on {event.channel} asked for ({languages})"


@_summary.register
def _alert_batch_attempted(event: AlertBatchAttempted) -> str:
    return f"Alert batch {_short(event.originator_id)}: attempt {event.attempt} to {len(event.recipients)} recipient(s)"


@_summary.register
def _alert_batch_sent(event: AlertBatchSent) -> str:
    line = (
        f"Alert batch {_short(event.originator_id)}, attempt {event.attempt}: {len(event.delivered)} delivered, "
        f"{len(event.failed)} failed"
    )
    return line + (f", {len(event.retry)} to retry" if event.retry else "")


@_summary.register
def _delivery_withdrawn(event: DeliveryWithdrawn) -> str:
    return f"{_what(event.kind)} to {event.recipient} withdrawn before an answer{_why(event.reason)}"


@_summary.register
def _delivery_acknowledged(event: DeliveryAcknowledged) -> str:
    by = event.by or event.recipient
    return f"{_what(event.kind)} to {event.recipient} acknowledged by {by}"


@_summary.register
def _live_fanned_out(event: LiveFannedOut) -> str:
    author = event.data.get("author")
    return f"{_what(event.kind)}{f' from {author}' if author else ''} sent live to {len(event.members)} member(s)"


@_summary.register
def _live_reached(event: LiveReached) -> str:
    return f"Live message {_short(event.originator_id)} reached {len(event.members)} member(s)' open streams"


@_summary.register
def _briefing_fact_noted(event: BriefingFactNoted) -> str:
    weight = "significant" if event.significant else "noted"
    return f"Briefing fact from {event.cause} ({weight}){_why(event.reason)}"


@_summary.register
def _briefing_issued(event: BriefingIssued) -> str:
    return (
        f"Briefing {event.number} ({event.version}) issued to {len(event.recipients)} department(s){_why(event.reason)}"
    )


@_summary.register
def _subscription_added(event: SubscriptionAdded) -> str:
    return f"Subscriber {event.subscriber} follows{_district(event.district_code)} on {event.channel}"


@_summary.register
def _subscription_removed(event: SubscriptionRemoved) -> str:
    return f"Subscriber {event.subscriber or _short(event.originator_id)} unsubscribed{_district(event.district_code)}"


# system


@_summary.register
def _probe_sent(event: ProbeSent) -> str:
    return f"Pipeline probe sent by {event.service or 'a service'}" + (f" ({event.label})" if event.label else "")


@_summary.register
def _probe_echoed(event: ProbeEchoed) -> str:
    return f"Pipeline probe of {event.probe_service or 'a service'} echoed by {event.echoed_by or event.service}"


# timeline


@_summary.register
def _timeline_exported(event: TimelineExported) -> str:
    if event.scope == "range" and event.range_from and event.range_to:
        what = f"the incidents opened {event.range_from.isoformat()} to {event.range_to.isoformat()}"
    else:
        what = "this timeline"
    return f"Exported {what} as {event.format} by {event.by}" + (f" (via {event.via})" if event.via else "")

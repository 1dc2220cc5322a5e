"""A service's own log, folded into memory: the base of the views its decisions read."""

from __future__ import annotations

import threading

from eventsourcing.persistence import ApplicationRecorder, Notification

from shared.events import CODEC, Event, family_of

__all__ = ["LogView"]


class LogView:
    """Reads what the log has gained since the last catch-up and folds it in with ``apply``.

    Subclasses make ``apply`` idempotent (a stream's event applies only at its next version), so
    a writer may apply its own events at once and the catch-up may read them again."""

    topics: frozenset[str] | None = None
    """The event families (tags without version, ``Event.family()``) this view folds, if not all:
    the others are skipped undecoded."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._recorder = recorder
        self.lock = threading.RLock()
        self.position = 0

    def catch_up(self, batch: int = 5000) -> int:
        """Apply every event recorded since the last catch-up; returns how many were read.

        With ``topics``, PostgreSQL leaves the other events out (a log of ten thousand deliveries
        is not read through for the view of subscriptions), up to the last position committed when
        the catch-up began; every position before it is committed too (each insert holds the
        table's lock until it commits), so the view may stand there."""
        read = 0
        with self.lock:
            tags = self._tags()
            head = (self._recorder.max_notification_id() or 0) if tags else None
            while notifications := self._recorder.select_notifications(
                self.position, batch, stop=head, topics=tags, inclusive_of_start=False
            ):
                for notification in notifications:
                    if not self.holds(notification):
                        self.apply(CODEC.decode(notification.state))
                    self.position = notification.id
                read += len(notifications)
                if len(notifications) < batch:
                    break
            if head is not None:
                self.position = max(self.position, head)
        return read

    def _tags(self) -> list[str]:
        """Every wire tag (of every version) of the families in ``topics``; [] for all."""
        if self.topics is None:
            return []
        return [tag for tag in CODEC.tags if family_of(tag) in self.topics]

    def holds(self, notification: Notification) -> bool:
        """Whether the view holds this event already (a writer applies its own as it records them):
        then it is skipped undecoded. Without a cheap way to tell, False."""
        return False

    def apply(self, event: Event) -> None:
        raise NotImplementedError

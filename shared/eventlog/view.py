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
        """Apply every event recorded since the last catch-up; returns how many were read."""
        read = 0
        with self.lock:
            while notifications := self._recorder.select_notifications(self.position, batch, inclusive_of_start=False):
                for notification in notifications:
                    wanted = self.topics is None or family_of(notification.topic) in self.topics
                    if wanted and not self.holds(notification):
                        self.apply(CODEC.decode(notification.state))
                    self.position = notification.id
                read += len(notifications)
                if len(notifications) < batch:
                    break
        return read

    def holds(self, notification: Notification) -> bool:
        """Whether the view holds this event already (a writer applies its own as it records them):
        then it is skipped undecoded. Without a cheap way to tell, False."""
        return False

    def apply(self, event: Event) -> None:
        raise NotImplementedError

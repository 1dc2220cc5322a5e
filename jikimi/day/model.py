"""The plan's data: incidents, their timed actions, and the answers of the experts they invite.

Times are seconds from the day's midnight (Korea time); an incident opened late in the evening may
close after the next midnight.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "Action",
    "Answer",
    "Channel",
    "Close",
    "Escalate",
    "Incident",
    "MakePublic",
    "Message",
    "Plan",
    "Post",
    "Size",
    "UpdateSituation",
    "Weather",
]

Channel = Literal["kakao", "telegram", "sms", "web"]
Size = Literal["small", "medium", "large"]


class _Action(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    at_s: float
    """Seconds from the day's midnight."""


class Message(_Action, tag="message", frozen=True, kw_only=True):
    """A citizen's message on their channel. Messages of one ``citizen`` are one conversation."""

    channel: Channel
    citizen: int
    text: str = ""
    point: tuple[float, float] | None = None
    """A GPS fix (a Telegram location, the web page's geolocation): (lat, lon)."""
    address: str = ""
    """An address picked in KakaoTalk's location block."""
    placed: bool = True
    """Whether intake can tell where it is, once this message has arrived."""


class Escalate(_Action, tag="escalate", frozen=True, kw_only=True):
    """The operator raises the incident's severity one step."""

    operator: str
    reason: str


class UpdateSituation(_Action, tag="update", frozen=True, kw_only=True):
    operator: str
    text: str
    injured: int | None = None
    dead: int | None = None


class MakePublic(_Action, tag="public", frozen=True, kw_only=True):
    operator: str
    headline: str
    instruction: str


class Post(_Action, tag="post", frozen=True, kw_only=True):
    """A message in the incident's room, by the operator or by the first expert who accepted."""

    author: Literal["operator", "expert"]
    operator: str
    text: str


class Close(_Action, tag="close", frozen=True, kw_only=True):
    operator: str
    outcome: Literal["resolved", "false_alarm", "handed_over"]
    summary: str


Action = Message | Escalate | UpdateSituation | MakePublic | Post | Close


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """How an invited expert answers: ``after_s`` (plan seconds) after their invitation reached
    them; ``ignore`` leaves it to time out. ``via`` is the phone link or the app (their token)."""

    decision: Literal["accept", "decline", "ignore"]
    after_s: float = 0.0
    via: Literal["link", "app"] = "link"
    reason: str = ""


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    disaster_type: str
    district_code: str
    place: str
    """Where it is, as reporters name it (``마포구 합정동 빌라``)."""
    point: tuple[float, float]
    size: Size
    after: tuple[int, ...] = ()
    """Incidents that must be closed before this one's first report: of the same type, in the same
    district or near enough that intake would join this one's reports to them."""
    actions: tuple[Action, ...]
    answers: tuple[Answer, ...] = ()

    @property
    def messages(self) -> list[Message]:
        return [a for a in self.actions if isinstance(a, Message)]

    @property
    def reporters(self) -> int:
        """How many citizens report it (one report each, however many messages)."""
        return len({m.citizen for m in self.messages})


class Weather(msgspec.Struct, frozen=True):
    """A downpour or a snowfall: many incidents of its types between ``start_s`` and ``end_s``."""

    kind: Literal["storm", "snow"]
    start_s: float
    end_s: float


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    seed: int
    month: int
    weather: Weather | None
    incidents: tuple[Incident, ...]

    def timeline(self) -> list[tuple[float, int, Action]]:
        """Every action of the day in time order: (seconds from midnight, incident number, action)."""
        timed = [(a.at_s, i.number, a) for i in self.incidents for a in i.actions]
        return sorted(timed, key=lambda t: (t[0], t[1]))

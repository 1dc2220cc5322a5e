"""One incident of the day in full: who reports it on which channel with what words, what the
operators do and say, and how the experts it invites answer."""

from __future__ import annotations

import random
from typing import Literal

from jikimi.day import texts
from jikimi.day.layout import Slot
from jikimi.day.model import (
    Action,
    Answer,
    Channel,
    Close,
    Escalate,
    Incident,
    MakePublic,
    Message,
    Post,
    UpdateSituation,
)
from jikimi.day.places import HAN_RIVER_PARKS, HILLS, NEIGHBOURHOODS, STATIONS, STREAMS, address_in, point_near
from shared import geo, taxonomy

__all__ = ["build_incident"]

CHANNELS: dict[Channel, float] = {"kakao": 0.38, "web": 0.25, "sms": 0.22, "telegram": 0.15}
"""Which channel a reporter uses: KakaoTalk most, then the web page, SMS and Telegram."""

NEAR_KM = 0.5
"""How far from the incident its reporters stand."""

_CASUALTY_TYPES = {"fire", "explosion", "building_collapse", "traffic_accident", "subway_accident", "chemical_accident"}
_DAY_SHIFT, _NIGHT_SHIFT = ("op-kim", "op-lee"), ("op-park", "op-choi")


def _places(rng: random.Random, slot: Slot) -> tuple[str, str, str]:
    """How people name the place: in full (with the district), on the spot, and for a headline."""
    district = geo.district_by_code(slot.district_code)
    assert district is not None
    code, kind = slot.district_code, slot.disaster_type
    feature = {
        "subway_accident": lambda: rng.choice(STATIONS[code]),
        "landslide": lambda: f"{HILLS[code]} 아래 주택가",
        "forest_fire": lambda: f"{HILLS[code]} 등산로",
        "flood": lambda: STREAMS[code],
        "water_accident": lambda: HAN_RIVER_PARKS[code],
    }.get(kind)
    if feature is not None:
        spot = feature()
        return f"{district.ko} {spot}", f"여기 {spot}", spot
    neighbourhood, site = rng.choice(NEIGHBOURHOODS[code]), rng.choice(texts.SITES[kind])
    return f"{district.ko} {neighbourhood} {site}", f"여기 {site}", neighbourhood


def _report_times(rng: random.Random, slot: Slot) -> list[float]:
    """When each citizen reports: one or two for a small incident, a handful over a quarter of an
    hour for a medium one, a burst within minutes for a large one."""
    t0 = slot.at_s
    if slot.size == "small":
        return [t0, *([t0 + rng.uniform(60, 600)] if rng.random() < 0.3 else [])]
    if slot.size == "medium":
        return [t0, *sorted(t0 + min(rng.expovariate(1 / 240), 1800) for _ in range(rng.randint(2, 5)))]
    count = rng.randint(8, 25) if slot.in_weather else rng.randint(12, 40)
    return [t0, *sorted(t0 + min(rng.expovariate(1 / 150), 1200) for _ in range(count - 1))]


def _report(
    rng: random.Random, slot: Slot, names: tuple[str, str, str], *, at_s: float, citizen: int, first: bool
) -> list[Message]:
    """One citizen's report as the messages they send on their channel."""
    full, here, _ = names
    reports = texts.REPORTS[slot.disaster_type]
    shaken = slot.size == "large" and not first and reports.large and rng.random() < 0.5
    pool = reports.large if shaken else reports.usual
    template, opening = rng.choice(pool), rng.choice(texts.OPENINGS)
    said = {name: opening + template.format(place=name) for name in (full, here)}
    point = slot.point if first else point_near(slot.point, slot.district_code, rng, within_km=NEAR_KM)
    channel = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0]

    def message(text: str, *, at: float = at_s, **more: object) -> Message:
        placed = bool(more.get("point") or more.get("address")) or geo.find_district(text) is not None
        return Message(at_s=round(at, 1), channel=channel, citizen=citizen, text=text, placed=placed, **more)  # type: ignore[arg-type]

    roll = rng.random()
    if channel == "kakao" and roll < 0.3:  # the place picked in the location block
        neighbourhood = rng.choice(NEIGHBOURHOODS[slot.district_code])
        return [message(said[here], address=address_in(slot.district_code, neighbourhood, rng))]
    if channel == "telegram" and roll < 0.5:  # text first, then the location shared a little later
        return [message(said[here]), message("", at=at_s + rng.uniform(20, 90), point=point)]
    if channel == "web" and roll < 0.8:  # the page asked the browser where it is
        return [message(said[rng.choice((full, here))], point=point)]
    return [message(said[full])]  # SMS, and whoever names the place in full


def _operator(rng: random.Random, at_s: float) -> str:
    hour = int(at_s // 3600) % 24
    return rng.choice(_DAY_SHIFT if 7 <= hour < 19 else _NIGHT_SHIFT)


def _operations(rng: random.Random, slot: Slot, names: tuple[str, str, str], close_s: float) -> list[Action]:
    """Escalation, situation updates, going public and room posts, between opening and close."""
    t0, size, kind = slot.at_s, slot.size, slot.disaster_type
    actions: list[Action] = []
    if size == "large" or (size == "medium" and rng.random() < 0.15):
        at = t0 + (rng.uniform(120, 600) if size == "large" else rng.uniform(600, 1800))
        actions.append(Escalate(at_s=round(at, 1), operator=_operator(rng, at), reason="추가 신고로 피해 확산 확인"))
    updates = {"large": rng.randint(2, 4), "medium": rng.randint(0, 2), "small": int(rng.random() < 0.2)}[size]
    for n, at in enumerate(sorted(rng.uniform(t0 + 300, close_s - 300) for _ in range(updates))):
        text = rng.choice(texts.UPDATES.get(kind, texts.UPDATES[""])).format(n=rng.randint(2, 6))
        last = n == updates - 1 and size == "large" and kind in _CASUALTY_TYPES
        injured, dead = (rng.randint(0, 8), int(rng.random() < 0.05)) if last else (None, None)
        actions.append(
            UpdateSituation(at_s=round(at, 1), operator=_operator(rng, at), text=text, injured=injured, dead=dead)
        )
    if size == "large" or (size == "medium" and rng.random() < 0.15):
        at = t0 + rng.uniform(300, 900)
        district = geo.district_by_code(slot.district_code)
        assert district is not None
        headline = f"{district.ko} {names[2]} {taxonomy.get(kind).ko}"
        instruction = texts.INSTRUCTIONS.get(kind, texts.INSTRUCTIONS[""])
        actions.append(
            MakePublic(at_s=round(at, 1), operator=_operator(rng, at), headline=headline, instruction=instruction)
        )
    posts = {"large": (rng.randint(2, 3), rng.randint(1, 3)), "medium": (int(rng.random() < 0.5),) * 2, "small": (0, 0)}
    by_operator, by_expert = posts[size]
    for author, count in (("operator", by_operator), ("expert", by_expert)):
        for _ in range(count):
            at = rng.uniform(t0 + 240, close_s - 240)
            words = (
                texts.OPERATOR_POSTS if author == "operator" else texts.EXPERT_POSTS.get(kind, texts.EXPERT_POSTS[""])
            )
            actions.append(Post(at_s=round(at, 1), author=author, operator=_operator(rng, at), text=rng.choice(words)))  # type: ignore[arg-type]
    return actions


def _answers(rng: random.Random, slot: Slot) -> tuple[Answer, ...]:
    count = {"large": 8, "medium": 5, "small": 3}[slot.size] + rng.randint(0, 2)
    answers: list[Answer] = []
    for _ in range(count):
        via: Literal["link", "app"] = "link" if rng.random() < 0.75 else "app"
        roll = rng.random()
        if roll < 0.6:
            answers.append(Answer(decision="accept", after_s=round(rng.uniform(30, 480), 1), via=via))
        elif roll < 0.85:
            answers.append(
                Answer(
                    decision="decline",
                    after_s=round(rng.uniform(20, 300), 1),
                    via=via,
                    reason=rng.choice(texts.DECLINE_REASONS),
                )
            )
        else:
            answers.append(Answer(decision="ignore"))
    return tuple(answers)


def build_incident(rng: random.Random, slot: Slot) -> Incident:
    """The incident of ``slot`` with every action of its life, in time order, the close last."""
    names = _places(rng, slot)
    messages: list[Action] = []
    for k, at in enumerate(_report_times(rng, slot)):
        messages += _report(rng, slot, names, at_s=at, citizen=slot.number * 1000 + k, first=k == 0)
    last_report = max(m.at_s for m in messages)
    close_s = max(slot.end_s, last_report + 600)
    outcome = "resolved"
    if slot.size != "large" and (roll := rng.random()) < 0.2:
        outcome = "false_alarm" if roll < 0.1 and slot.size == "small" else "handed_over"
    close = Close(
        at_s=round(close_s, 1),
        operator=_operator(rng, close_s),
        outcome=outcome,  # type: ignore[arg-type]
        summary=rng.choice(texts.CLOSE_SUMMARIES[outcome]),
    )
    actions = sorted([*messages, *_operations(rng, slot, names, close_s)], key=lambda a: a.at_s)
    return Incident(
        number=slot.number,
        disaster_type=slot.disaster_type,
        district_code=slot.district_code,
        place=names[0],
        point=slot.point,
        size=slot.size,
        after=slot.after,
        actions=(*actions, close),
        answers=_answers(rng, slot),
    )

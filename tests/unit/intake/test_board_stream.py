"""The board's live stream (GET /incidents/live): new reports as they arrive, and a mark when the
board changed, on an intake service over the in-memory event store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from services.intake.api.board import board_changes
from services.intake.application import IntakeService
from services.intake.reception import InboundMessage
from shared.events.common import Actor, GeoPoint

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def web(text: str, sender: str, key: str) -> InboundMessage:
    return InboundMessage(
        channel="web", sender_id=sender, message_key=key, received_at=NOW, text=text, point=GeoPoint(37.5446, 127.0557)
    )


async def test_a_report_received_after_the_stream_opened_is_sent_then_the_board_is_marked_changed(
    intake: IntakeService,
) -> None:
    await intake.receive_message(web("성수동 공장에서 불이 났어요", "before", "k0"))  # already on the board
    changes = board_changes(intake.view, poll_s=0.01)
    first = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.05)
    received = await intake.receive_message(web("성수동 공장에서 폭발음이 났어요", "after", "k1"))
    report = await asyncio.wait_for(first, 2)
    board = await asyncio.wait_for(anext(changes), 2)
    assert report.event == "report"
    assert received.report is not None
    assert json.loads(str(report.data))["receipt"] == received.report.receipt
    assert board.event == "board"
    await changes.aclose()


async def test_an_operators_change_marks_the_board_without_a_report(intake: IntakeService) -> None:
    changes = board_changes(intake.view, poll_s=0.01)
    first = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.05)
    await intake.open_incident(
        disaster_type="fire", severity="severe", title="성수동 공장 화재", location=None, by=Actor("operator", "desk-1")
    )
    mark = await asyncio.wait_for(first, 2)
    assert mark.event == "board"
    await changes.aclose()


async def test_a_quiet_board_sends_keep_alives(intake: IntakeService) -> None:
    changes = board_changes(intake.view, poll_s=0.01, ping_s=0.03)
    ping = await asyncio.wait_for(anext(changes), 2)
    assert (ping.event, ping.comment) == (None, "ping")
    await changes.aclose()

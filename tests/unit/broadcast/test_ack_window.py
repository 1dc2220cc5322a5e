"""How long an invitation may go unacknowledged before its next channel is used: a third of the
expert's answer window, at least a minute; ``JIKIMI_INVITATION_ACK_WITHIN_S`` sets it outright."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.broadcast.requests import CommunityRequests
from shared.events.broadcast import DeliveryRequested
from tests.unit.broadcast.test_requests import AT, PRIVACY, invited


def ack_within(requests: CommunityRequests, answer_window: timedelta) -> int | None:
    [request] = requests.handle(invited(expires_at=AT + answer_window, recorded_at=AT))
    assert isinstance(request, DeliveryRequested)
    return request.ack_within_s


def test_an_invitation_may_go_unacknowledged_for_a_third_of_its_answer_window() -> None:
    assert ack_within(CommunityRequests([]), timedelta(minutes=15)) == 300


def test_a_short_answer_window_still_leaves_a_minute_before_the_next_channel() -> None:
    assert ack_within(CommunityRequests([]), timedelta(minutes=2)) == 60


def test_the_setting_replaces_the_derived_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIKIMI_INVITATION_ACK_WITHIN_S", "5")
    assert ack_within(CommunityRequests.from_env(PRIVACY), timedelta(minutes=15)) == 5
    monkeypatch.delenv("JIKIMI_INVITATION_ACK_WITHIN_S")
    assert ack_within(CommunityRequests.from_env(PRIVACY), timedelta(minutes=15)) == 300

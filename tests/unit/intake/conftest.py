"""An intake service on the in-memory event store, its writer running."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.intake.application import IntakeApplication, IntakeService
from shared.privacy import Privacy

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"
SECRET = b"unit-test-secret-key-0123456789abcdef"


def fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


@pytest.fixture
async def intake() -> AsyncIterator[IntakeService]:
    service = IntakeService(IntakeApplication(), Privacy(SECRET))
    await service.start()
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    yield service
    stop.set()
    await task


def stored(service: IntakeService) -> list[bytes]:
    """Every event as stored, bytes and all."""
    return [n.state for n in service.app.recorder.select_notifications(0, 100_000)]

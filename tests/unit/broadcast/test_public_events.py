"""Intake's events as the public view reads them, made by hand (helpers for test_public_*; no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from lxml import etree

from shared.events.cap import CapAlert, CapArea, CapInfo, CapReference, CapValue
from shared.events.common import Actor, GeoPoint, Location
from shared.events.intake import (
    CapAlertReceived,
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    SituationUpdated,
)

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "cap"
CAP_NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM_NS = {"atom": "http://www.w3.org/2005/Atom", **CAP_NS}
# 14:00 in Seoul.
AT = datetime(2026, 7, 14, 5, 0, tzinfo=UTC)
OPERATOR = Actor("operator", "op-kim")

_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
SCHEMA = etree.XMLSchema(etree.parse(str(FIXTURES / "cap12.xsd"), _SAFE))


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, _SAFE)


def assert_valid_cap(alert: etree._Element) -> None:
    """The OASIS schema accepts the alert (checked with the fixture's copy, not the service's)."""
    assert SCHEMA.validate(alert), [str(e.message) for e in SCHEMA.error_log]  # type: ignore[attr-defined]


class Story:
    """One incident's events in order, versions and times counted for you."""

    def __init__(
        self,
        disaster_type: str = "fire",
        severity: str = "moderate",
        district: str | None = "11440",
        start: datetime = AT,
    ) -> None:
        self.id = uuid4()
        self.version = 0
        self.at = start
        location = Location(GeoPoint(37.5551, 126.9142), district, "", "gps") if district else None
        self.opened = self._next(
            IncidentOpened,
            disaster_type=disaster_type,
            severity=severity,
            title=f"{disaster_type} · {district}",
            location=location,
        )

    def _next(self, cls: Any, **fields: Any) -> Any:
        self.version += 1
        self.at += timedelta(minutes=5)
        return cls(
            originator_id=self.id,
            originator_version=self.version,
            incident_id=self.id,
            correlation_id=self.id,
            recorded_at=self.at,
            **fields,
        )

    def made_public(self, headline: str = "망원동 화재", instruction: str = "망원역 쪽으로 가지 마세요") -> Any:
        return self._next(IncidentMadePublic, by=OPERATOR, headline=headline, instruction=instruction)

    def escalated(self, severity: str = "severe") -> Any:
        return self._next(IncidentEscalated, severity=severity, previous_severity="moderate", by=OPERATOR)

    def reclassified(self, disaster_type: str, severity: str = "severe") -> Any:
        return self._next(
            IncidentReclassified,
            disaster_type=disaster_type,
            severity=severity,
            previous_type="fire",
            previous_severity="moderate",
            by=OPERATOR,
        )

    def updated(self, text: str, injured: int | None = None, dead: int | None = None) -> Any:
        return self._next(SituationUpdated, text=text, by=OPERATOR, casualties_injured=injured, casualties_dead=dead)

    def closed(self, outcome: str = "resolved") -> Any:
        return self._next(IncidentClosed, outcome=outcome, by=OPERATOR, summary="reporter 010-1234-5678 thanked")


def national(
    identifier: str = "KMA-2026-0714-001",
    *,
    msg_type: str = "Alert",
    status: str = "Actual",
    scope: str = "Public",
    expires: datetime | None = AT + timedelta(hours=6),
    references: list[CapAlertReceived] = (),  # type: ignore[assignment]
    headline: str = "서울 호우경보",
) -> CapAlertReceived:
    """A national alert about heavy rain over Mapo and Seodaemun, as intake records it."""
    sender = "kma@korea.kr"
    alert = CapAlert(
        identifier=identifier,
        sender=sender,
        sent=AT,
        status=status,
        msg_type=msg_type,
        scope=scope,
        references=[CapReference(r.sender, r.identifier, r.sent) for r in references],
        infos=[
            CapInfo(
                categories=["Met"],
                event="호우경보",
                urgency="Expected",
                severity="Severe",
                certainty="Likely",
                language="ko-KR",
                expires=expires,
                headline=headline,
                instruction="하천 주변에 가지 마세요.",
                areas=[
                    CapArea(
                        "서울특별시 마포구 서대문구",
                        polygons=[[(37.5, 126.9), (37.6, 126.9), (37.6, 127.0), (37.5, 126.9)]],
                        geocodes=[CapValue("KR_SIG_CD", "11440")],
                    )
                ],
            )
        ],
    )
    stream = uuid4()
    return CapAlertReceived(
        originator_id=stream,
        originator_version=1,
        recorded_at=AT,
        identifier=identifier,
        sender=sender,
        sent=AT,
        status=status,
        msg_type=msg_type,
        scope=scope,
        alert=alert,
        references=[r.originator_id for r in references],
        district_codes=["11410", "11440"],
    )


def ids(items: Any) -> list[UUID]:
    return [item.id for item in items]

"""The situation board and the operators' actions on incidents."""

from __future__ import annotations

from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.intake.api.schemas import (
    CloseIn,
    EscalateIn,
    IncidentOut,
    LinkIn,
    MakePublicIn,
    OpenIncidentIn,
    ReasonIn,
    ReclassifyIn,
    ReportOut,
    SituationUpdateIn,
)
from services.intake.application import IncidentFilter, IntakeService
from services.intake.domain import InvalidChangeError
from services.intake.operations import Operations
from shared import geo
from shared.auth import Claims, Role
from shared.events.common import GeoPoint, Location
from shared.webauth import actor_of, requires

__all__ = ["IncidentController"]


def _location(data: OpenIncidentIn) -> Location | None:
    if data.point is not None:
        district = geo.district_at(data.point.lat, data.point.lon)
        return Location(
            GeoPoint(data.point.lat, data.point.lon),
            district.code if district else data.district_code,
            data.address,
            "operator",
        )
    if data.district_code is not None:
        if geo.district_by_code(data.district_code) is None:
            raise InvalidChangeError(f"district_code: {data.district_code} is not a Seoul district")
        return Location(district_code=data.district_code, address=data.address, source="operator")
    return None


class IncidentController(Controller):
    path = "/incidents"
    tags = ["incidents"]
    guards = [requires(Role.OPERATOR)]

    @get("/", operation_id="listIncidents", summary="The situation board: incidents, newest change first")
    async def list_incidents(
        self,
        intake: IntakeService,
        district: Annotated[str | None, Parameter(pattern=r"^11\d{3}$")] = None,
        disaster_type: Annotated[str | None, Parameter(query="type", max_length=50)] = None,
        severity: Annotated[str | None, Parameter(max_length=20)] = None,
        status: Annotated[str | None, Parameter(pattern="^(open|closed|any)$")] = "open",
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    ) -> list[IncidentOut]:
        where = IncidentFilter(
            district=district,
            disaster_type=disaster_type,
            severity=severity,
            status=None if status == "any" else status,
        )
        return [IncidentOut.of(i) for i in intake.list_incidents(where, limit=limit)]

    @get("/{incident_id:uuid}", operation_id="getIncident", summary="One incident with its reports")
    async def get_incident(self, incident_id: UUID, intake: IntakeService) -> IncidentOut:
        incident, reports = intake.get_incident(incident_id)
        return IncidentOut.of(incident, reports)

    @get("/unlinked-reports", operation_id="listUnlinkedReports", summary="Reports not yet in any incident")
    async def unlinked(
        self, intake: IntakeService, limit: Annotated[int, Parameter(ge=1, le=1000)] = 200
    ) -> list[ReportOut]:
        return [ReportOut.of(r) for r in intake.list_unlinked_reports(limit=limit)]

    @post("/", operation_id="openIncident", status_code=HTTP_201_CREATED, summary="Open an incident by hand")
    async def open_incident(
        self,
        data: OpenIncidentIn,
        intake: IntakeService,
        claims: Claims,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key", max_length=200)] = None,
    ) -> IncidentOut:
        incident_id = (
            uuid5(NAMESPACE_URL, f"jikimi:incident:{claims.sub}:{idempotency_key}") if idempotency_key else None
        )
        incident = await intake.open_incident(
            disaster_type=data.disaster_type,
            severity=data.severity,
            title=data.title,
            location=_location(data),
            by=actor_of(claims),
            incident_id=incident_id,
        )
        return IncidentOut.of(incident)

    @post("/{incident_id:uuid}/reclassify", operation_id="reclassifyIncident", status_code=HTTP_200_OK)
    async def reclassify(
        self, incident_id: UUID, data: ReclassifyIn, intake: IntakeService, claims: Claims
    ) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.reclassify(
                    incident_id,
                    disaster_type=data.disaster_type,
                    severity=data.severity,
                    by=actor_of(claims),
                    reason=data.reason,
                )
            )
        )

    @post("/{incident_id:uuid}/escalate", operation_id="escalateIncident", status_code=HTTP_200_OK)
    async def escalate(self, incident_id: UUID, data: EscalateIn, intake: IntakeService, claims: Claims) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.escalate(incident_id, severity=data.severity, by=actor_of(claims), reason=data.reason)
            )
        )

    @post("/{incident_id:uuid}/updates", operation_id="updateSituation", status_code=HTTP_201_CREATED)
    async def update(
        self, incident_id: UUID, data: SituationUpdateIn, intake: IntakeService, claims: Claims
    ) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.update_situation(
                    incident_id,
                    text=data.text,
                    by=actor_of(claims),
                    injured=data.casualties_injured,
                    dead=data.casualties_dead,
                    next_update_at=data.next_update_at,
                )
            )
        )

    @post("/{incident_id:uuid}/links", operation_id="linkReport", status_code=HTTP_201_CREATED)
    async def link(self, incident_id: UUID, data: LinkIn, intake: IntakeService, claims: Claims) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.link_report(incident_id, data.report_id, by=actor_of(claims), reason=data.reason)
            )
        )

    @post("/{incident_id:uuid}/links/{report_id:uuid}/unlink", operation_id="unlinkReport", status_code=HTTP_200_OK)
    async def unlink(
        self, incident_id: UUID, report_id: UUID, data: ReasonIn, intake: IntakeService, claims: Claims
    ) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.unlink_report(incident_id, report_id, by=actor_of(claims), reason=data.reason)
            )
        )

    @post("/{incident_id:uuid}/public", operation_id="makeIncidentPublic", status_code=HTTP_200_OK)
    async def make_public(
        self, incident_id: UUID, data: MakePublicIn, intake: IntakeService, claims: Claims
    ) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.make_public(
                    incident_id, by=actor_of(claims), headline=data.headline, instruction=data.instruction
                )
            )
        )

    @post("/{incident_id:uuid}/close", operation_id="closeIncident", status_code=HTTP_200_OK)
    async def close(self, incident_id: UUID, data: CloseIn, intake: IntakeService, claims: Claims) -> IncidentOut:
        return IncidentOut.of(
            await intake.change(
                Operations.close(incident_id, outcome=data.outcome, by=actor_of(claims), summary=data.summary)
            )
        )

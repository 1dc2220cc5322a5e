"""Briefings over HTTP: an incident's reports for its operators and engaged departments.

``GET /incidents/{id}/briefings`` lists them as JSON; ``…/briefings/{number}`` is one report,
as JSON or, for a browser (``Accept: text/html``), as an HTML page with every value escaped.
A department sees the reports of incidents it is or was engaged in, and nothing else.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Response

from services.broadcast.briefings import BriefingView, briefing_html
from shared.auth import Claims, Role
from shared.events.broadcast import BriefingIssued, SitRep
from shared.web import from_state
from shared.webauth import requires

__all__ = ["BriefingController", "BriefingOut"]


class BriefingOut(msgspec.Struct, frozen=True):
    number: int
    version: str
    issued_at: datetime
    reason: str
    recipients: list[str]
    next_report_at: datetime | None
    sitrep: SitRep

    @classmethod
    def of(cls, report: BriefingIssued) -> BriefingOut:
        return cls(
            report.number,
            report.version,
            report.occurred_at,
            report.reason,
            report.recipients,
            report.next_report_at,
            report.sitrep,
        )


async def _reports(view: BriefingView, incident_id: UUID, claims: Claims) -> list[BriefingIssued]:
    """The incident's reports if ``claims`` may read them (operators; departments engaged in it)."""
    await asyncio.to_thread(view.catch_up)
    with view.lock:
        found = view.get(incident_id)
        engaged = set(found.ever_engaged) if found else set()
        reports = list(found.briefings) if found else []
    if claims.role == Role.DEPARTMENT and claims.sub not in engaged:
        raise PermissionDeniedException("only the incident's operators and engaged departments read its briefings")
    if not reports:
        raise NotFoundException(f"incident {incident_id} has no briefings")
    return reports


class BriefingController(Controller):
    path = "/incidents/{incident_id:uuid}/briefings"
    # litestar reads these from class attributes (the api/ folders' ruff ignore, spelled out here)
    tags = ["briefings"]  # noqa: RUF012
    guards = [requires(Role.OPERATOR, Role.DEPARTMENT)]  # noqa: RUF012
    dependencies = {"briefings": from_state("briefings")}  # noqa: RUF012

    @get("/", operation_id="listBriefings", summary="An incident's situation reports, first to latest")
    async def list_briefings(self, incident_id: UUID, briefings: BriefingView, claims: Claims) -> list[BriefingOut]:
        return [BriefingOut.of(r) for r in await _reports(briefings, incident_id, claims)]

    @get(
        "/{number:int}",
        operation_id="getBriefing",
        summary="One situation report (JSON, or an HTML page for Accept: text/html)",
        media_type="application/json",
    )
    async def get_briefing(
        self, request: Request[Any, Any, Any], incident_id: UUID, number: int, briefings: BriefingView, claims: Claims
    ) -> Response[Any]:
        reports = await _reports(briefings, incident_id, claims)
        if not 1 <= number <= len(reports):
            raise NotFoundException(f"incident {incident_id} has no briefing {number}")
        report = reports[number - 1]
        if request.accept.best_match(["application/json", "text/html"], default="application/json") == "text/html":
            return Response(
                briefing_html(report.sitrep),
                media_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
            )
        return Response(BriefingOut.of(report))

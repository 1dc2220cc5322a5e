"""National alerts in: CAP 1.2 documents posted by the systems that relay them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_422_UNPROCESSABLE_ENTITY

from services.intake.alerts import MAX_DOCUMENT_BYTES, CapError, parse_cap
from services.intake.application import IntakeService
from services.intake.domain import NotFoundError
from shared.auth import Role
from shared.events.intake import CapAlertReceived
from shared.problems import problem
from shared.webauth import requires

__all__ = ["AlertController"]


class AlertOut(msgspec.Struct, frozen=True):
    id: UUID
    identifier: str
    sender: str
    status: str
    msg_type: str
    scope: str
    references: list[UUID]
    district_codes: list[str]
    duplicate: bool = False

    @classmethod
    def of(cls, event: CapAlertReceived, *, duplicate: bool = False) -> AlertOut:
        return cls(
            event.originator_id,
            event.identifier,
            event.sender,
            event.status,
            event.msg_type,
            event.scope,
            event.references,
            event.district_codes,
            duplicate,
        )


class AlertController(Controller):
    path = "/alerts"
    tags = ["alerts"]
    guards = [requires(Role.OPERATOR)]

    @post(
        "/cap",
        operation_id="receiveCapAlert",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_DOCUMENT_BYTES,
        summary="Receive a CAP 1.2 alert (XML); validated against the OASIS schema and CAP's rules",
    )
    async def receive_cap(self, request: Request[Any, Any, Any], intake: IntakeService) -> Response[Any]:
        body = await request.body()
        try:
            alert = parse_cap(body)
        except CapError as e:
            return problem(
                HTTP_422_UNPROCESSABLE_ENTITY,
                "Invalid CAP alert",
                str(e),
                errors=[{"field": p.field, "message": p.message} for p in e.problems],
            )
        event, duplicate = await intake.record_cap_alert(alert)
        return Response(
            AlertOut.of(event, duplicate=duplicate), status_code=HTTP_200_OK if duplicate else HTTP_201_CREATED
        )

    @get("/cap/{alert_id:uuid}", operation_id="getCapAlert", summary="One received CAP alert, as parsed")
    async def get_cap(self, alert_id: UUID, intake: IntakeService) -> dict[str, Any]:
        event = intake.view.alerts.get(alert_id)
        if event is None:
            raise NotFoundError(f"no alert {alert_id}")
        return {"id": str(alert_id), "received": msgspec.to_builtins(event)}

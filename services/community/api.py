"""Communities over HTTP: who is in, how the seats stand, and experts answering invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.status_codes import HTTP_200_OK

from services.community.application import CommunityService
from services.community.invitations import CommunityNotFoundError
from services.community.view import Community
from shared.auth import Claims, Role
from shared.webauth import requires

__all__ = ["CommunityController"]


class SeatOut(msgspec.Struct, frozen=True):
    field: str
    count: int
    filled: int
    pending: int


class MemberOut(msgspec.Struct, frozen=True):
    expert_id: str
    seat_field: str
    status: str
    expires_at: datetime


class CommunityOut(msgspec.Struct, frozen=True):
    incident_id: UUID
    disaster_type: str
    severity: str
    seats: list[SeatOut]
    members: list[MemberOut]
    reporters: int

    @classmethod
    def of(cls, c: Community) -> CommunityOut:
        seats = [SeatOut(s.field, s.count, c.filled(s.field), c.pending(s.field)) for s in c.seats]
        members = [MemberOut(i.expert_id, i.seat_field, i.status, i.expires_at) for i in c.invitations.values()]
        return cls(c.incident_id, c.disaster_type, c.severity, seats, members, len(c.reporters))


class DeclineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


async def _community(service: CommunityService, incident_id: UUID) -> Community:
    community = await service.get(incident_id)
    if community is None:
        raise CommunityNotFoundError(f"incident {incident_id} has no community")
    return community


def _may_answer(claims: Claims, expert_id: str) -> None:
    if claims.role == Role.EXPERT and claims.sub != expert_id:
        raise PermissionDeniedException("an expert answers only their own invitation")


class CommunityController(Controller):
    path = "/communities"
    tags = ["communities"]

    @get(
        "/{incident_id:uuid}",
        operation_id="getCommunity",
        guards=[requires(Role.OPERATOR, Role.EXPERT)],
        summary="An incident's community: seats and members (operators; experts invited to it)",
    )
    async def get_community(self, incident_id: UUID, community: CommunityService, claims: Claims) -> CommunityOut:
        found = await _community(community, incident_id)
        if claims.role == Role.EXPERT:
            invitation = found.invitations.get(claims.sub)
            if invitation is None or invitation.status not in {"invited", "accepted"}:
                raise PermissionDeniedException("only this community's operators and members see it")
        return CommunityOut.of(found)

    @post(
        "/{incident_id:uuid}/invitations/{expert_id:str}/accept",
        operation_id="acceptInvitation",
        status_code=HTTP_200_OK,
        guards=[requires(Role.EXPERT, Role.OPERATOR)],
    )
    async def accept(
        self, incident_id: UUID, expert_id: str, community: CommunityService, claims: Claims
    ) -> CommunityOut:
        _may_answer(claims, expert_id)
        return CommunityOut.of(
            await community.answer(incident_id, expert_id, accept=True, by=f"{claims.role}:{claims.sub}")
        )

    @post(
        "/{incident_id:uuid}/invitations/{expert_id:str}/decline",
        operation_id="declineInvitation",
        status_code=HTTP_200_OK,
        guards=[requires(Role.EXPERT, Role.OPERATOR)],
    )
    async def decline(
        self, incident_id: UUID, expert_id: str, data: DeclineIn, community: CommunityService, claims: Claims
    ) -> CommunityOut:
        _may_answer(claims, expert_id)
        changed = await community.answer(
            incident_id, expert_id, accept=False, by=f"{claims.role}:{claims.sub}", reason=data.reason
        )
        return CommunityOut.of(changed)

"""Communities over HTTP: who is in, how the seats stand, and experts answering invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.status_codes import HTTP_200_OK

from services.community.application import CommunityService
from services.community.invitations import CommunityNotFoundError
from services.community.view import Community
from shared.auth import Claims, Role
from shared.events import utc_now
from shared.links import InvalidTokenError, invitation_token, read_invitation_token
from shared.webauth import requires

__all__ = ["CommunityController", "CommunityOut", "InvitationLinkController"]


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

    @get(
        "/{incident_id:uuid}/invitations/{expert_id:str}/link",
        operation_id="getInvitationLink",
        guards=[requires(Role.OPERATOR)],
        summary="The phone link of an open invitation (to send it again)",
    )
    async def link(
        self, request: Request[Any, Any, Any], incident_id: UUID, expert_id: str, community: CommunityService
    ) -> LinkOut:
        found = await _community(community, incident_id)
        invitation = found.invitations.get(expert_id)
        if invitation is None or invitation.status != "invited":
            raise CommunityNotFoundError(f"{expert_id} has no open invitation to this community")
        token = invitation_token(
            request.app.state.secret_key, incident_id, expert_id, expires_at=invitation.expires_at, now=utc_now()
        )
        return LinkOut(f"/invitations/{token}", invitation.expires_at)

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


class LinkOut(msgspec.Struct, frozen=True):
    path: str
    expires_at: datetime


class InvitationOut(msgspec.Struct, frozen=True):
    incident_id: UUID
    expert_id: str
    disaster_type: str
    severity: str
    seat_field: str
    status: str
    expires_at: datetime


def _read(request: Request[Any, Any, Any], token: str) -> tuple[UUID, str]:
    try:
        return read_invitation_token(request.app.state.secret_key, token)
    except InvalidTokenError as e:
        raise NotAuthorizedException(f"the invitation link is not valid: {e}") from e


class InvitationLinkController(Controller):
    """What an expert's phone opens: the link is the credential, for that one invitation."""

    path = "/invitations"
    tags = ["invitations"]

    @get("/{token:str}", operation_id="openInvitation", summary="The invitation behind a link")
    async def open_invitation(
        self, request: Request[Any, Any, Any], token: str, community: CommunityService
    ) -> InvitationOut:
        incident_id, expert_id = _read(request, token)
        found = await _community(community, incident_id)
        invitation = found.invitations.get(expert_id)
        if invitation is None:
            raise CommunityNotFoundError("no such invitation")
        return InvitationOut(
            incident_id,
            expert_id,
            found.disaster_type,
            found.severity,
            invitation.seat_field,
            invitation.status,
            invitation.expires_at,
        )

    @post("/{token:str}/accept", operation_id="acceptByLink", status_code=HTTP_200_OK)
    async def accept(self, request: Request[Any, Any, Any], token: str, community: CommunityService) -> CommunityOut:
        incident_id, expert_id = _read(request, token)
        return CommunityOut.of(await community.answer(incident_id, expert_id, accept=True, by=f"link:{expert_id}"))

    @post("/{token:str}/decline", operation_id="declineByLink", status_code=HTTP_200_OK)
    async def decline(
        self, request: Request[Any, Any, Any], token: str, data: DeclineIn, community: CommunityService
    ) -> CommunityOut:
        incident_id, expert_id = _read(request, token)
        changed = await community.answer(
            incident_id, expert_id, accept=False, by=f"link:{expert_id}", reason=data.reason
        )
        return CommunityOut.of(changed)

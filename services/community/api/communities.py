"""Communities over HTTP: who is in, how the seats stand, and experts answering invitations."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from services.community.application import CommunityService
from services.community.invitations import CommunityNotFoundError
from services.community.view import Community
from shared.auth import Claims, Role
from shared.events import utc_now
from shared.links import InvalidTokenError, invitation_token, read_invitation_token
from shared.taxonomy import DISASTER_TYPES
from shared.webauth import requires

__all__ = ["CommunityController", "CommunityOut", "InvitationLinkController", "MemberOut"]

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,2000}\.[A-Za-z0-9_-]{1,200}")
"""A token's characters (base64url payload and signature): only such goes into a redirect."""


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
    type_ko: str = ""
    type_en: str = ""
    district_code: str | None = None
    members: list[MemberOut] = msgspec.field(default_factory=list)
    """Who else is invited or seated, and how each seat stands (what the room shows them too)."""
    reporters: int = 0


def _read(request: Request[Any, Any, Any], token: str) -> tuple[UUID, str]:
    try:
        return read_invitation_token(request.app.state.secret_key, token)
    except InvalidTokenError as e:
        raise NotAuthorizedException(f"the invitation link is not valid: {e}") from e


class InvitationLinkController(Controller):
    """What an expert's phone opens: the link is the credential, for that one invitation."""

    path = "/invitations"
    tags = ["invitations"]

    @get(
        "/{token:str}",
        operation_id="openInvitation",
        summary="The invitation behind a link (a browser asking for HTML is sent to the expert's page)",
    )
    async def open_invitation(
        self, request: Request[Any, Any, Any], token: str, community: CommunityService
    ) -> InvitationOut | Redirect:
        wants_page = request.accept.best_match([MediaType.JSON, MediaType.HTML]) == MediaType.HTML
        if wants_page and _TOKEN.fullmatch(token):
            # The phone opened the link: the page reads the token from the fragment, which no
            # server, log or Referer ever sees again (the page says so if the link has lapsed).
            headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
            return Redirect(f"/ui/expert/#t={token}", status_code=HTTP_303_SEE_OTHER, headers=headers)
        incident_id, expert_id = _read(request, token)
        found = await _community(community, incident_id)
        invitation = found.invitations.get(expert_id)
        if invitation is None:
            raise CommunityNotFoundError("no such invitation")
        kind = DISASTER_TYPES.get(found.disaster_type)
        others = [MemberOut(i.expert_id, i.seat_field, i.status, i.expires_at) for i in found.invitations.values()]
        return InvitationOut(
            incident_id,
            expert_id,
            found.disaster_type,
            found.severity,
            invitation.seat_field,
            invitation.status,
            invitation.expires_at,
            kind.ko if kind else "",
            kind.en if kind else "",
            found.district_code,
            [m for m in others if m.expert_id != expert_id and m.status in {"invited", "accepted"}],
            len(found.reporters),
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

"""The expert pool over HTTP: admins add, change and retire experts; availability is set by an
admin, an operator or the expert themselves; operators read the pool (never contact addresses)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.community import pool
from services.community.application import CommunityService
from services.community.registry import (
    SEOUL_TZ,
    ContactChannel,
    Expert,
    Field,
    OnCallWindow,
    RegistryError,
    check_expert,
)
from shared.auth import Claims, Role
from shared.events import utc_now
from shared.netguard import UnsafeURLError, check_url, loopback_allowed
from shared.webauth import requires

__all__ = ["ExpertController"]

_Text = Annotated[str, msgspec.Meta(max_length=500)]


class ProfileIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    fields: list[Field]
    district_code: Annotated[str, msgspec.Meta(pattern=r"^\d{5}$")]
    lat: float
    lon: float
    languages: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]], msgspec.Meta(max_length=10)]
    channels: Annotated[list[ContactChannel], msgspec.Meta(max_length=10)]
    on_call: Annotated[list[OnCallWindow], msgspec.Meta(max_length=28)]
    max_concurrent: Annotated[int, msgspec.Meta(ge=1, le=20)] = 2

    def expert(self, expert_id: str) -> Expert:
        """The expert this describes, checked as the seed data is (errors name the field)."""
        profile = msgspec.structs.asdict(self)
        profile.pop("id", None)
        expert = Expert(id=expert_id, **profile)
        check_expert(f"expert {expert_id!r}", expert)
        for index, contact in enumerate(expert.channels):
            if contact.channel != "webhook":
                continue
            try:  # resolves the host: a webhook that leads inside is refused before it is recorded
                check_url(contact.address, allow_loopback=loopback_allowed())
            except UnsafeURLError as e:
                msg = f"expert {expert_id!r}: field 'channels': [{index}] webhook refused: {e}"
                raise RegistryError(msg) from None
        return expert


class ExpertIn(ProfileIn, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2,5}-[0-9A-Z]{1,12}$")]


class RetireIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: _Text = ""


class AvailabilityIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    available: bool
    until: datetime | None = None
    reason: _Text = ""


class AvailabilityOut(msgspec.Struct, frozen=True):
    available: bool
    until: datetime | None
    reason: str


class ExpertOut(msgspec.Struct, frozen=True):
    """An expert as operators see them: how to reach them is named (channel kinds), not given."""

    id: str
    name: str
    fields: list[str]
    district_code: str
    languages: list[str]
    channels: list[str]
    on_call: list[OnCallWindow]
    max_concurrent: int
    active: bool
    on_call_now: bool
    load: int
    availability: AvailabilityOut | None

    @classmethod
    def of(cls, e: Expert, *, load: int, now: datetime) -> ExpertOut:
        a = e.availability
        return cls(
            e.id,
            e.name,
            list(e.fields),
            e.district_code,
            e.languages,
            [c.channel for c in e.channels],
            e.on_call,
            e.max_concurrent,
            e.active,
            e.active and not e.unavailable_at(now) and e.on_call_at(now),
            load,
            AvailabilityOut(a.available, a.until, a.reason) if a is not None and a.holds_at(now) else None,
        )


def _by(claims: Claims) -> str:
    return f"{claims.role}:{claims.sub}"


def _out(service: CommunityService, expert_id: str) -> ExpertOut:
    expert = service.view.experts.get(expert_id)
    if expert is None:
        raise pool.ExpertNotFoundError(f"no expert {expert_id}")
    return ExpertOut.of(expert, load=service.view.load().get(expert_id, 0), now=utc_now())


class ExpertController(Controller):
    path = "/experts"
    tags = ["experts"]

    @get("/", operation_id="listExperts", guards=[requires(Role.OPERATOR)], summary="The pool, in id order")
    async def list_experts(self, community: CommunityService, active: bool | None = None) -> list[ExpertOut]:
        await community.catch_up()
        load, now = community.view.load(), utc_now()
        return [
            ExpertOut.of(e, load=load.get(e.id, 0), now=now)
            for e in community.view.pool()
            if active is None or e.active == active
        ]

    @get(
        "/{expert_id:str}",
        operation_id="getExpert",
        guards=[requires(Role.OPERATOR, Role.EXPERT)],
        summary="One expert (operators; an expert sees their own entry)",
    )
    async def get_expert(self, expert_id: str, community: CommunityService, claims: Claims) -> ExpertOut:
        if claims.role == Role.EXPERT and claims.sub != expert_id:
            raise PermissionDeniedException("an expert sees only their own entry")
        await community.catch_up()
        return _out(community, expert_id)

    @post("/", operation_id="addExpert", guards=[requires(Role.ADMIN)], status_code=HTTP_201_CREATED)
    async def add(self, data: ExpertIn, community: CommunityService, claims: Claims) -> ExpertOut:
        expert = await asyncio.to_thread(data.expert, data.id)  # a webhook's host is looked up
        await community.change_pool(pool.register(expert, community.privacy.seal_address, by=_by(claims)))
        return _out(community, expert.id)

    @put("/{expert_id:str}", operation_id="changeExpert", guards=[requires(Role.ADMIN)])
    async def change(self, expert_id: str, data: ProfileIn, community: CommunityService, claims: Claims) -> ExpertOut:
        expert = await asyncio.to_thread(data.expert, expert_id)  # a webhook's host is looked up
        privacy = community.privacy
        await community.change_pool(pool.change(expert, privacy.seal_address, privacy.open_address, by=_by(claims)))
        return _out(community, expert_id)

    @post(
        "/{expert_id:str}/retire", operation_id="retireExpert", guards=[requires(Role.ADMIN)], status_code=HTTP_200_OK
    )
    async def retire(self, expert_id: str, data: RetireIn, community: CommunityService, claims: Claims) -> ExpertOut:
        await community.change_pool(pool.retire(expert_id, reason=data.reason, by=_by(claims)))
        return _out(community, expert_id)

    @put(
        "/{expert_id:str}/availability",
        operation_id="setExpertAvailability",
        guards=[requires(Role.OPERATOR, Role.EXPERT)],
        summary="Mark an expert (un)available beyond their schedule (operators; an expert for themselves)",
    )
    async def availability(
        self, expert_id: str, data: AvailabilityIn, community: CommunityService, claims: Claims
    ) -> ExpertOut:
        if claims.role == Role.EXPERT and claims.sub != expert_id:
            raise PermissionDeniedException("an expert sets only their own availability")
        until = data.until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=SEOUL_TZ)  # a time without an offset is Korea time
        command = pool.set_availability(
            expert_id, available=data.available, until=until, reason=data.reason, by=_by(claims)
        )
        await community.change_pool(command)
        return _out(community, expert_id)

    @delete(
        "/{expert_id:str}/availability",
        operation_id="clearExpertAvailability",
        guards=[requires(Role.OPERATOR, Role.EXPERT)],
        status_code=HTTP_200_OK,
        summary="Back to the on-call schedule (operators; an expert for themselves)",
    )
    async def clear_availability(self, expert_id: str, community: CommunityService, claims: Claims) -> ExpertOut:
        if claims.role == Role.EXPERT and claims.sub != expert_id:
            raise PermissionDeniedException("an expert sets only their own availability")
        await community.change_pool(pool.clear_availability(expert_id, by=_by(claims)))
        return _out(community, expert_id)

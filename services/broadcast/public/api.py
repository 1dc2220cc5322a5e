"""The public's routes, no token needed: the Atom feed of active alerts, each alert's CAP
document, the situation of public incidents, and the action guides.

Nothing personal is served: no reporter, no operator, no point; a place is a district and its
approximate centroid.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from services.broadcast.public.cap import to_bytes
from services.broadcast.public.feed import alert_document, build_feed
from services.broadcast.public.view import PublicIncident, PublicView
from shared import geo, taxonomy
from shared.events import utc_now
from shared.guides import UnknownGuideError, all_guides, get_guide

__all__ = ["PublicController"]

ATOM_MEDIA_TYPE = "application/atom+xml"
CAP_MEDIA_TYPE = "application/cap+xml"
READY_WAIT_S = 5.0


class Place(msgspec.Struct, frozen=True):
    """A Seoul district and its approximate centre (never where anyone stood)."""

    district_code: str
    ko: str
    en: str
    lat: float
    lon: float


class PublicIncidentOut(msgspec.Struct, frozen=True):
    id: UUID
    type: str
    type_ko: str
    type_en: str
    severity: str
    place: Place | None
    headline: str
    instruction: str
    situation: str
    casualties_injured: int | None
    casualties_dead: int | None
    opened_at: datetime
    updated_at: datetime
    public_since: datetime | None
    guide: str | None
    alert: str
    """Where the incident's CAP alert is."""

    @classmethod
    def of(cls, incident: PublicIncident) -> PublicIncidentOut:
        try:
            kind = taxonomy.get(incident.disaster_type)
            type_ko, type_en = kind.ko, kind.en
        except taxonomy.UnknownDisasterTypeError:
            type_ko = type_en = incident.disaster_type
        district = geo.district_by_code(incident.district_code) if incident.district_code else None
        place = Place(district.code, district.ko, district.en, district.lat, district.lon) if district else None
        try:
            guide: str | None = get_guide(incident.disaster_type).slug
        except UnknownGuideError:
            guide = None
        return cls(
            id=incident.id,
            type=incident.disaster_type,
            type_ko=type_ko,
            type_en=type_en,
            severity=incident.severity,
            place=place,
            headline=incident.headline or incident.title,
            instruction=incident.instruction,
            situation=incident.situation,
            casualties_injured=incident.casualties_injured,
            casualties_dead=incident.casualties_dead,
            opened_at=incident.opened_at,
            updated_at=incident.updated_at,
            public_since=incident.made_public_at,
            guide=guide,
            alert=f"/public/alerts/{incident.id}.cap",
        )


class GuideSummaryOut(msgspec.Struct, frozen=True):
    slug: str
    code: int
    ko: str
    en: str


class GuideOut(msgspec.Struct, frozen=True):
    slug: str
    code: int
    version: str
    lang: str
    title: str
    short: str
    before: list[str]
    during: list[str]
    after: list[str]


async def _ready_view(state: State) -> PublicView:
    """The public view once it has read the stream up to where it stood at start; 503 before."""
    view: PublicView = state.public
    try:
        await asyncio.wait_for(view.caught_up.wait(), timeout=READY_WAIT_S)
    except TimeoutError:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail="the public alerts are still being read from the event stream; try again shortly",
            headers={"Retry-After": "2"},
        ) from None
    return view


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


class PublicController(Controller):
    path = "/public"
    tags = ["public"]

    @get(
        "/alerts.atom",
        operation_id="getPublicAlertFeed",
        summary="Active alerts as an Atom feed, each entry carrying its CAP 1.2 alert",
        media_type=ATOM_MEDIA_TYPE,
    )
    async def feed(self, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        view = await _ready_view(state)
        body = build_feed(view, utc_now(), base_url=_base_url(request))
        return Response(body, media_type=ATOM_MEDIA_TYPE)

    @get(
        "/alerts/{name:str}",
        operation_id="getPublicAlert",
        summary="One alert as a CAP 1.2 document: /public/alerts/{id}.cap (a closed incident's is its Cancel)",
        media_type=CAP_MEDIA_TYPE,
    )
    async def alert(self, name: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        # litestar parameters are whole path segments, so the ".cap" suffix is read here.
        stem, dot, extension = name.rpartition(".")
        try:
            alert_id = UUID(stem) if dot and extension == "cap" else None
        except ValueError:
            alert_id = None
        if alert_id is None:
            raise NotFoundException(f"no alert {name!r}: alerts are at /public/alerts/<id>.cap")
        view = await _ready_view(state)
        document = alert_document(view, alert_id, base_url=_base_url(request))
        if document is None:
            raise NotFoundException(f"no public alert {alert_id}")
        return Response(to_bytes(document), media_type=CAP_MEDIA_TYPE)

    @get("/incidents", operation_id="listPublicIncidents", summary="Open incidents the city made public")
    async def incidents(
        self,
        state: State,
        district: Annotated[str | None, QueryParameter(pattern=r"^\d{5}$", description="a Seoul district code")] = None,
        disaster_type: Annotated[
            str | None, QueryParameter(name="type", max_length=50, description="a disaster type slug")
        ] = None,
    ) -> list[PublicIncidentOut]:
        if district is not None and geo.district_by_code(district) is None:
            raise ValidationException(f"district: {district} is not a Seoul district code")
        if disaster_type is not None and disaster_type not in taxonomy.DISASTER_TYPES:
            raise ValidationException(f"type: {disaster_type!r} is not a disaster type")
        view = await _ready_view(state)
        found = view.public_incidents(district=district, disaster_type=disaster_type)
        return [PublicIncidentOut.of(incident) for incident in found]

    @get("/guides", operation_id="listPublicGuides", summary="Every action guide: slug and names")
    async def guides(self) -> list[GuideSummaryOut]:
        return [GuideSummaryOut(g.slug, g.code, g.ko.title, g.en.title) for g in all_guides()]

    @get("/guides/{slug:str}", operation_id="getPublicGuide", summary="One action guide in Korean or English")
    async def guide(
        self, slug: FromPath[str], lang: Annotated[Literal["ko", "en"], QueryParameter(description="ko or en")] = "ko"
    ) -> GuideOut:
        try:
            guide = get_guide(slug)
        except UnknownGuideError:
            raise NotFoundException(f"no action guide {slug!r}") from None
        text = guide.text(lang)
        return GuideOut(
            guide.slug, guide.code, guide.version, lang, text.title, text.short, text.before, text.during, text.after
        )

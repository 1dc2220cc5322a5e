"""CAP 1.2 documents the public reads: the city's own alerts about public incidents, and the
national alerts intake received, written out again.

Elements are built with lxml, which escapes every text (a headline with ``<`` or ``&`` stays
text); characters XML 1.0 cannot carry at all (control characters) are dropped first. Every
document is checked against the bundled OASIS schema before it leaves (``schema_problems``).

The city's alert about an incident is a series of CAP messages, one per change the public
should hear of: ``Alert`` when an operator makes it public, ``Update`` on each escalation,
reclassification or situation update, ``Cancel`` when it closes. Each names the ones before it
in ``references``; its identifier is the incident and the message's number.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from lxml import etree

from services.broadcast.public.mapping import cap_category, cap_severity, cap_time
from services.broadcast.public.view import PublicIncident
from shared import geo, taxonomy
from shared.events.cap import CapAlert, CapArea, CapInfo
from shared.guides import UnknownGuideError, get_guide

__all__ = [
    "CAP_12",
    "SENDER",
    "city_alert",
    "city_identifier",
    "relayed_alert",
    "schema_problems",
    "to_bytes",
    "xml_text",
]

CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
# The default namespace's key is None, which lxml-stubs' Mapping[str, str] does not admit.
_DEFAULT_NAMESPACE: Any = {None: CAP_12}
SENDER = "jikimi@seoul.go.kr"
_SENDER_NAME = {"ko": "서울특별시 지키미", "en": "Seoul Metropolitan Government (Jikimi)"}
_LANGUAGE = {"ko": "ko-KR", "en": "en-US"}
_CLOSED = {"ko": "[종료] ", "en": "[Closed] "}
_ALL_CLEAR = {"ko": "상황이 종료되었습니다.", "en": "The incident is over."}
# Characters XML 1.0 cannot carry, even escaped; lxml refuses a text holding any of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def city_identifier(incident: PublicIncident, number: int) -> str:
    """The CAP identifier of the city's ``number``-th message about an incident (no spaces or commas)."""
    return f"KR-SEOUL-JIKIMI-{incident.id}-{number}"


def city_alert(incident: PublicIncident, *, base_url: str = "", sender: str = SENDER) -> etree._Element:
    """The latest CAP message about a public incident (Alert, Update or, once closed, Cancel)."""
    latest = incident.latest
    assert latest is not None, "an incident that was never public has no CAP message"
    alert = _element("alert")
    _add(alert, "identifier", city_identifier(incident, latest.number))
    _add(alert, "sender", sender)
    _add(alert, "sent", cap_time(latest.sent))
    _add(alert, "status", "Actual")
    _add(alert, "msgType", latest.msg_type)
    _add(alert, "scope", "Public")
    if latest.msg_type == "Cancel":
        _add(alert, "note", f"incident closed: {incident.outcome}")
    earlier = incident.messages[:-1]
    if earlier:
        triples = (f"{sender},{city_identifier(incident, m.number)},{cap_time(m.sent)}" for m in earlier)
        _add(alert, "references", " ".join(triples))
    _add(alert, "incidents", f"KR-SEOUL-JIKIMI-{incident.id}")
    for language in ("ko", "en"):
        _city_info(alert, incident, language, cancelled=latest.msg_type == "Cancel", base_url=base_url)
    return alert


def _city_info(
    alert: etree._Element, incident: PublicIncident, language: str, *, cancelled: bool, base_url: str
) -> None:
    try:
        kind = taxonomy.get(incident.disaster_type)
        event_name = kind.ko if language == "ko" else kind.en
    except taxonomy.UnknownDisasterTypeError:
        kind, event_name = None, incident.disaster_type
    try:
        guide = get_guide(incident.disaster_type)
    except UnknownGuideError:
        guide = None
    district = geo.district_by_code(incident.district_code) if incident.district_code else None
    info = _add(alert, "info")
    _add(info, "language", _LANGUAGE[language])
    _add(info, "category", cap_category(incident.disaster_type))
    _add(info, "event", event_name)
    if cancelled:
        _add(info, "responseType", "AllClear")
    _add(info, "urgency", "Past" if cancelled else "Immediate")
    _add(info, "severity", cap_severity(incident.severity))
    _add(info, "certainty", "Observed")
    _add_value(info, "eventCode", "JIKIMI_DISASTER_TYPE", incident.disaster_type)
    if kind is not None:
        _add_value(info, "eventCode", "KR_ACTION_GUIDE_CODE", str(kind.code))
    _add(info, "senderName", _SENDER_NAME[language])
    headline = incident.headline or incident.title
    _add(info, "headline", (_CLOSED[language] if cancelled else "") + headline)
    description = _description(incident, language)
    if description:
        _add(info, "description", description)
    instruction = (
        _ALL_CLEAR[language] if cancelled else _instruction(incident, guide.text(language).short if guide else "")
    )
    if instruction:
        _add(info, "instruction", instruction)
    if guide is not None and base_url:
        _add(info, "web", f"{base_url}/public/guides/{guide.slug}?lang={language}")
    area = _add(info, "area")
    if district is not None:
        _add(area, "areaDesc", district.ko if language == "ko" else f"{district.en}, Seoul")
        _add_value(area, "geocode", "KR_SIG_CD", district.code)
    else:
        _add(area, "areaDesc", "서울특별시" if language == "ko" else "Seoul")
        _add_value(area, "geocode", "KR_SIDO_CD", "11")


def _description(incident: PublicIncident, language: str) -> str:
    parts = [incident.situation] if incident.situation else []
    injured, dead = incident.casualties_injured, incident.casualties_dead
    if injured is not None or dead is not None:
        if language == "ko":
            parts.append(f"부상 {injured or 0}명, 사망 {dead or 0}명")
        else:
            parts.append(f"{injured or 0} injured, {dead or 0} dead")
    return "\n".join(parts)


def _instruction(incident: PublicIncident, guide_short: str) -> str:
    return "\n".join(part for part in (incident.instruction, guide_short) if part)


def relayed_alert(alert: CapAlert) -> etree._Element:
    """A received national alert written out again as CAP 1.2, times in Korea time.

    Addresses and restriction are left out: only ``Public`` alerts are relayed, where they mean nothing.
    """
    root = _element("alert")
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", cap_time(alert.sent)),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("source", alert.source),
        ("scope", alert.scope),
    ):
        _add_optional(root, name, value)
    for code in alert.codes:
        _add(root, "code", code)
    _add_optional(root, "note", alert.note)
    if alert.references:
        _add(root, "references", " ".join(f"{r.sender},{r.identifier},{cap_time(r.sent)}" for r in alert.references))
    if alert.incidents:
        _add(root, "incidents", " ".join(alert.incidents))
    for info in alert.infos:
        _relayed_info(root, info)
    return root


def _relayed_info(root: etree._Element, info: CapInfo) -> None:
    element = _add(root, "info")
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category)
    _add(element, "event", info.event)
    for response in info.response_types:
        _add(element, "responseType", response)
    for name, value in (("urgency", info.urgency), ("severity", info.severity), ("certainty", info.certainty)):
        _add(element, name, value)
    _add_optional(element, "audience", info.audience)
    for code in info.event_codes:
        _add_value(element, "eventCode", code.name, code.value)
    for name, moment in (("effective", info.effective), ("onset", info.onset), ("expires", info.expires)):
        _add_optional(element, name, cap_time(moment) if moment else None)
    for name, text in (
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        _add_optional(element, name, text)
    for parameter in info.parameters:
        _add_value(element, "parameter", parameter.name, parameter.value)
    for resource in info.resources:
        child = _add(element, "resource")
        _add(child, "resourceDesc", resource.resource_desc)
        _add(child, "mimeType", resource.mime_type)
        _add_optional(child, "size", None if resource.size is None else str(resource.size))
        _add_optional(child, "uri", resource.uri)
        _add_optional(child, "digest", resource.digest)
    for area in info.areas:
        _relayed_area(element, area)


def _relayed_area(info: etree._Element, area: CapArea) -> None:
    element = _add(info, "area")
    _add(element, "areaDesc", area.area_desc)
    for polygon in area.polygons:
        _add(element, "polygon", " ".join(f"{_decimal(lat)},{_decimal(lon)}" for lat, lon in polygon))
    for circle in area.circles:
        _add(element, "circle", f"{_decimal(circle.lat)},{_decimal(circle.lon)} {_decimal(circle.radius_km)}")
    for code in area.geocodes:
        _add_value(element, "geocode", code.name, code.value)
    _add_optional(element, "altitude", None if area.altitude is None else _decimal(area.altitude))
    _add_optional(element, "ceiling", None if area.ceiling is None else _decimal(area.ceiling))


def to_bytes(alert: etree._Element) -> bytes:
    """The alert as a UTF-8 XML document with its declaration."""
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8")


@functools.cache
def _schema() -> etree.XMLSchema:
    source = resources.files("services.broadcast.public").joinpath("cap12.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(source, parser))


def schema_problems(alert: etree._Element) -> list[str]:
    """What the OASIS CAP 1.2 schema finds wrong with an alert (empty when it is valid)."""
    schema = _schema()
    if schema.validate(alert):
        return []
    return [str(entry.message) for entry in schema.error_log]  # type: ignore[attr-defined]


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters, lone surrogates);
    lxml escapes the rest."""
    return _NOT_XML.sub("", text)


def _element(name: str) -> etree._Element:
    return etree.Element(f"{{{CAP_12}}}{name}", nsmap=_DEFAULT_NAMESPACE)


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{CAP_12}}}{name}")
    if text is not None:
        child.text = xml_text(text)
    return child


def _add_optional(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _add(parent, name, text)


def _add_value(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    child = _add(parent, name)
    _add(child, "valueName", value_name)
    _add(child, "value", value)


def _decimal(number: float) -> str:
    # xs:decimal has no exponent; repr would write 1e-05.
    text = f"{number:.6f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"

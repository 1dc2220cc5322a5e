"""Parse and validate CAP 1.2 alerts from untrusted bytes.

An alert is accepted only if it passes both the OASIS schema and the CAP rules the schema leaves out
(``cap_rules``); otherwise ``CapError`` lists every problem found, each with the path of the element at fault.
Alerts in the CAP 1.1 namespace are accepted too, held to the 1.2 rules, since feeds still publish them.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from lxml import etree

from services.intake.alerts.cap_model import (
    CapAlert,
    CapArea,
    CapError,
    CapInfo,
    CapProblem,
    CapResource,
    CapValue,
)
from services.intake.alerts.cap_rules import (
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
    RuleError,
    parse_circle,
    parse_decimal,
    parse_enumerated,
    parse_identifier,
    parse_polygon,
    parse_references,
    parse_size,
    parse_time,
    split_quoted_list,
)
from services.intake.alerts.cap_xml import ATOM, CAP_12, CAP_VERSIONS, child_path, load_document, schema_problems

__all__ = ["parse_cap", "parse_cap_feed"]

T = TypeVar("T")

# Stands in for a required time that is missing or malformed; the alert is then refused, so it is never seen.
_NO_TIME = datetime.min.replace(tzinfo=UTC)


def parse_cap(data: bytes) -> CapAlert:
    """Parse one CAP alert from the bytes as received; raise ``CapError`` naming every problem if it is not valid."""
    root = load_document(data)
    name = etree.QName(root)
    if name.localname == "alert" and name.namespace in CAP_VERSIONS:
        return _read_alert(root, "alert")
    if name.localname == "feed" and name.namespace == ATOM:
        message = "is an Atom feed, not a CAP alert; parse_cap_feed reads the alerts a feed carries"
    else:
        message = f"is not a CAP alert: its root element is {_describe(name)}, not 'alert' in {CAP_12}"
    raise CapError([CapProblem("document", message)])


def parse_cap_feed(data: bytes) -> list[CapAlert]:
    """The CAP alerts embedded in an Atom feed's entries, in order; entries that only link to an alert are skipped.

    Raises ``CapError`` if the feed is unsafe or not an Atom feed, or if any embedded alert is invalid.
    """
    root = load_document(data)
    name = etree.QName(root)
    if name.localname != "feed" or name.namespace != ATOM:
        raise CapError([CapProblem("document", f"is not an Atom feed: its root element is {_describe(name)}")])
    alerts: list[CapAlert] = []
    problems: list[CapProblem] = []
    for index, entry in enumerate(root.findall(f"{{{ATOM}}}entry")):
        for content in entry.findall(f"{{{ATOM}}}content"):
            for alert in content.iterchildren(*(f"{{{namespace}}}alert" for namespace in CAP_VERSIONS)):
                try:
                    alerts.append(_read_alert(alert, f"feed/entry[{index}]/content/alert"))
                except CapError as error:
                    problems.extend(error.problems)
    if problems:
        raise CapError(problems)
    return alerts


def _describe(name: etree.QName) -> str:
    return f"'{name.localname}' in {name.namespace}" if name.namespace else f"'{name.localname}' in no namespace"


def _read_alert(element: etree._Element, path: str) -> CapAlert:
    reader = _Reader(etree.QName(element).namespace or "")
    alert = reader.alert(element, path)
    # Where a CAP rule already named an element's problem in plain words, the schema's complaint would only repeat it.
    fields_with_problems = {problem.field for problem in reader.problems}
    problems = reader.problems + [
        problem for problem in schema_problems(element, path) if problem.field not in fields_with_problems
    ]
    if problems:
        raise CapError(problems)
    return alert


def _text_of(element: etree._Element) -> str:
    # string() joins the text around any comments inside the element, and leaves the comments out.
    return str(element.xpath("string()")).strip()


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    return functools.partial(parse_enumerated, allowed=allowed)


class _Reader:
    """Reads one alert's elements into Structs, collecting a problem for each rule broken instead of stopping."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self.problems: list[CapProblem] = []

    def alert(self, element: etree._Element, path: str) -> CapAlert:
        identifier = self._required(element, path, "identifier", parse_identifier, "")
        sender = self._required(element, path, "sender", parse_identifier, "")
        sent = self._required(element, path, "sent", parse_time, _NO_TIME)
        status = self._required(element, path, "status", _one_of(STATUSES), "")
        msg_type = self._required(element, path, "msgType", _one_of(MSG_TYPES), "")
        scope = self._required(element, path, "scope", _one_of(SCOPES), "")
        restriction = self._string(element, path, "restriction")
        addresses = split_quoted_list(self._text(element, path, "addresses") or "")
        references_text = self._text(element, path, "references")
        references = (
            [] if references_text is None else self._apply(parse_references, references_text, f"{path}/references")
        )
        if msg_type in ("Update", "Cancel") and references_text is None:
            self._problem(f"{path}/references", f"is required when msgType is {msg_type}, to name the earlier alert(s)")
        if scope == "Restricted" and restriction is None:
            self._problem(f"{path}/restriction", "is required when scope is Restricted")
        if scope == "Private" and not addresses:
            self._problem(f"{path}/addresses", "is required when scope is Private")
        return CapAlert(
            identifier=identifier,
            sender=sender,
            sent=sent,
            status=status,
            msg_type=msg_type,
            scope=scope,
            source=self._string(element, path, "source"),
            restriction=restriction,
            addresses=addresses,
            codes=self._each(element, path, "code", str),
            note=self._string(element, path, "note"),
            references=references or [],
            incidents=split_quoted_list(self._text(element, path, "incidents") or ""),
            infos=[
                self._info(child, child_path(path, "info", i)) for i, child in enumerate(self._find(element, "info"))
            ],
            cap_version=CAP_VERSIONS.get(self._namespace, "1.2"),
        )

    def _info(self, element: etree._Element, path: str) -> CapInfo:
        categories = self._each(element, path, "category", _one_of(CATEGORIES))
        if not self._find(element, "category"):
            self._problem(f"{path}/category", "is required: give at least one category")
        return CapInfo(
            language=self._string(element, path, "language") or "en-US",
            categories=categories,
            event=self._required_string(element, path, "event"),
            response_types=self._each(element, path, "responseType", _one_of(RESPONSE_TYPES)),
            urgency=self._required(element, path, "urgency", _one_of(URGENCIES), ""),
            severity=self._required(element, path, "severity", _one_of(SEVERITIES), ""),
            certainty=self._required(element, path, "certainty", _one_of(CERTAINTIES), ""),
            audience=self._string(element, path, "audience"),
            event_codes=self._pairs(element, "eventCode"),
            effective=self._parsed(element, path, "effective", parse_time),
            onset=self._parsed(element, path, "onset", parse_time),
            expires=self._parsed(element, path, "expires", parse_time),
            sender_name=self._string(element, path, "senderName"),
            headline=self._string(element, path, "headline"),
            description=self._string(element, path, "description"),
            instruction=self._string(element, path, "instruction"),
            web=self._string(element, path, "web"),
            contact=self._string(element, path, "contact"),
            parameters=self._pairs(element, "parameter"),
            resources=[
                self._resource(child, child_path(path, "resource", i))
                for i, child in enumerate(self._find(element, "resource"))
            ],
            areas=[
                self._area(child, child_path(path, "area", i)) for i, child in enumerate(self._find(element, "area"))
            ],
        )

    def _resource(self, element: etree._Element, path: str) -> CapResource:
        return CapResource(
            resource_desc=self._required_string(element, path, "resourceDesc"),
            mime_type=self._required_string(element, path, "mimeType"),
            size=self._parsed(element, path, "size", parse_size),
            uri=self._string(element, path, "uri"),
            digest=self._string(element, path, "digest"),
        )

    def _area(self, element: etree._Element, path: str) -> CapArea:
        altitude = self._parsed(element, path, "altitude", parse_decimal)
        ceiling = self._parsed(element, path, "ceiling", parse_decimal)
        if self._find(element, "ceiling") and not self._find(element, "altitude"):
            self._problem(f"{path}/ceiling", "is given without altitude; CAP allows a ceiling only with an altitude")
        return CapArea(
            area_desc=self._required_string(element, path, "areaDesc"),
            polygons=self._each(element, path, "polygon", parse_polygon),
            circles=self._each(element, path, "circle", parse_circle),
            geocodes=self._pairs(element, "geocode"),
            altitude=altitude,
            ceiling=ceiling,
        )

    # Reading one kind of child element.

    def _find(self, parent: etree._Element, name: str) -> list[etree._Element]:
        return parent.findall(f"{{{self._namespace}}}{name}")

    def _problem(self, field: str, message: str) -> None:
        self.problems.append(CapProblem(field, message))

    def _text(self, parent: etree._Element, path: str, name: str, *, required: bool = False) -> str | None:
        """The stripped text of the first such child; None, and a problem if required, when there is none."""
        children = self._find(parent, name)
        if not children:
            if required:
                self._problem(f"{path}/{name}", "is required but missing")
            return None
        return _text_of(children[0])

    def _string(self, parent: etree._Element, path: str, name: str) -> str | None:
        return self._text(parent, path, name) or None

    def _required_string(self, parent: etree._Element, path: str, name: str) -> str:
        text = self._text(parent, path, name, required=True)
        if text == "":
            self._problem(f"{path}/{name}", "is required but empty")
        return text or ""

    def _apply(self, parse: Callable[[str], T], text: str, field: str) -> T | None:
        try:
            return parse(text)
        except RuleError as error:
            self._problem(field, str(error))
            return None

    def _parsed(self, parent: etree._Element, path: str, name: str, parse: Callable[[str], T]) -> T | None:
        text = self._text(parent, path, name)
        return None if text is None else self._apply(parse, text, f"{path}/{name}")

    def _required(self, parent: etree._Element, path: str, name: str, parse: Callable[[str], T], placeholder: T) -> T:
        text = self._text(parent, path, name, required=True)
        value = None if text is None else self._apply(parse, text, f"{path}/{name}")
        return placeholder if value is None else value

    def _each(self, parent: etree._Element, path: str, name: str, parse: Callable[[str], T]) -> list[T]:
        values = []
        for index, child in enumerate(self._find(parent, name)):
            value = self._apply(parse, _text_of(child), child_path(path, name, index))
            if value is not None:
                values.append(value)
        return values

    def _pairs(self, parent: etree._Element, name: str) -> list[CapValue]:
        # valueName and value are required by the schema, which reports their absence.
        return [
            CapValue(
                name=_text_of_first(self._find(child, "valueName")), value=_text_of_first(self._find(child, "value"))
            )
            for child in self._find(parent, name)
        ]


def _text_of_first(elements: list[etree._Element]) -> str:
    return _text_of(elements[0]) if elements else ""

"""Reading untrusted XML safely, and checking a CAP alert against the bundled OASIS schema.

Three layers keep XML external-entity attacks out, so that a hostile alert can neither read a file nor make a
request: any document that mentions a DOCTYPE is refused before the parser sees it; the parser itself never loads
DTDs, never substitutes entities, never touches the network, and answers any external resource with nothing; and a
DOCTYPE that slipped past the first check (in an encoding it does not scan for) is refused after parsing.
"""

import copy
import functools
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any, Protocol, cast

from lxml import etree

from services.intake.alerts.cap_model import CapError, CapProblem

__all__ = [
    "ATOM",
    "CAP_11",
    "CAP_12",
    "CAP_VERSIONS",
    "MAX_DOCUMENT_BYTES",
    "child_path",
    "load_document",
    "schema_problems",
]

MAX_DOCUMENT_BYTES = 1024 * 1024
CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP_VERSIONS = {CAP_12: "1.2", CAP_11: "1.1"}
ATOM = "http://www.w3.org/2005/Atom"

# Elements CAP lets repeat get an index in paths (info[0], area[1]); the others appear at most once.
_REPEATABLE = frozenset(
    {
        "code",
        "info",
        "category",
        "responseType",
        "eventCode",
        "parameter",
        "resource",
        "area",
        "polygon",
        "circle",
        "geocode",
    }
)
# "<!DOCTYPE" as it appears in every encoding a CAP document plausibly uses: ASCII-compatible ones and UTF-16/32.
_DOCTYPE_SPELLINGS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_NAMESPACE = re.compile(r"\{[^}]*\}")
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '[^']*')?: ")
_FACET = re.compile(r"\[facet '[^']*'\] ")
_DOCTYPE_PROBLEM = CapProblem(
    "document",
    "has a DOCTYPE declaration; DTDs and entities are refused, since they are how XML external-entity "
    "attacks read files and make requests",
)


class _LogEntry(Protocol):
    # lxml-stubs leaves _ErrorLog empty; these are the attributes of lxml's _LogEntry that we read.
    path: str
    line: int
    message: str


class _RefuseExternalResources(etree.Resolver):
    """Answers every request for an external DTD or entity with an empty document."""

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        return self.resolve_string("", context, base_url=None)


def child_path(parent: str, name: str, index: int) -> str:
    """The path of a parent's child element, indexed when CAP lets that element repeat."""
    return f"{parent}/{name}[{index}]" if name in _REPEATABLE else f"{parent}/{name}"


def load_document(data: bytes) -> etree._Element:
    """Parse untrusted bytes (in the encoding their prolog declares) into elements, refusing DTDs and big inputs."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CapError(
            [CapProblem("document", f"is {len(data)} bytes; the limit is 1 MiB ({MAX_DOCUMENT_BYTES} bytes)")]
        )
    if any(spelling in data for spelling in _DOCTYPE_SPELLINGS):
        raise CapError([_DOCTYPE_PROBLEM])
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    parser.resolvers.add(_RefuseExternalResources())
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise CapError([CapProblem("document", f"is not well-formed XML: {error.msg}")]) from None
    # lxml-stubs lacks DocInfo.doctype; it is "" when the document has no DOCTYPE.
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CapError([_DOCTYPE_PROBLEM])
    return root


@functools.cache
def _cap12_schema() -> etree.XMLSchema:
    source = resources.files("services.intake.alerts").joinpath("cap12.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(source, parser))


def schema_problems(alert: etree._Element, alert_path: str) -> list[CapProblem]:
    """What the OASIS CAP 1.2 schema finds wrong with an alert element; CAP 1.1 alerts are held to 1.2."""
    # Validate a detached copy, renamed into the 1.2 namespace if the sender used 1.1 (same elements, same order).
    document = copy.deepcopy(alert)
    for element in document.iter(f"{{{CAP_11}}}*"):
        element.tag = etree.QName(CAP_12, etree.QName(element).localname).text
    schema = _cap12_schema()
    if schema.validate(document):
        return []
    problems = []
    for entry in cast("Iterable[_LogEntry]", schema.error_log):
        culprit = _element_at(document, entry.path)
        message = _NAMESPACE.sub("", entry.message)
        if culprit is None:
            path = alert_path
        else:
            path = _path_of(culprit, document, alert_path)
            message = _ELEMENT_PREFIX.sub("", message)
        problems.append(CapProblem(path, f"does not match the CAP 1.2 schema: {_FACET.sub('', message)}"))
    return problems


def _element_at(document: etree._Element, xpath: str) -> etree._Element | None:
    prefixes = {prefix: uri for element in document.iter() for prefix, uri in element.nsmap.items() if prefix}
    try:
        found = document.getroottree().xpath(xpath, namespaces=prefixes)
    except etree.XPathError:
        return None
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return found[0]
    return None


def _path_of(element: etree._Element, document: etree._Element, alert_path: str) -> str:
    steps = []
    while element is not document:
        parent = element.getparent()
        if parent is None:
            break
        name = etree.QName(element).localname
        siblings = [sibling for sibling in parent if sibling.tag == element.tag]
        steps.append(child_path("", name, siblings.index(element)))
        element = parent
    return alert_path + "".join(reversed(steps))

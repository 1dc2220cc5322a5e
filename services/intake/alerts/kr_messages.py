"""Pages of the Korean public disaster-text-message (재난문자) API, read into messages.

The API answers JSON pages with Korean-time timestamps in two formats; this module turns them into timezone-aware
datetimes, splits the receiving regions, and names the level in English. ``seoul_districts_in`` says which of
Seoul's 25 districts a message addresses.

A page is refused whole only when it is not JSON or not a page; a message that cannot be read is left out of
``messages`` and listed in ``skipped`` (serial and reason, never its text), so one bad message never hides the others.
"""

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

__all__ = [
    "KST",
    "SEOUL_DISTRICTS",
    "KrApiError",
    "KrDisasterMessage",
    "KrMessagePage",
    "KrSkippedMessage",
    "parse_page",
    "seoul_districts_in",
]

# Korea has kept +09:00 all year since 1988, so a fixed offset is exact and needs no time-zone database.
KST = timezone(timedelta(hours=9), "KST")

# Seoul's 25 autonomous districts (자치구), in the order of their administrative codes (11110 … 11740).
SEOUL_DISTRICTS = (
    "종로구",
    "중구",
    "용산구",
    "성동구",
    "광진구",
    "동대문구",
    "중랑구",
    "성북구",
    "강북구",
    "도봉구",
    "노원구",
    "은평구",
    "서대문구",
    "마포구",
    "양천구",
    "강서구",
    "구로구",
    "금천구",
    "영등포구",
    "동작구",
    "관악구",
    "서초구",
    "강남구",
    "송파구",
    "강동구",
)
_SEOUL_NAMES = frozenset({"서울특별시", "서울시", "서울"})
_WHOLE_CITY = "전체"
_LEVELS = {"위급재난": "emergency", "긴급재난": "urgent", "안전안내": "safety"}
_OK = "00"
_CREATED = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
# REG_YMD and MDFCN_YMD come as a bare date or as a time with up to nanoseconds, with '-' or '/' between date parts.
_STAMP = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?")
# Left by a lone "\ud800"-style escape: valid JSON syntax, but no Unicode text, and unencodable for logs or events.
_SURROGATE = re.compile("[\ud800-\udfff]")


class KrApiError(Exception):
    """Raised when the API answers with an error header, or with something that is not a page of messages.

    ``result_code`` is the API's code (e.g. "30" for an unregistered service key), or None when the response
    itself was malformed; ``error_msg`` then says which field was wrong.
    """

    def __init__(self, result_code: str | None, result_msg: str, error_msg: str | None = None) -> None:
        self.result_code = result_code
        self.result_msg = result_msg
        self.error_msg = error_msg
        code = f" {result_code}" if result_code is not None else ""
        detail = f": {error_msg}" if error_msg else ""
        super().__init__(f"disaster-message API error{code} ({result_msg}){detail}")


class KrDisasterMessage(msgspec.Struct, frozen=True):
    """One disaster text message; ``serial`` is unique, so it is the key for recording each message once."""

    serial: int
    created_at: datetime
    text: str
    regions: list[str]
    level: str  # "emergency", "urgent", "safety", or "other" when the API sends a level we do not know
    level_ko: str  # the level as the API wrote it
    disaster_type_ko: str
    registered_at: datetime | None = None
    modified_at: datetime | None = None


class KrSkippedMessage(msgspec.Struct, frozen=True):
    """A message of a page that could not be read. It holds no text of the message, so it is safe to log."""

    index: int  # its place in the page's body
    serial: int | None  # None when the serial number itself is missing or unreadable
    reason: str  # which field was wrong and how, e.g. "$.body[1].MSG_CN holds a lone surrogate escape"


class KrMessagePage(msgspec.Struct, frozen=True):
    """One page of messages and where it sits in the whole result; ``skipped`` lists the messages left out."""

    messages: list[KrDisasterMessage]
    total_count: int
    page_no: int
    num_of_rows: int
    skipped: list[KrSkippedMessage] = msgspec.field(default_factory=list)


class _Header(msgspec.Struct):
    result_code: str = msgspec.field(name="resultCode")
    result_msg: str | None = msgspec.field(name="resultMsg", default=None)
    error_msg: str | None = msgspec.field(name="errorMsg", default=None)


class _RawMessage(msgspec.Struct):
    serial: int = msgspec.field(name="SN")
    created: str = msgspec.field(name="CRT_DT")
    text: str = msgspec.field(name="MSG_CN")
    regions: str = msgspec.field(name="RCPTN_RGN_NM", default="")
    level: str = msgspec.field(name="EMRG_STEP_NM", default="")
    disaster_type: str = msgspec.field(name="DST_SE_NM", default="")
    registered: str | None = msgspec.field(name="REG_YMD", default=None)
    modified: str | None = msgspec.field(name="MDFCN_YMD", default=None)


class _Page(msgspec.Struct):
    header: _Header
    num_of_rows: int = msgspec.field(name="numOfRows", default=0)
    page_no: int = msgspec.field(name="pageNo", default=0)
    total_count: int = msgspec.field(name="totalCount", default=0)
    body: list[Any] | None = None  # each message is read on its own, so that one bad message is skipped alone


class _UnreadableMessageError(Exception):
    """Raised when one message of a page cannot be read; the text says which field and why, never its value."""


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_page(data: bytes) -> KrMessagePage:
    """Read one API response; raise ``KrApiError`` for an error header or a response that is not a page at all.

    Messages that cannot be read are skipped and listed in the page's ``skipped``.
    """
    # The standard json module, not msgspec: msgspec refuses a whole document for one lone surrogate escape in
    # any string, while json reads it, so the message holding it can be skipped alone. "surrogatepass" lets
    # surrogates sent as raw bytes reach the same per-message check; any other invalid UTF-8 still refuses the page.
    try:
        tree = json.loads(data.decode("utf-8", "surrogatepass"), parse_constant=_refuse_constant)
        # Lax conversion takes numbers sent as strings ("numOfRows": "10"), which public APIs are prone to.
        page = msgspec.convert(tree, _Page, strict=False)
    except (ValueError, RecursionError, msgspec.ValidationError) as error:
        raise KrApiError(None, "malformed response", _printable(str(error))) from None
    header = page.header
    if header.result_code != _OK:
        error_msg = header.error_msg and _printable(header.error_msg)
        raise KrApiError(_printable(header.result_code), _printable(header.result_msg or ""), error_msg)
    messages: list[KrDisasterMessage] = []
    skipped: list[KrSkippedMessage] = []
    for index, item in enumerate(page.body or []):
        path = f"$.body[{index}]"
        try:
            messages.append(_message(_raw_message(item, path), path))
        except _UnreadableMessageError as error:
            skipped.append(KrSkippedMessage(index=index, serial=_serial_of(item), reason=str(error)))
    return KrMessagePage(
        messages=messages,
        total_count=page.total_count,
        page_no=page.page_no,
        num_of_rows=page.num_of_rows,
        skipped=skipped,
    )


def seoul_districts_in(regions: list[str]) -> list[str]:
    """The Seoul districts among a message's regions, in code order; "서울특별시 전체" means all 25."""
    found: set[str] = set()
    for region in regions:
        words = region.split()
        if not words or words[0] not in _SEOUL_NAMES:
            continue  # a district name alone is ambiguous: 중구 and 강서구 exist in other cities too
        if len(words) == 1 or words[1] == _WHOLE_CITY:
            return list(SEOUL_DISTRICTS)
        if words[1] in SEOUL_DISTRICTS:
            found.add(words[1])
    return [district for district in SEOUL_DISTRICTS if district in found]


def _raw_message(item: Any, path: str) -> _RawMessage:
    try:
        raw = msgspec.convert(item, _RawMessage, strict=False)
    except msgspec.ValidationError as error:
        # msgspec's message names the type and the field (from "$", the message), never the value.
        raise _UnreadableMessageError(_printable(str(error)).replace("`$", f"`{path}", 1)) from None
    for field in msgspec.structs.fields(_RawMessage):
        value = getattr(raw, field.name)
        if isinstance(value, str) and _SURROGATE.search(value):
            raise _UnreadableMessageError(f"{path}.{field.encode_name} holds a lone surrogate escape")
    return raw


def _serial_of(item: Any) -> int | None:
    serial = item.get("SN") if isinstance(item, dict) else None
    try:
        return msgspec.convert(serial, int, strict=False)
    except msgspec.ValidationError:
        return None


def _printable(text: str) -> str:
    # A lone surrogate cannot be encoded, so it would break the log line or the error carrying it.
    return _SURROGATE.sub("\ufffd", text)


def _message(raw: _RawMessage, path: str) -> KrDisasterMessage:
    level_ko = raw.level.strip()
    return KrDisasterMessage(
        serial=raw.serial,
        created_at=_created_at(raw.created, f"{path}.CRT_DT"),
        text=raw.text,
        regions=[region.strip() for region in raw.regions.split(",") if region.strip()],
        level=_LEVELS.get(level_ko.removesuffix("문자"), "other"),
        level_ko=level_ko,
        disaster_type_ko=raw.disaster_type.strip(),
        registered_at=_stamp(raw.registered, f"{path}.REG_YMD"),
        modified_at=_stamp(raw.modified, f"{path}.MDFCN_YMD"),
    )


def _created_at(text: str, field: str) -> datetime:
    match = _CREATED.fullmatch(text.strip())
    if match is None:
        raise _UnreadableMessageError(f"{field} is not a 'yyyy/MM/dd HH:mm:ss' time")
    return _kst([*(int(part) for part in match.groups()), 0], field)


def _stamp(text: str | None, field: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    match = _STAMP.fullmatch(text.strip())
    if match is None:
        raise _UnreadableMessageError(f"{field} is neither a date nor a date and time")
    *parts, fraction = match.groups()
    numbers = [int(part or "0") for part in parts]  # a bare date means midnight
    # Nanoseconds are cut to the microseconds a datetime can hold.
    numbers.append(int((fraction or "").ljust(6, "0")[:6]))
    return _kst(numbers, field)


def _kst(numbers: list[int], field: str) -> datetime:
    year, month, day, hour, minute, second, microsecond = numbers
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=KST)
    except ValueError:
        raise _UnreadableMessageError(f"{field} is not a real date and time") from None

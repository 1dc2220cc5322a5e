"""Pages of the Korean public disaster-text-message (재난문자) API, read into messages.

The API answers JSON pages with Korean-time timestamps in two formats; this module turns them into timezone-aware
datetimes, splits the receiving regions, and names the level in English. ``seoul_districts_in`` says which of
Seoul's 25 districts a message addresses.
"""

import re
from datetime import datetime, timedelta, timezone

import msgspec

__all__ = [
    "KST",
    "SEOUL_DISTRICTS",
    "KrApiError",
    "KrDisasterMessage",
    "KrMessagePage",
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


class KrMessagePage(msgspec.Struct, frozen=True):
    """One page of messages and where it sits in the whole result."""

    messages: list[KrDisasterMessage]
    total_count: int
    page_no: int
    num_of_rows: int


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
    body: list[_RawMessage] | None = None


# Lax decoding takes numbers sent as strings ("numOfRows": "10"), which public APIs are prone to.
_DECODER = msgspec.json.Decoder(_Page, strict=False)


def parse_page(data: bytes) -> KrMessagePage:
    """Read one API response; raise ``KrApiError`` for an error header or a response of the wrong shape."""
    try:
        page = _DECODER.decode(data)
    except msgspec.DecodeError as error:
        raise KrApiError(None, "malformed response", str(error)) from None
    header = page.header
    if header.result_code != _OK:
        raise KrApiError(header.result_code, header.result_msg or "", header.error_msg)
    messages = [_message(raw, f"$.body[{index}]") for index, raw in enumerate(page.body or [])]
    return KrMessagePage(
        messages=messages, total_count=page.total_count, page_no=page.page_no, num_of_rows=page.num_of_rows
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
        raise KrApiError(None, "malformed response", f"{field} {text!r} is not a 'yyyy/MM/dd HH:mm:ss' time")
    return _kst([*(int(part) for part in match.groups()), 0], field, text)


def _stamp(text: str | None, field: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    match = _STAMP.fullmatch(text.strip())
    if match is None:
        raise KrApiError(None, "malformed response", f"{field} {text!r} is neither a date nor a date and time")
    *parts, fraction = match.groups()
    numbers = [int(part or "0") for part in parts]  # a bare date means midnight
    # Nanoseconds are cut to the microseconds a datetime can hold.
    numbers.append(int((fraction or "").ljust(6, "0")[:6]))
    return _kst(numbers, field, text)


def _kst(numbers: list[int], field: str, text: str) -> datetime:
    year, month, day, hour, minute, second, microsecond = numbers
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=KST)
    except ValueError:
        raise KrApiError(None, "malformed response", f"{field} {text!r} is not a real date and time") from None

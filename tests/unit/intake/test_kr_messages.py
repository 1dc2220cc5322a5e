"""Reading pages of the Korean disaster-text-message API, and which Seoul districts a message addresses."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.intake.alerts import (
    SEOUL_DISTRICTS,
    KrApiError,
    KrDisasterMessage,
    KrSkippedMessage,
    parse_page,
    seoul_districts_in,
)

KR_FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "kr-disaster-messages"
HOSTILE = Path(__file__).resolve().parents[2] / "data" / "kr-disaster-messages-hostile.json"
KST = timezone(timedelta(hours=9))


def fixture(name: str) -> bytes:
    return (KR_FIXTURES / name).read_bytes()


def message_with(**fields: Any) -> dict[str, Any]:
    """A message, its fields replaced as given."""
    return {
        "SN": 1,
        "CRT_DT": "2025/06/25 13:09:00",
        "MSG_CN": "[관악구] 시험 문자",
        "RCPTN_RGN_NM": "서울특별시 관악구",
        "EMRG_STEP_NM": "안전안내",
        "DST_SE_NM": "기타",
    } | fields


def page_of(*messages: Any) -> bytes:
    """A page of these messages. json.dumps writes a lone surrogate as the escape "\\ud800", as a sender might."""
    header = {"resultCode": "00", "resultMsg": "NORMAL SERVICE", "errorMsg": None}
    count = len(messages)
    return json.dumps(
        {"header": header, "numOfRows": count, "pageNo": 1, "totalCount": count, "body": list(messages)}
    ).encode()


def page_with(**fields: Any) -> bytes:
    """A one-message page, the message's fields replaced as given."""
    return page_of(message_with(**fields))


def test_the_page_fixture_reads_as_three_messages_keyed_by_serial() -> None:
    page = parse_page(fixture("page-1.json"))

    assert [message.serial for message in page.messages] == [271001, 271002, 271003]
    assert (page.total_count, page.page_no, page.num_of_rows) == (3, 1, 3)
    assert page.messages[1].text.startswith("[강남구] 대치동 일대 도로 침수로")
    assert page.messages[2].disaster_type_ko == "홍수"


def test_creation_time_is_read_as_korea_time() -> None:
    first = parse_page(fixture("page-1.json")).messages[0]

    assert first.created_at == datetime(2026, 7, 14, 6, 12, 40, tzinfo=KST)
    assert first.created_at.utcoffset() == timedelta(hours=9)


def test_registration_times_are_read_in_both_formats_the_api_uses() -> None:
    first, second, _ = parse_page(fixture("page-1.json")).messages

    assert first.registered_at == datetime(2026, 7, 14, 6, 13, 2, tzinfo=KST)
    assert first.modified_at == datetime(2026, 7, 14, 6, 13, 2, tzinfo=KST)
    assert second.registered_at == datetime(2026, 7, 14, tzinfo=KST)
    assert second.modified_at == datetime(2026, 7, 14, tzinfo=KST)


def test_nanoseconds_are_cut_to_microseconds() -> None:
    message = parse_page(page_with(REG_YMD="2025/06/25 13:09:20.123456789")).messages[0]

    assert message.registered_at == datetime(2025, 6, 25, 13, 9, 20, 123456, tzinfo=KST)


def test_missing_registration_times_are_none() -> None:
    message = parse_page(page_with()).messages[0]

    assert (message.registered_at, message.modified_at) == (None, None)


def test_the_error_envelope_raises_with_the_api_code_and_message() -> None:
    with pytest.raises(KrApiError) as caught:
        parse_page(fixture("error-bad-key.json"))

    assert caught.value.result_code == "30"
    assert caught.value.result_msg == "SERVICE ERROR"
    assert caught.value.error_msg == "등록되지 않은 서비스키"
    assert "30" in str(caught.value)
    assert "등록되지 않은 서비스키" in str(caught.value)


def test_regions_are_split_on_commas_stripped_and_empties_dropped() -> None:
    messages = parse_page(fixture("page-1.json")).messages

    assert messages[0].regions == ["서울특별시 전체"]
    assert messages[2].regions == ["서울특별시 관악구", "서울특별시 동작구", "서울특별시 영등포구"]
    odd = parse_page(page_with(RCPTN_RGN_NM=" 서울특별시 마포구 ,, 서울특별시 은평구, ")).messages[0]
    assert odd.regions == ["서울특별시 마포구", "서울특별시 은평구"]


def test_levels_are_named_in_english_and_unknown_ones_are_other_with_the_korean_kept() -> None:
    levels = [(m.level, m.level_ko) for m in parse_page(fixture("page-1.json")).messages]
    emergency = parse_page(page_with(EMRG_STEP_NM="위급재난")).messages[0]
    unknown = parse_page(page_with(EMRG_STEP_NM="시험발송")).messages[0]

    assert levels == [("urgent", "긴급재난"), ("safety", "안전안내"), ("urgent", "긴급재난")]
    assert emergency.level == "emergency"
    assert (unknown.level, unknown.level_ko) == ("other", "시험발송")


def test_unknown_fields_are_ignored() -> None:
    assert parse_page(page_with(NEW_FIELD="무시")).messages[0].serial == 1


def test_malformed_json_raises_an_api_error() -> None:
    with pytest.raises(KrApiError) as caught:
        parse_page(b'{"header": ')

    assert caught.value.result_code is None
    assert caught.value.result_msg == "malformed response"


def test_text_that_is_not_json_at_all_raises_an_api_error() -> None:
    for not_json in [b"<html>502 Bad Gateway</html>", b"", b'{"header": {"resultCode": "00"}, "body": [NaN]}']:
        with pytest.raises(KrApiError, match="malformed response"):
            parse_page(not_json)


def test_bytes_that_are_not_utf8_raise_an_api_error() -> None:
    with pytest.raises(KrApiError, match="malformed response"):
        parse_page(page_with(MSG_CN="BAD").replace(b"BAD", b"\xff\xfe"))


def test_a_page_without_a_header_raises_an_api_error_naming_the_header() -> None:
    with pytest.raises(KrApiError, match="header"):
        parse_page(b'{"body": []}')


def test_a_message_with_a_lone_surrogate_is_skipped_and_the_others_are_read() -> None:
    page = parse_page(
        page_of(message_with(SN=1), message_with(SN=2, MSG_CN="[마포구] 화재 \ud800 대피"), message_with(SN=3))
    )

    assert b"\\ud800" in page_of(message_with(MSG_CN="\ud800"))  # the escape, as the API would send it
    assert [message.serial for message in page.messages] == [1, 3]
    assert page.skipped == [
        KrSkippedMessage(index=1, serial=2, reason="$.body[1].MSG_CN holds a lone surrogate escape")
    ]


@pytest.mark.parametrize(
    "escape",
    [rb"\ud800", rb"\udfff", rb"\ud83d\u0041", rb"\ude00\ud83d", rb"x\ud800"],
    ids=["high", "low", "high-then-letter", "pair-reversed", "at-the-end"],
)
def test_every_kind_of_lone_surrogate_skips_only_its_message(escape: bytes) -> None:
    data = page_of(message_with(SN=1, DST_SE_NM="BAD"), message_with(SN=2)).replace(b'"BAD"', b'"' + escape + b'"')

    page = parse_page(data)

    assert [message.serial for message in page.messages] == [2]
    assert [(s.serial, s.reason) for s in page.skipped] == [(1, "$.body[0].DST_SE_NM holds a lone surrogate escape")]


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text() -> None:
    page = parse_page(page_of(message_with(SN=1, MSG_CN="비상 \U0001f6a8"), message_with(SN=2, MSG_CN="\\ud800")))

    assert [message.text for message in page.messages] == ["비상 \U0001f6a8", "\\ud800"]
    assert page.skipped == []


def test_a_surrogate_sent_as_raw_bytes_skips_only_its_message() -> None:
    data = page_of(message_with(SN=1, MSG_CN="BAD"), message_with(SN=2)).replace(b"BAD", b"\xed\xa0\x80")

    page = parse_page(data)

    assert [message.serial for message in page.messages] == [2]
    assert [s.serial for s in page.skipped] == [1]


def test_a_skipped_message_is_reported_by_serial_and_reason_without_its_text() -> None:
    secret = "[관악구] 주민 홍길동 010-1234-5678 \ud800"
    page = parse_page(page_of(message_with(SN=7, MSG_CN=secret, CRT_DT="어제 " + secret)))

    assert page.messages == []
    assert page.skipped[0].serial == 7
    assert "홍길동" not in repr(page.skipped)


def test_a_field_of_the_wrong_type_skips_the_message_naming_the_field() -> None:
    page = parse_page(page_of(message_with(SN="not-a-number"), message_with(SN=2, CRT_DT=20250625), message_with(SN=3)))

    assert [message.serial for message in page.messages] == [3]
    assert [s.serial for s in page.skipped] == [None, 2]
    assert "`$.body[0].SN`" in page.skipped[0].reason
    assert "`$.body[1].CRT_DT`" in page.skipped[1].reason


def test_a_body_entry_that_is_not_an_object_is_skipped() -> None:
    page = parse_page(page_of("not a message", None, message_with(SN=3)))

    assert [message.serial for message in page.messages] == [3]
    assert [(s.index, s.serial) for s in page.skipped] == [(0, None), (1, None)]


def test_a_creation_time_in_another_format_skips_the_message_naming_it() -> None:
    page = parse_page(page_with(CRT_DT="2025-06-25T13:09:00"))

    assert page.messages == []
    assert page.skipped[0].reason == "$.body[0].CRT_DT is not a 'yyyy/MM/dd HH:mm:ss' time"


def test_an_impossible_date_skips_the_message_naming_it() -> None:
    page = parse_page(page_with(MDFCN_YMD="2025-02-30"))

    assert page.messages == []
    assert page.skipped[0].reason == "$.body[0].MDFCN_YMD is not a real date and time"


def test_an_error_header_with_a_lone_surrogate_still_raises_a_printable_api_error() -> None:
    error_page = json.dumps({"header": {"resultCode": "99", "resultMsg": "ERR \ud800", "errorMsg": "\udc00"}}).encode()

    with pytest.raises(KrApiError) as caught:
        parse_page(error_page)

    assert caught.value.result_code == "99"
    str(caught.value).encode()  # no lone surrogate left to break a log line


def test_the_hostile_page_reads_all_four_messages_with_their_text_intact() -> None:
    page = parse_page(HOSTILE.read_bytes())

    assert [message.serial for message in page.messages] == [900001, 900002, 900003, 900004]
    assert page.skipped == []
    assert "\x00\x01\x0b\x1f\ufffe 망원동 화재" in page.messages[0].text
    assert page.messages[2].text == ""


def test_a_message_survives_a_json_round_trip_unchanged() -> None:
    message = parse_page(fixture("page-1.json")).messages[2]

    assert msgspec.json.decode(msgspec.json.encode(message), type=KrDisasterMessage) == message


def test_the_whole_of_seoul_means_all_25_districts() -> None:
    assert seoul_districts_in(["서울특별시 전체"]) == list(SEOUL_DISTRICTS)
    assert len(SEOUL_DISTRICTS) == len(set(SEOUL_DISTRICTS)) == 25


def test_named_districts_come_back_once_each_in_code_order() -> None:
    regions = ["서울특별시 영등포구", "서울특별시 관악구", "서울특별시 동작구", "서울특별시 관악구"]

    assert seoul_districts_in(regions) == ["영등포구", "동작구", "관악구"]


def test_districts_of_the_same_name_in_other_cities_are_not_seoul() -> None:
    assert seoul_districts_in(["부산광역시 중구", "대구광역시 중구", "경기도 전체", "중구"]) == []
    assert seoul_districts_in(["부산광역시 중구", "서울특별시 중구"]) == ["중구"]

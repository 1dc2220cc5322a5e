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
    parse_page,
    seoul_districts_in,
)

KR_FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "kr-disaster-messages"
KST = timezone(timedelta(hours=9))


def fixture(name: str) -> bytes:
    return (KR_FIXTURES / name).read_bytes()


def page_with(**fields: Any) -> bytes:
    """A one-message page, the message's fields replaced as given."""
    message = {
        "SN": 1,
        "CRT_DT": "2025/06/25 13:09:00",
        "MSG_CN": "[관악구] 시험 문자",
        "RCPTN_RGN_NM": "서울특별시 관악구",
        "EMRG_STEP_NM": "안전안내",
        "DST_SE_NM": "기타",
    } | fields
    header = {"resultCode": "00", "resultMsg": "NORMAL SERVICE", "errorMsg": None}
    return json.dumps({"header": header, "numOfRows": 1, "pageNo": 1, "totalCount": 1, "body": [message]}).encode()


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


def test_a_field_of_the_wrong_type_raises_an_api_error_naming_the_field() -> None:
    with pytest.raises(KrApiError, match=r"\$\.body\[0\]\.SN"):
        parse_page(page_with(SN="not-a-number"))


def test_a_page_without_a_header_raises_an_api_error_naming_the_header() -> None:
    with pytest.raises(KrApiError, match="header"):
        parse_page(b'{"body": []}')


def test_a_creation_time_in_another_format_raises_an_api_error_naming_it() -> None:
    with pytest.raises(KrApiError, match=r"\$\.body\[0\]\.CRT_DT"):
        parse_page(page_with(CRT_DT="2025-06-25T13:09:00"))


def test_an_impossible_date_raises_an_api_error_naming_it() -> None:
    with pytest.raises(KrApiError, match=r"\$\.body\[0\]\.MDFCN_YMD"):
        parse_page(page_with(MDFCN_YMD="2025-02-30"))


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

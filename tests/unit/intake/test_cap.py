"""Parsing and validating CAP 1.2 alerts: the public test fixtures, hand-made breakages, and XML attacks."""

import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest

from services.intake.alerts import (
    MAX_DOCUMENT_BYTES,
    CapAlert,
    CapCircle,
    CapError,
    CapReference,
    cap_xml,
    parse_cap,
    parse_cap_feed,
)

CAP_FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "cap"
BROKEN = {"invalid.cap", "canada_errors.cap", "noaa_errors.cap"}
HOSTILE = {"xee.cap"}


def fixture(name: str) -> bytes:
    return (CAP_FIXTURES / name).read_bytes()


def refusal(data: bytes) -> dict[str, str]:
    """The problems parse_cap finds, as {field: message}."""
    with pytest.raises(CapError) as caught:
        parse_cap(data)
    return {problem.field: problem.message for problem in caught.value.problems}


SQUARE = "37.50,126.90 37.60,126.90 37.60,127.00 37.50,127.00 37.50,126.90"


def alert(
    *,
    identifier: str = "JIKIMI-TEST-1",
    sent: str = "2026-07-14T06:12:40+09:00",
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    after_scope: str = "",
    polygon: str = SQUARE,
    area_extra: str = "",
    encoding: str = "UTF-8",
) -> bytes:
    """A small valid alert, with one element swapped for whatever a test needs to break."""
    return f"""<?xml version="1.0" encoding="{encoding}"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>situation-room@jikimi.example</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>{scope}</scope>{after_scope}
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <event>호우</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <headline>서울 호우경보</headline>
    <area>
      <areaDesc>서울특별시 관악구</areaDesc>
      <polygon>{polygon}</polygon>{area_extra}
    </area>
  </info>
</alert>
""".encode(encoding)


# --- the public fixtures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "identifier", "sender", "areas_per_info"),
    [
        ("australia.cap", "tag:www.rfs.nsw.gov.au2011-10-06:40184", "webmaster@rfs.nsw.gov.au", [1, 1]),
        ("canada.cap", "2.49.0.1.124.6bddbc91.2012", "cap@ec.gc.ca", [2, 2]),
        (
            "earthquake-iso8859-1.cap",
            "USGS-earthquakes-usB000D5T4.3947362.7.20121014T225304.360Z.0",
            "http://earthquake.usgs.gov/research/monitoring/anss/neic/",
            [1],
        ),
        (
            "earthquake.cap",
            "USGS-earthquakes-us2010apcd.6.20100831T000925.496Z",
            "http://earthquake.usgs.gov/research/monitoring/anss/neic/",
            [1],
        ),
        (
            "no_optional_fields.cap",
            "USGS-earthquakes-us2010apcd.6.20100831T000925.496Z",
            "http://earthquake.usgs.gov/research/monitoring/anss/neic/",
            [],
        ),
        ("spec-example-43b080713727.cap", "43b080713727", "hsas@dhs.gov", [1]),
        ("thunderstorm.cap", "KSTO1055887203", "KSTO@NWS.NOAA.GOV", [1]),
        ("wcatwc-warning.cap", "PAAQ-2-lqw6d6", "http://newwcatwc.arh.noaa.gov/tsuPortal/", [1]),
        (
            "weather.cap",
            "NOAA-NWS-ALERTS-MT20100830100700TFXFlashFloodWatchTFX20100830180000MT",
            "w-nws.webmaster@noaa.gov",
            [1],
        ),
    ],
)
def test_each_valid_fixture_parses_with_its_identifier_sender_infos_and_areas(
    name: str, identifier: str, sender: str, areas_per_info: list[int]
) -> None:
    parsed = parse_cap(fixture(name))

    assert (parsed.identifier, parsed.sender) == (identifier, sender)
    assert [len(info.areas) for info in parsed.infos] == areas_per_info
    assert parsed.sent.tzinfo is not None


def test_every_cap_fixture_but_the_broken_and_hostile_ones_parses() -> None:
    names = {path.name for path in CAP_FIXTURES.glob("*.cap")} - BROKEN - HOSTILE

    assert len(names) >= 9
    for name in sorted(names):
        assert isinstance(parse_cap(fixture(name)), CapAlert), name


def test_invalid_cap_is_refused_for_its_missing_scope() -> None:
    problems = refusal(fixture("invalid.cap"))

    assert problems["alert/scope"] == "is required but missing"


def test_canada_errors_is_refused_for_its_empty_references() -> None:
    problems = refusal(fixture("canada_errors.cap"))

    assert list(problems) == ["alert/references"]
    assert "is empty" in problems["alert/references"]


def test_noaa_errors_is_refused_for_empty_references_empty_levels_and_broken_polygons() -> None:
    problems = refusal(fixture("noaa_errors.cap"))

    assert "is empty" in problems["alert/references"]
    for level in ("urgency", "severity", "certainty"):
        assert problems[f"alert/info[0]/{level}"].startswith("is empty; it must be one of")
    assert "'+40.85,-118.09,' is not a 'lat,lon' pair" in problems["alert/info[0]/area[0]/polygon[0]"]
    assert "is empty" in problems["alert/info[0]/area[0]/polygon[1]"]


def test_the_iso_8859_1_earthquake_comes_out_with_its_accented_place_names() -> None:
    parsed = parse_cap(fixture("earthquake-iso8859-1.cap"))

    assert "Usulután" in parsed.infos[0].areas[0].area_desc
    assert parsed.sent == datetime(2012, 10, 14, 22, 53, 4, tzinfo=UTC)


def test_a_cap_1_1_alert_is_accepted_and_says_so() -> None:
    assert parse_cap(fixture("weather.cap")).cap_version == "1.1"
    assert parse_cap(fixture("canada.cap")).cap_version == "1.2"


def test_circles_geocodes_and_parameters_come_out_as_values() -> None:
    parsed = parse_cap(fixture("australia.cap"))
    area = parsed.infos[0].areas[0]

    assert area.circles == [CapCircle(lat=-35.3888, lon=147.0598, radius_km=25.0)]
    assert parsed.infos[0].categories == ["Fire", "Met"]
    assert parsed.codes == ["urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0"]
    assert parse_cap(fixture("weather.cap")).infos[0].parameters[1].name == "UGC"


def test_a_parsed_alert_survives_a_json_round_trip_unchanged() -> None:
    parsed = parse_cap(fixture("canada.cap"))

    assert msgspec.json.decode(msgspec.json.encode(parsed), type=CapAlert) == parsed


# --- hand-made breakages -----------------------------------------------------------------------------------------


def test_the_hand_made_alert_is_valid_to_begin_with() -> None:
    parsed = parse_cap(alert())

    assert parsed.infos[0].areas[0].polygons == [
        [(37.5, 126.9), (37.6, 126.9), (37.6, 127.0), (37.5, 127.0), (37.5, 126.9)]
    ]
    assert parsed.sent == datetime(2026, 7, 14, 6, 12, 40, tzinfo=timezone(timedelta(hours=9)))


def test_an_alert_with_a_Z_time_is_refused_naming_the_sent_field() -> None:  # noqa: N802 (Z is the point)
    problems = refusal(alert(sent="2026-07-13T21:12:40Z"))

    assert list(problems) == ["alert/sent"]
    assert "uses 'Z'" in problems["alert/sent"]


def test_a_polygon_of_three_points_is_refused_naming_the_polygon() -> None:
    problems = refusal(alert(polygon="37.5,126.9 37.6,126.9 37.5,126.9"))

    assert "has 3 points" in problems["alert/info[0]/area[0]/polygon[0]"]


def test_a_polygon_that_is_not_closed_is_refused_naming_the_polygon() -> None:
    problems = refusal(alert(polygon="37.5,126.9 37.6,126.9 37.6,127.0 37.5,127.0"))

    assert "is not closed" in problems["alert/info[0]/area[0]/polygon[0]"]


def test_a_polygon_point_off_the_globe_is_refused_naming_the_polygon() -> None:
    problems = refusal(alert(polygon="37.5,126.9 95.0,126.9 37.6,127.0 37.5,126.9"))

    assert "latitude 95.0, outside -90..90" in problems["alert/info[0]/area[0]/polygon[0]"]


def test_a_circle_without_a_radius_is_refused_naming_the_circle() -> None:
    problems = refusal(alert(area_extra="<circle>37.5,126.9</circle>"))

    assert "'lat,lon radius'" in problems["alert/info[0]/area[0]/circle[0]"]


def test_an_update_without_references_is_refused_naming_references() -> None:
    problems = refusal(alert(msg_type="Update"))

    assert list(problems) == ["alert/references"]
    assert "is required when msgType is Update" in problems["alert/references"]


def test_an_update_with_references_carries_them_as_triples() -> None:
    references = "<references>situation-room@jikimi.example,JIKIMI-TEST-0,2026-07-14T06:00:00+09:00</references>"

    parsed = parse_cap(alert(msg_type="Update", after_scope=references))

    sent = datetime(2026, 7, 14, 6, 0, tzinfo=timezone(timedelta(hours=9)))
    assert parsed.references == [CapReference("situation-room@jikimi.example", "JIKIMI-TEST-0", sent)]


def test_a_reference_that_is_not_a_triple_is_refused_naming_references() -> None:
    problems = refusal(alert(msg_type="Cancel", after_scope="<references>JIKIMI-TEST-0</references>"))

    assert "is not of the form 'sender,identifier,sent'" in problems["alert/references"]


def test_an_identifier_with_a_space_is_refused_naming_identifier() -> None:
    problems = refusal(alert(identifier="JIKIMI TEST 1"))

    assert list(problems) == ["alert/identifier"]
    assert "contains a space" in problems["alert/identifier"]


def test_an_unknown_status_is_refused_naming_status() -> None:
    problems = refusal(alert(status="Real"))

    assert problems["alert/status"] == "'Real' is not allowed; it must be one of Actual, Exercise, System, Test, Draft"


def test_a_restricted_alert_without_its_restriction_is_refused() -> None:
    assert refusal(alert(scope="Restricted")) == {"alert/restriction": "is required when scope is Restricted"}


def test_a_private_alert_without_addresses_is_refused_and_with_them_is_read() -> None:
    assert refusal(alert(scope="Private")) == {"alert/addresses": "is required when scope is Private"}

    parsed = parse_cap(alert(scope="Private", after_scope='<addresses>ops@119 "관악 소방서"</addresses>'))

    assert parsed.addresses == ["ops@119", "관악 소방서"]


def test_an_element_only_the_schema_forbids_is_refused_at_its_own_path() -> None:
    problems = refusal(alert(area_extra="<district>관악구</district>"))

    assert list(problems) == ["alert/info[0]/area[0]/district"]
    assert "does not match the CAP 1.2 schema" in problems["alert/info[0]/area[0]/district"]


def test_bytes_that_are_not_xml_are_refused_as_not_well_formed() -> None:
    problems = refusal(b"<alert><identifier>oops</alert>")

    assert problems["document"].startswith("is not well-formed XML")


def test_a_document_that_is_not_an_alert_is_refused_naming_its_root() -> None:
    problems = refusal(fixture("bushfire_valid.edxlde"))

    assert "its root element is 'EDXLDistribution'" in problems["document"]


def test_the_error_reads_as_every_problem_joined() -> None:
    with pytest.raises(CapError) as caught:
        parse_cap(alert(identifier="A B", sent="2026-07-13T21:12:40Z"))

    assert str(caught.value) == "; ".join(str(problem) for problem in caught.value.problems)
    assert "alert/identifier: " in str(caught.value)
    assert "alert/sent: " in str(caught.value)


def test_input_over_one_mebibyte_is_refused_and_input_of_exactly_one_is_read() -> None:
    valid = alert()
    exactly = valid + b" " * (MAX_DOCUMENT_BYTES - len(valid))

    assert parse_cap(exactly).identifier == "JIKIMI-TEST-1"
    assert "the limit is 1 MiB" in refusal(exactly + b" ")["document"]


# --- feeds ---------------------------------------------------------------------------------------------------------


def test_an_atom_feed_is_refused_as_an_alert_with_a_pointer_to_the_feed_reader() -> None:
    assert "is an Atom feed, not a CAP alert" in refusal(fixture("weather.atom"))["document"]


def test_the_feed_reader_returns_the_alert_embedded_in_the_weather_feed() -> None:
    alerts = parse_cap_feed(fixture("weather.atom"))

    assert [a.identifier for a in alerts] == ["NOAA-NWS-ALERTS-MT20120830100700TFXFlashFloodWatchTFX20120830180000MT"]


def test_the_feed_reader_refuses_a_single_alert() -> None:
    with pytest.raises(CapError, match="is not an Atom feed"):
        parse_cap_feed(fixture("canada.cap"))


# --- XML attacks ---------------------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local TCP port that records whether anything, including libxml2's own C code, connected to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except TimeoutError:
        return False
    return True


@pytest.fixture
def no_python_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the parser tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


MARKER = "MARKER-e1f0c2-must-never-leak"


@pytest.fixture
def watched_file(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A named pipe holding a marker, and an event set the moment anything opens it to read."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    opened = threading.Event()

    def feed() -> None:
        with path.open("w") as pipe:  # blocks until a reader opens the other end
            opened.set()
            pipe.write(MARKER)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    yield path, opened
    if not opened.is_set():
        release = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        writer.join(timeout=1)
        os.close(release)


def hostile(marker_file: Path, port: int, encoding: str = "utf-8") -> bytes:
    """An alert whose DTD reaches for a local file and a local port in every way XXE attacks do."""
    template = fixture("thunderstorm.cap").decode("utf-8")
    body = template[template.index("<alert") :].replace("<headline>", "<headline>&file;&remote;")
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE alert SYSTEM "http://127.0.0.1:{port}/cap.dtd" [\n'
        f'  <!ENTITY file SYSTEM "{marker_file.as_uri()}">\n'
        f'  <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/entity">\n'
        f'  <!ENTITY % parameter SYSTEM "{marker_file.as_uri()}">\n'
        f'  <!ENTITY % fetch SYSTEM "http://127.0.0.1:{port}/parameter">\n'
        "  %parameter; %fetch;\n"
        "]>\n" + body
    ).encode(encoding)


@pytest.mark.parametrize("name", ["xee.cap", "xee.atom"])
def test_the_xxe_fixtures_are_refused_for_their_doctype(name: str, no_python_connections: None) -> None:
    for parse in (parse_cap, parse_cap_feed):
        with pytest.raises(CapError) as caught:
            parse(fixture(name))
        assert [problem.field for problem in caught.value.problems] == ["document"]
        assert "DOCTYPE" in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_an_alert_whose_entities_point_at_a_file_and_a_port_reads_and_requests_nothing(
    watched_file: tuple[Path, threading.Event], listener: socket.socket, no_python_connections: None, encoding: str
) -> None:
    secret, opened = watched_file

    with pytest.raises(CapError) as caught:
        parse_cap(hostile(secret, listener.getsockname()[1], encoding))

    assert caught.value.problems[0].message.startswith("has a DOCTYPE declaration")
    assert MARKER not in repr(caught.value) + repr(caught.value.problems)
    assert not opened.wait(timeout=0.3), "the parser opened the file an entity pointed at"
    assert not connected(listener)


def test_with_the_doctype_scan_bypassed_the_parser_itself_still_reads_and_requests_nothing(
    watched_file: tuple[Path, threading.Event], listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Switch off the first layer (the byte scan) to show the parser settings and the post-parse check hold alone.
    monkeypatch.setattr(cap_xml, "_DOCTYPE_SPELLINGS", ())
    secret, opened = watched_file

    with pytest.raises(CapError) as caught:
        parse_cap(hostile(secret, listener.getsockname()[1]))

    assert caught.value.problems[0].message.startswith("has a DOCTYPE declaration")
    assert MARKER not in repr(caught.value) + repr(caught.value.problems)
    assert not opened.wait(timeout=0.3), "the parser opened the file an entity pointed at"
    assert not connected(listener)

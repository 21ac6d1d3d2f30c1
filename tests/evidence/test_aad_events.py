"""AAD Operational log: wevtutil XML in its layouts, codes in hex and decimal, safe parsing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.evidence import aad_events
from odfix.evidence.common import ParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "aad_events"


def load(name: str) -> aad_events.AadEventLog:
    return aad_events.parse((FIXTURES / name).read_bytes(), source=name)


def test_concatenated_events_without_root():
    log = load("wevtutil_recent.xml")
    assert [e.id for e in log.events] == [1098, 1098, 1098, 1104, 1085, 1250]
    first = log.events[0]
    assert first.time == datetime(2026, 1, 12, 8, 0, 4, 123456, tzinfo=UTC)
    assert (first.level, first.codes, first.aadsts) == ("error", ["0xCAA2000C"], [50076])
    assert first.citation.line == 1


def test_doctype_is_refused():
    with pytest.raises(ParseError, match="DOCTYPE"):
        aad_events.parse('<!DOCTYPE x [<!ENTITY a "b">]><Event/>')


def test_utf16_capture_reads_the_same():
    assert load("wevtutil_recent_utf16.xml").events == [
        event.model_copy(update={"citation": event.citation.model_copy(update={"file": name})})
        for name in ["wevtutil_recent_utf16.xml"]
        for event in load("wevtutil_recent.xml").events
    ]


def test_codes_in_hex_signed_and_unsigned_decimal():
    log = load("wevtutil_recent.xml")
    broker, timeout = log.events[1], log.events[2]
    assert broker.data["Error"] == "3399811100"
    assert broker.codes == ["0xCAA5001C", "0xCAA20009"]
    assert broker.aadsts == [50011]
    assert broker.message.startswith("Error: 0xCAA5001C\nErrorMessage: Token broker operation")
    assert timeout.codes == ["0xCAA7000A"]
    assert log.events[3].codes == ["0xC000005F"]
    assert log.events[4].codes == ["0xC00484C1"]
    assert (log.events[5].level, log.events[5].codes) == ("information", [])


def test_lookups_by_id_and_code():
    log = load("wevtutil_recent.xml")
    assert [e.record_id for e in log.by_id(1098)] == [412, 398, 36]
    assert [e.record_id for e in log.with_code("0xcaa20009")] == [398]
    assert [e.record_id for e in log.with_code("AADSTS50076")] == [412]
    assert log.events[0].computer == "PC-0001.contoso.local"
    assert log.events[0].channel == "Microsoft-Windows-AAD/Operational"


def test_rendered_message_and_root_wrapper():
    log = load("rendered_root_wrapped.xml")
    (event,) = log.events
    assert event.message.splitlines()[0] == (
        "Error: 0xCAA2000C The request requires user interaction."
    )
    assert (event.codes, event.aadsts) == (["0xCAA2000C"], [50079])
    assert event.citation.line == 3
    assert event.time == datetime(2026, 1, 13, 9, 15, tzinfo=UTC)


def test_event_citation_points_at_the_line_with_the_code():
    text = (
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>\n"
        "  <System><Provider Name='Microsoft-Windows-AAD'/><EventID>1098</EventID>"
        "<Level>2</Level><TimeCreated SystemTime='2026-02-01T10:00:00.0000000Z'/></System>\n"
        "  <EventData>\n"
        "    <Data Name='Error'>-895352820</Data>\n"
        "    <Data Name='ErrorMessage'>The request requires user interaction.</Data>\n"
        "  </EventData>\n"
        "</Event>\n"
    )
    (event,) = aad_events.parse(text).events
    assert event.codes == ["0xCAA2000C"]
    assert (event.citation.line, event.citation.text) == (4, "<Data Name='Error'>-895352820</Data>")
    assert event.citation.file == "aad_operational.xml"


def test_other_providers_are_kept_but_not_counted_as_aad():
    text = (
        "<Event><System><Provider Name='Microsoft-Windows-GroupPolicy'/><EventID>1097</EventID>"
        "<Level>2</Level></System><EventData><Data Name='ErrorCode'>1355</Data></EventData></Event>"
    )
    log = aad_events.parse(text)
    assert log.events[0].is_aad is False
    assert log.by_id(1097) == []
    assert log.events[0].time is None


def test_empty_capture_is_an_empty_log():
    assert aad_events.parse(b"").events == []
    assert aad_events.parse("\r\n").events == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<Event><System>\n<EventID>1</EventID>\n</Event>", r"^x\.xml: line 3: malformed XML"),
        ("not xml at all", r"^x\.xml: no <Event> element found"),
        ("\n<Event><System/></Event>", r"^x\.xml: line 2: <Event> without a numeric <EventID>$"),
        ("<Events><Foo/></Events>", r"^x\.xml: no <Event> element found"),
        ('\n<!ENTITY a "b">', r"^x\.xml: line 2: DOCTYPE/ENTITY declarations are refused$"),
    ],
)
def test_bad_input_is_a_one_line_error(text, message):
    with pytest.raises(ParseError, match=message):
        aad_events.parse(text, source="x.xml")


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Error: -895352820", ["0xCAA2000C"]),
        ("Error: 3399614476", ["0xCAA2000C"]),
        ("hr 0x8004de40 and 0X8004DE40", ["0x8004DE40"]),
        ("Result: 0x0, pid 4294967295, record 1234567890", []),
        ("Status: -1073741729", []),
        ("Status: -1073741729 (0xc000005f)", ["0xC000005F"]),
        ("Keywords 0x4000000000000012", []),
    ],
)
def test_error_codes(text, codes):
    assert aad_events.error_codes(text) == codes

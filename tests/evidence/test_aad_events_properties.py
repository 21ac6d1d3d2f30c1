"""Property tests: any text parses or fails with ParseError; generated events read back."""

import contextlib
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import aad_events
from odfix.evidence.common import ParseError

XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(st.text(st.characters(exclude_categories=())))
def test_any_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        aad_events.parse(text)


@given(st.binary())
def test_any_bytes_parse_or_raise_parse_error(data):
    with contextlib.suppress(ParseError):
        aad_events.parse(data)


@given(st.text(max_size=200))
def test_any_text_inside_an_event_parses_or_raises_parse_error(body):
    with contextlib.suppress(ParseError):
        aad_events.parse(f"<Event><System><EventID>1098</EventID></System>{body}</Event>")


EVENTS = st.lists(
    st.tuples(
        st.integers(1, 65535),
        st.sampled_from([1, 2, 3, 4]),
        st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)),
        st.integers(0xCAA00000, 0xCAAFFFFF),
        st.sampled_from(["hex", "signed", "unsigned"]),
        XML_TEXT,
        st.integers(50000, 9999999),
    ),
    min_size=1,
    max_size=5,
)


@given(EVENTS, st.booleans(), st.sampled_from(["utf-8", "utf-16"]))
def test_generated_events_read_back(events, wrapped, encoding):
    spelled = {"hex": "0x{:08x}", "signed": "{}", "unsigned": "{}"}
    parts = []
    for event_id, level, time, code, form, text, aadsts in events:
        value = code - (1 << 32) if form == "signed" else code
        parts.append(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            f"<Provider Name='Microsoft-Windows-AAD'/><EventID>{event_id}</EventID>"
            f"<Level>{level}</Level><TimeCreated SystemTime='{time.isoformat()}Z'/></System>"
            f"<EventData><Data Name='Code'>{spelled[form].format(value)}</Data>"
            f"<Data Name={quoteattr('Text')}>{escape(text)} AADSTS{aadsts}</Data>"
            "</EventData></Event>"
        )
    document = "\r\n".join(parts)
    if wrapped:
        document = f'<?xml version="1.0"?>\n<Events>{document}</Events>'
    log = aad_events.parse(document.encode(encoding))
    assert len(log.events) == len(events)
    for parsed, (event_id, level, time, code, _, _, aadsts) in zip(log.events, events, strict=True):
        assert parsed.id == event_id
        assert parsed.level == aad_events.LEVELS[level]
        assert parsed.time == time.replace(tzinfo=UTC)
        assert f"0x{code:08X}" in parsed.codes
        assert aadsts in parsed.aadsts

"""The AAD Operational log in the shapes people send besides wevtutil XML.

- a saved ``.evtx`` file (Event Viewer "Save All Events As…", or the log file itself), read
  with the ``evtx`` library (Rust, no Windows API); events come out newest first, as
  ``wevtutil /rd:true`` gives them, and each citation's ``line`` is the event's record id;
- ``Get-WinEvent … | Format-List`` text (``TimeCreated  : …``, ``Id           : 1098``,
  ``Message      : …`` with indented continuation lines);
- Event Viewer's "Copy → Copy details as text" (``Log Name:``, ``Event ID:``, ``Description:``
  and the message lines after it, optionally ``Event Xml:`` and the event's XML).

Times in the two text shapes are the PC's local time as displayed; they are read as UTC and a
note says so. Lines that are neither a field nor part of a message become notes.
"""

import io
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from odfix.evidence.aad_events import AadEvent, AadEventLog, aadsts_codes, error_codes
from odfix.evidence.aad_events import parse as parse_xml
from odfix.evidence.common import (
    MAX_ITEMS,
    Budget,
    Citation,
    ParseError,
    Skipped,
    decode,
    iter_lines,
)

EVTX_MAGIC = b"ElfFile\x00"
_FIELD = re.compile(r"^(?P<indent>[ \t]*+)(?P<key>[A-Za-z][A-Za-z ]{0,30}+):(?P<value>.*)$")
"""``Key : value`` with the key's trailing spaces inside ``key`` (stripped by the reader);
possessive, so a line without a colon fails at once."""
_KEYS = {
    "log name": "channel", "logname": "channel", "source": "provider",
    "providername": "provider", "date": "time", "timecreated": "time", "event id": "id",
    "id": "id", "eventid": "id", "level": "level", "leveldisplayname": "level",
    "computer": "computer", "machinename": "computer", "recordid": "record_id",
    "description": "message", "message": "message",
}
_STARTS = ("log name", "logname", "timecreated")
_LEVELS = {"error": "error", "warning": "warning", "information": "information",
           "critical": "critical", "verbose": "verbose"}
_TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                 "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")
_CITE_CHARS = 300


def looks_like_event_text(text: str) -> bool:
    """Whether ``text`` is Format-List or Event Viewer text of events (by its field names)."""
    head = text[:20_000].casefold()
    return bool(re.search(r"^[ \t]*(event id|id)[ \t]*:[ \t]*\d+", head, re.MULTILINE)) and (
        "log name:" in head or "providername" in head or "timecreated" in head)


def parse_evtx(data: bytes, source: str = "aad_operational.evtx") -> AadEventLog:
    """A saved ``.evtx`` log: the newest ``MAX_ITEMS`` events, newest first."""
    from evtx import PyEvtxParser

    notes: list[str] = []
    kept: deque[tuple[int, str]] = deque(maxlen=MAX_ITEMS)
    seen = 0
    try:
        for record in PyEvtxParser(io.BytesIO(data)).records():
            if record is None:
                continue
            seen += 1
            kept.append((int(record["event_record_id"]), str(record["data"])))
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        if not seen:
            raise ParseError(f"{source}: not a readable .evtx file ({error})") from None
        notes.append(f"{source}: stopped after {seen} events: {error}")
    if seen > len(kept):
        notes.append(f"{source}: kept the newest {len(kept)} of {seen} events")
    events: list[AadEvent] = []
    for record_id, xml in reversed(kept):
        for event in parse_xml(xml, source).events:
            cited = event.citation.model_copy(update={"line": record_id})
            events.append(event.model_copy(update={"citation": cited}))
    return AadEventLog(source=source, events=events, notes=notes)


@dataclass
class _Record:
    line: int
    values: dict[str, str] = field(default_factory=dict)
    message: list[tuple[int, str]] = field(default_factory=list)
    xml: list[str] = field(default_factory=list)


def parse_text(data: bytes | str, source: str = "aad_operational.txt") -> AadEventLog:
    """Format-List or Event Viewer text of events; ParseError when no event is found."""
    records, notes = _records(data, source)
    events = [event for record in records if (event := _event(record, source, notes))]
    if not events:
        raise ParseError(f"{source}: no event found (expected wevtutil XML, an .evtx file, "
                         "Get-WinEvent | Format-List or Event Viewer text)")
    notes.append(f"{source}: event times are the PC's local time as shown, read as UTC")
    return AadEventLog(source=source, events=events, notes=notes)


def _records(data: bytes | str, source: str) -> tuple[list[_Record], list[str]]:
    """Split the text into events: a record starts at ``Log Name:``/``TimeCreated`` (or when a
    field repeats); ``Description:``/``Message`` take every line after them that is not a
    field at the record's own indentation; ``Event Xml:`` takes the rest of the record."""
    records: list[_Record] = []
    skipped = Skipped(source)
    budget = Budget()
    current: _Record | None = None
    indent = 0
    mode = ""
    for number, raw in enumerate(iter_lines(data), start=1):
        if not budget.take(number):
            break
        text = raw.rstrip()
        match = _FIELD.match(text)
        folded = match["key"].strip().casefold() if match else ""
        name = _KEYS.get(folded)
        at_indent = match is not None and len(match["indent"]) <= indent
        starts = name is not None and folded in _STARTS and (current is None or at_indent)
        repeats = (current is not None and name is not None and name != "message"
                   and name in current.values and mode == "" and at_indent)
        if starts or repeats:
            current = _Record(line=number)
            records.append(current)
            indent = len(match["indent"]) if match else 0
            mode = ""
        if current is None:
            if text.strip():
                skipped.add(number, text, "not part of an event")
            continue
        if mode == "xml":
            current.xml.append(raw)
        elif folded == "event xml" and at_indent:
            mode = "xml"
        elif name is not None and match is not None and (
                mode == "" or (at_indent and name != "message")):
            value = match["value"].strip()
            mode = "message" if name == "message" else ""
            if name == "message" and value:
                current.message.append((number, value))
            elif name != "message":
                current.values.setdefault(name, value)
        elif mode == "message":
            current.message.append((number, text.strip()))
        elif text.strip():
            skipped.add(number, text, "not part of an event")
    return records, skipped.notes() + budget.note("lines", source)


def _event(record: _Record, source: str, notes: list[str]) -> AadEvent | None:
    if record.xml:
        try:
            parsed = parse_xml("\n".join(record.xml), source).events
        except ParseError:
            parsed = []
        if parsed:
            event = parsed[0]
            line = record.line + event.citation.line
            return event.model_copy(update={"citation": event.citation.model_copy(
                update={"line": line})})
    raw_id = record.values.get("id", "")
    if not raw_id.isdigit():
        notes.append(f"{source}: line {record.line}: an event without a numeric Event ID "
                     "was skipped")
        return None
    message = "\n".join(text for _, text in record.message).strip()
    cited = next(((n, t) for n, t in record.message if error_codes(t) or aadsts_codes(t)),
                 record.message[0] if record.message else (record.line, ""))
    level = record.values.get("level", "").casefold()
    return AadEvent(
        id=int(raw_id),
        time=_time(record.values.get("time", "")),
        level=_LEVELS.get(level, level or "information"),
        provider=record.values.get("provider", ""),
        channel=record.values.get("channel") or None,
        computer=record.values.get("computer") or None,
        record_id=int(record.values["record_id"]) if record.values.get(
            "record_id", "").isdigit() else None,
        message=message,
        codes=error_codes(message),
        aadsts=aadsts_codes(message),
        citation=Citation(file=source, line=cited[0], text=cited[1][:_CITE_CHARS]),
    )


def _time(text: str) -> datetime | None:
    text = text.strip()
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_capture(data: bytes, source: str = "aad_operational.xml") -> AadEventLog:
    """Any shape of the AAD log, told apart by content: .evtx, wevtutil XML, or text."""
    if data.startswith(EVTX_MAGIC):
        return parse_evtx(data, source)
    text = decode(data)
    if "<Event" not in text[:1_000_000] and looks_like_event_text(text):
        return parse_text(text, source)
    return parse_xml(text, source)


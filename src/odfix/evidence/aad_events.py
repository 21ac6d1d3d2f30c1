"""The ``Microsoft-Windows-AAD/Operational`` event log: how to get it, and a safe XML parser.

On Windows: ``wevtutil qe Microsoft-Windows-AAD/Operational /f:xml /rd:true /c:500`` (saved as
``aad_operational.xml``). wevtutil prints one ``<Event>`` element after another with no root; a
file wrapped in a root element (``/e:Events``) and UTF-16 text are accepted too. The parser never
expands entities: a DOCTYPE or ENTITY declaration is refused.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from odfix.evidence.common import MAX_ITEMS, Budget, Citation, ParseError, decode

AAD_PROVIDER = "Microsoft-Windows-AAD"
LEVELS = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information", 5: "verbose"}
_CODE_FIELDS = frozenset({"error", "result", "status", "errorcode", "hresult"})
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_SPELLED = re.compile(r"0[xX](?=([0-9A-Fa-f]{8}))")
"""Every ``0x`` + 8 hex digits, overlapping and unbounded (a decimal counts if so spelled too)."""
_HEX = re.compile(r"(?<![0-9A-Za-z])0x([0-9A-Fa-f]{8})(?![0-9A-Za-z])")
_NEGATIVE = re.compile(r"(?<![0-9A-Za-z.])-(\d{9,10})(?![0-9])")
_UNSIGNED = re.compile(r"(?<![0-9A-Za-z.\-])(\d{10})(?![0-9])")
_AADSTS = re.compile(r"\bAADSTS(\d+)\b")
_SYSTEM_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?")
_CITE_CHARS = 300
_EOL = re.compile(r"\r\n?|\n")
"""Line ends as expat counts them."""
_CHUNK = 1 << 20
MAX_DATA_VALUES = 10 * MAX_ITEMS
"""Most event data values one capture keeps (an AAD event has about ten)."""


class _Full(Exception):
    """Raised from a handler to stop expat when a capture has given all it may keep."""


class AadEvent(BaseModel):
    """One event: ids, UTC time, level, message and the error codes found in it."""

    model_config = ConfigDict(frozen=True)

    id: int
    time: datetime | None
    level: str
    provider: str
    channel: str | None = None
    computer: str | None = None
    record_id: int | None = None
    data: dict[str, str] = PydanticField(default_factory=dict)
    message: str
    codes: list[str] = PydanticField(default_factory=list)
    aadsts: list[int] = PydanticField(default_factory=list)
    citation: Citation

    @property
    def is_aad(self) -> bool:
        """True when the AAD provider wrote it (event ids repeat across providers, e.g. 1097)."""
        return self.provider.casefold() == AAD_PROVIDER.casefold()


class AadEventLog(BaseModel):
    """The events of one capture, in file order (newest first with ``/rd:true``)."""

    source: str
    events: list[AadEvent]
    notes: list[str] = PydanticField(default_factory=list)

    def by_id(self, event_id: int) -> list[AadEvent]:
        """Events of the AAD provider with this event id."""
        return [e for e in self.events if e.id == event_id and e.is_aad]

    def with_code(self, code: str) -> list[AadEvent]:
        """Events carrying ``code`` (``0xCAA2000C`` any case, or ``AADSTS50076``)."""
        wanted = code.strip().upper()
        if wanted.startswith("AADSTS"):
            number = int(wanted.removeprefix("AADSTS"))
            return [e for e in self.events if number in e.aadsts]
        wanted = "0x" + wanted.removeprefix("0X")
        return [e for e in self.events if wanted in e.codes]


def parse(data: bytes | str, source: str = "aad_operational.xml") -> AadEventLog:
    """Parse wevtutil XML; raise ParseError on malformed XML, a DOCTYPE, or no ``<Event>``.

    One pass, linear in the input: each outermost ``<Event>`` becomes an ``AadEvent`` when it
    ends, so no element tree of the whole file is held. After ``MAX_ITEMS`` events, or
    ``MAX_DATA_VALUES`` data values, the rest is not read (``notes`` says where it stopped).
    """
    text = decode(data)
    if not text.strip():
        return AadEventLog(source=source, events=[])
    reader = _Reader(source, text)
    reader.feed(text)
    if not reader.seen:
        raise ParseError(f"{source}: no <Event> element found (expected wevtutil /f:xml output)")
    notes = (reader.events_kept.note("events", source)
             + reader.data_kept.note("event data values", source))
    return AadEventLog(source=source, events=reader.events, notes=notes)


def error_codes(text: str) -> list[str]:
    """Error codes in ``text``: 32-bit hex with the failure bit (``0xCAA2000C``, ``0x8004DE40``,
    ``0xC000005F``) and signed or unsigned decimals of 0xCAA/0x8004 codes, first seen first."""
    found = [int(m, 16) for m in _HEX.findall(text)]
    found += [(1 << 32) - int(m) for m in _NEGATIVE.findall(text) if int(m) <= 1 << 31]
    found += [int(m) for m in _UNSIGNED.findall(text) if int(m) < 1 << 32]
    spelled: set[int] | None = None
    codes: dict[str, None] = {}
    for value in found:
        if value < 1 << 31:
            continue
        if not _in_family(value):
            if spelled is None:
                spelled = {int(m, 16) for m in _SPELLED.findall(text)}
            if value not in spelled:
                continue
        codes.setdefault(_hex(value))
    return list(codes)


def aadsts_codes(text: str) -> list[int]:
    """Every ``AADSTSnnnn`` number in ``text``, first seen first."""
    return list(dict.fromkeys(int(m) for m in _AADSTS.findall(text)))


def _in_family(value: int) -> bool:
    """Bare decimals count only for the 0xCAA and 0x8004 families (hex spellings always)."""
    return value >> 20 == 0xCAA or value >> 16 == 0x8004


def _hex(value: int) -> str:
    return f"0x{value:08X}"


def _blank_declarations(text: str) -> str:
    """``text`` with each ``<?xml …?>`` declaration blanked (line ends kept), in one pass.

    Expat accepts a declaration only at the very start, and wevtutil output concatenated or
    wrapped in a root has them elsewhere. The first ``>`` after ``<?xml`` must close it; when
    it does not, no ``<?xml`` before that ``>`` can, so the search resumes after it.
    """
    parts: list[str] = []
    position = done = 0
    while (start := text.find("<?xml", position)) >= 0:
        close = text.find(">", start + 5)
        if close < 0:
            break
        if text[close - 1] == "?" and close - 1 >= start + 5:
            parts += [text[done:start], re.sub(r"[^\r\n]", " ", text[start:close + 1])]
            done = close + 1
        position = close + 1
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


class _Lines:
    """The raw text of line N, for lines asked in ascending order (one forward pass)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.number = 1
        self.start = 0
        self.cached: tuple[int, str] | None = None

    def get(self, number: int) -> str:
        if self.cached is not None and self.cached[0] == number:
            return self.cached[1]
        if number < self.number:
            self.number, self.start = 1, 0
        while self.number < number:
            end = _EOL.search(self.text, self.start)
            if end is None:
                return ""
            self.start, self.number = end.end(), self.number + 1
        end = _EOL.search(self.text, self.start)
        line = self.text[self.start:end.start() if end else len(self.text)]
        self.cached = (number, line.strip()[:_CITE_CHARS])
        return self.cached[1]


@dataclass(slots=True)
class _Leaf:
    """An element that has had no child element yet, collecting its text."""

    depth: int
    tag: str
    name: str | None
    line: int
    holder: bool = False
    parts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Partial:
    """What one ``<Event>`` has shown so far (the first of each element, as ``find`` would)."""

    depth: int
    line: int
    system: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    sections: set[str] = field(default_factory=set)
    section: str | None = None
    data: dict[str, list[tuple[str | None, str, str, int]]] = field(default_factory=dict)
    message: tuple[str, int] | None = None


_SYSTEM_TEXT = frozenset({"EventID", "Level", "Channel", "Computer", "EventRecordID"})
_SYSTEM_ATTRIBUTES = {"Provider": "Name", "TimeCreated": "SystemTime"}
_HOLDERS = ("EventData", "UserData")


class _Reader:
    """Expat with no DTD or entity support, turning each outermost ``<Event>`` into an event.

    Only the innermost open element collects text (``_Leaf``), so deep nesting costs no state
    per level here.
    """

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = _Lines(text)
        self.events: list[AadEvent] = []
        self.seen = 0
        self.events_kept = Budget()
        self.data_kept = Budget(MAX_DATA_VALUES)
        self.depth = 0
        self.event: _Partial | None = None
        self.leaf: _Leaf | None = None
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._data
        self.parser.StartDoctypeDeclHandler = self._refuse
        self.parser.EntityDeclHandler = self._refuse

    def feed(self, text: str) -> None:
        declaration = _DTD.search(text)
        if declaration:
            line = text.count("\n", 0, declaration.start()) + 1
            raise ParseError(f"{self.source}: line {line}: DOCTYPE/ENTITY declarations are refused")
        blanked = _blank_declarations(text)
        try:
            self.parser.Parse(b"<odfix-wrapper>", False)
            for start in range(0, len(blanked), _CHUNK):
                chunk = blanked[start:start + _CHUNK]
                self.parser.Parse(chunk.encode("utf-8", errors="replace"), False)
            self.parser.Parse(b"</odfix-wrapper>", True)
        except _Full:
            return
        except expat.ExpatError as error:
            reason = expat.ErrorString(error.code) or "malformed"
            raise ParseError(
                f"{self.source}: line {error.lineno}: malformed XML ({reason})"
            ) from None

    def _refuse(self, *_: object) -> NoReturn:
        line = self.parser.CurrentLineNumber
        raise ParseError(f"{self.source}: line {line}: DOCTYPE/ENTITY declarations are refused")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        tag = name.rsplit(" ", 1)[-1]
        event = self.event
        if self.leaf is not None and event is not None and not self.leaf.holder:
            self._keep(event, self.leaf)
        self.leaf = None
        if event is None:
            if tag == "Event":
                line = self.parser.CurrentLineNumber
                if not self.events_kept.take(line):
                    raise _Full
                self.event = _Partial(depth=self.depth, line=line)
            return
        level = self.depth - event.depth
        if level == 1:
            first = tag not in event.sections
            event.sections.add(tag)
            event.section = tag if first else None
            return
        section = event.section
        if section is None:
            return
        if level == 2 and section == "System":
            wanted = _SYSTEM_ATTRIBUTES.get(tag)
            if wanted is not None and tag not in event.attributes:
                event.attributes[tag] = _attribute(attrs, wanted) or ""
            elif tag in _SYSTEM_TEXT and tag not in event.system:
                self.leaf = _Leaf(self.depth, tag, None, self.parser.CurrentLineNumber)
        elif level == 2 and section == "RenderingInfo" and tag == "Message":
            if event.message is None:
                self.leaf = _Leaf(self.depth, tag, None, self.parser.CurrentLineNumber)
                event.message = ("", self.leaf.line)
        elif section in _HOLDERS:
            self.leaf = _Leaf(self.depth, tag, _attribute(attrs, "Name"),
                              self.parser.CurrentLineNumber, holder=True)

    def _end(self, _name: str) -> None:
        leaf, event = self.leaf, self.event
        self.leaf = None
        if event is not None and leaf is not None and leaf.depth == self.depth:
            self._keep(event, leaf)
        if event is not None and self.depth == event.depth:
            self.event = None
            self.seen += 1
            self.events.append(_build(event, self.lines, self.source))
        self.depth -= 1

    def _keep(self, event: _Partial, leaf: _Leaf) -> None:
        text = "".join(leaf.parts)
        if event.section == "System":
            event.system[leaf.tag] = text
        elif event.section == "RenderingInfo" and event.message is not None:
            if event.message[0] == "" and leaf.tag == "Message":
                event.message = (text, leaf.line)
        elif event.section in _HOLDERS:
            if not self.data_kept.take(leaf.line):
                raise _Full
            event.data.setdefault(event.section, []).append((leaf.name, leaf.tag, text, leaf.line))

    def _data(self, text: str) -> None:
        if self.leaf is not None:
            self.leaf.parts.append(text)


def _attribute(attrs: dict[str, str], name: str) -> str | None:
    """An attribute by its local name (expat gives namespaced ones as ``uri local``)."""
    for key, value in attrs.items():
        if key.rsplit(" ", 1)[-1] == name:
            return value
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip(), 0) if value and value.strip() else None
    except ValueError:
        return None


def _time(system_time: str | None) -> datetime | None:
    match = _SYSTEM_TIME.match(system_time or "")
    if match is None:
        return None
    try:
        parsed = datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    micro = int((match[3] or "0")[:6].ljust(6, "0"))
    return parsed.replace(microsecond=micro, tzinfo=UTC)


def _shown(name: str, value: str) -> str:
    """A UInt32 error field (``Error: 3399811100``) shown in hex like Event Viewer's message."""
    number = _int(value) if value.lstrip("-").isdigit() else None
    if name.casefold() in _CODE_FIELDS and number:
        return _hex(number & 0xFFFFFFFF)
    return value


def _build(event: _Partial, lines: _Lines, source: str) -> AadEvent:
    values: dict[str, str] = {}
    cited_line: int | None = None
    for holder in _HOLDERS:
        for attribute, tag, text, line in event.data.get(holder, ()):
            name = attribute or (tag if tag != "Data" else f"Data{len(values)}")
            values[name] = text.strip()
            if cited_line is None and error_codes(_shown(attribute or "", text)):
                cited_line = line
    rendered = event.message[0].strip() if event.message is not None else ""
    if rendered and event.message is not None:
        message = event.message[0].replace("\r\n", "\n").strip()
        cited_line = event.message[1]
    else:
        message = "\n".join(f"{k}: {_shown(k, v)}" for k, v in values.items())
    event_id = _int(event.system.get("EventID"))
    if event_id is None:
        raise ParseError(f"{source}: line {event.line}: <Event> without a numeric <EventID>")
    level = _int(event.system.get("Level")) or 0
    line = cited_line if cited_line is not None else event.line
    return AadEvent(
        id=event_id,
        time=_time(event.attributes.get("TimeCreated")),
        level=LEVELS.get(level, str(level)),
        provider=event.attributes.get("Provider", ""),
        channel=_stripped(event.system.get("Channel")),
        computer=_stripped(event.system.get("Computer")),
        record_id=_int(event.system.get("EventRecordID")),
        data=values,
        message=message,
        codes=error_codes(message),
        aadsts=aadsts_codes(message),
        citation=Citation(file=source, line=line, text=lines.get(line)),
    )


def _stripped(value: str | None) -> str | None:
    return value.strip() if value is not None else None

"""The ``Microsoft-Windows-AAD/Operational`` event log: how to get it, and a safe XML parser.

On Windows: ``wevtutil qe Microsoft-Windows-AAD/Operational /f:xml /rd:true /c:500`` (saved as
``aad_operational.xml``). wevtutil prints one ``<Event>`` element after another with no root; a
file wrapped in a root element (``/e:Events``) and UTF-16 text are accepted too. The parser never
expands entities: a DOCTYPE or ENTITY declaration is refused.
"""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import NoReturn
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from odfix.evidence.common import Citation, ParseError, decode

AAD_PROVIDER = "Microsoft-Windows-AAD"
LEVELS = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information", 5: "verbose"}
_CODE_FIELDS = frozenset({"error", "result", "status", "errorcode", "hresult"})
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION = re.compile(r"<\?xml[^>]*\?>")
_HEX = re.compile(r"(?<![0-9A-Za-z])0x([0-9A-Fa-f]{8})(?![0-9A-Za-z])")
_NEGATIVE = re.compile(r"(?<![0-9A-Za-z.])-(\d{9,10})(?![0-9])")
_UNSIGNED = re.compile(r"(?<![0-9A-Za-z.\-])(\d{10})(?![0-9])")
_AADSTS = re.compile(r"\bAADSTS(\d+)\b")
_SYSTEM_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?")
_CITE_CHARS = 300


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
    """Parse wevtutil XML; raise ParseError on malformed XML, a DOCTYPE, or no ``<Event>``."""
    text = decode(data)
    if not text.strip():
        return AadEventLog(source=source, events=[])
    builder = _Builder(source)
    builder.feed(text)
    if not builder.events:
        raise ParseError(f"{source}: no <Event> element found (expected wevtutil /f:xml output)")
    raw_lines = text.splitlines()
    return AadEventLog(
        source=source,
        events=[_event(element, builder, raw_lines, source) for element in builder.events],
    )


def error_codes(text: str) -> list[str]:
    """Error codes in ``text``: 32-bit hex with the failure bit (``0xCAA2000C``, ``0x8004DE40``,
    ``0xC000005F``) and signed or unsigned decimals of 0xCAA/0x8004 codes, first seen first."""
    found = [int(m, 16) for m in _HEX.findall(text)]
    found += [(1 << 32) - int(m) for m in _NEGATIVE.findall(text) if int(m) <= 1 << 31]
    found += [int(m) for m in _UNSIGNED.findall(text) if int(m) < 1 << 32]
    codes = (_hex(value) for value in found if value >= 1 << 31 and _is_error(value, text))
    return list(dict.fromkeys(codes))


def aadsts_codes(text: str) -> list[int]:
    """Every ``AADSTSnnnn`` number in ``text``, first seen first."""
    return list(dict.fromkeys(int(m) for m in _AADSTS.findall(text)))


def _is_error(value: int, text: str) -> bool:
    """Hex spellings always count; bare decimals only for the 0xCAA and 0x8004 families."""
    if _hex(value).casefold() in text.casefold():
        return True
    return value >> 20 == 0xCAA or value >> 16 == 0x8004


def _hex(value: int) -> str:
    return f"0x{value:08X}"


class _Builder:
    """Expat with no DTD or entity support, building elements and remembering start lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.root = ET.Element("odfix-wrapper")
        self.stack = [self.root]
        self.events: list[ET.Element] = []
        self.lines: dict[int, int] = {}
        self.parser = expat.ParserCreate(namespace_separator=" ")
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
        blanked = _DECLARATION.sub(lambda m: " " * len(m.group()), text)
        wrapped = f"<odfix-wrapper>{blanked}</odfix-wrapper>"
        try:
            self.parser.Parse(wrapped.encode("utf-8", errors="replace"), True)
        except expat.ExpatError as error:
            reason = expat.ErrorString(error.code) or "malformed"
            raise ParseError(
                f"{self.source}: line {error.lineno}: malformed XML ({reason})"
            ) from None

    def _refuse(self, *_: object) -> NoReturn:
        line = self.parser.CurrentLineNumber
        raise ParseError(f"{self.source}: line {line}: DOCTYPE/ENTITY declarations are refused")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = {k.rsplit(" ", 1)[-1]: v for k, v in attrs.items()}
        element = ET.SubElement(self.stack[-1], name.rsplit(" ", 1)[-1], local)
        self.lines[id(element)] = self.parser.CurrentLineNumber
        self.stack.append(element)
        if element.tag == "Event" and not any(e.tag == "Event" for e in self.stack[:-1]):
            self.events.append(element)

    def _end(self, _name: str) -> None:
        self.stack.pop()

    def _data(self, text: str) -> None:
        element = self.stack[-1]
        if len(element):
            element[-1].tail = (element[-1].tail or "") + text
        else:
            element.text = (element.text or "") + text


def _child(element: ET.Element | None, tag: str) -> ET.Element | None:
    return element.find(tag) if element is not None else None


def _text(element: ET.Element | None, tag: str) -> str | None:
    found = _child(element, tag)
    return (found.text or "").strip() if found is not None else None


def _int(value: str | None) -> int | None:
    try:
        return int(value, 0) if value else None
    except ValueError:
        return None


def _time(system: ET.Element | None) -> datetime | None:
    created = _child(system, "TimeCreated")
    match = _SYSTEM_TIME.match(created.get("SystemTime", "")) if created is not None else None
    if match is None:
        return None
    try:
        parsed = datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    micro = int((match[3] or "0")[:6].ljust(6, "0"))
    return parsed.replace(microsecond=micro, tzinfo=UTC)


def _data_values(element: ET.Element) -> tuple[dict[str, str], list[ET.Element]]:
    values: dict[str, str] = {}
    nodes: list[ET.Element] = []
    for holder in (_child(element, "EventData"), _child(element, "UserData")):
        if holder is None:
            continue
        for node in holder.iter():
            if node is holder or len(node):
                continue
            name = node.get("Name") or (node.tag if node.tag != "Data" else f"Data{len(values)}")
            values[name] = (node.text or "").strip()
            nodes.append(node)
    return values, nodes


def _shown(name: str, value: str) -> str:
    """A UInt32 error field (``Error: 3399811100``) shown in hex like Event Viewer's message."""
    number = _int(value) if value.lstrip("-").isdigit() else None
    if name.casefold() in _CODE_FIELDS and number:
        return _hex(number & 0xFFFFFFFF)
    return value


def _first_with_code(nodes: list[ET.Element]) -> ET.Element | None:
    """The first data node holding an error code: the line a finding should quote."""
    for node in nodes:
        if error_codes(_shown(node.get("Name", ""), node.text or "")):
            return node
    return None


def _event(element: ET.Element, builder: _Builder, raw: list[str], source: str) -> AadEvent:
    system = _child(element, "System")
    provider = _child(system, "Provider")
    values, nodes = _data_values(element)
    message_node = _child(_child(element, "RenderingInfo"), "Message")
    if message_node is not None and (message_node.text or "").strip():
        message = (message_node.text or "").replace("\r\n", "\n").strip()
        cited: ET.Element | None = message_node
    else:
        message = "\n".join(f"{k}: {_shown(k, v)}" for k, v in values.items())
        cited = _first_with_code(nodes)
    line = builder.lines[id(cited if cited is not None else element)]
    text = raw[line - 1].strip() if 0 < line <= len(raw) else ""
    level = _int(_text(system, "Level")) or 0
    event_id = _int(_text(system, "EventID"))
    if event_id is None:
        start = builder.lines[id(element)]
        raise ParseError(f"{source}: line {start}: <Event> without a numeric <EventID>")
    return AadEvent(
        id=event_id,
        time=_time(system),
        level=LEVELS.get(level, str(level)),
        provider=provider.get("Name", "") if provider is not None else "",
        channel=_text(system, "Channel"),
        computer=_text(system, "Computer"),
        record_id=_int(_text(system, "EventRecordID")),
        data=values,
        message=message,
        codes=error_codes(message),
        aadsts=aadsts_codes(message),
        citation=Citation(file=source, line=line, text=text[:_CITE_CHARS]),
    )

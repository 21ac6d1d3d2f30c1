"""Registry export files (``.reg``): read what ``reg export``/regedit wrote, write the same format.

Both headers are read: ``Windows Registry Editor Version 5.00`` (UTF-16LE with a BOM, as
``reg export`` writes, or UTF-8) and ``REGEDIT4`` (ANSI strings inside ``hex(2)``/``hex(7)``).
Key paths and value names compare case-insensitively, as the registry does; ``HKCU`` and
``HKEY_CURRENT_USER`` name the same root. Every value keeps the line it came from.
"""

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from odfix.evidence.common import Budget, Citation, ParseError, Skipped, iter_lines
from odfix.hosts.base import Host, RegKind, RegValue

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"

ROOTS = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}

_HEX_KINDS: dict[int, RegKind] = {
    0: "REG_NONE", 1: "REG_SZ", 2: "REG_EXPAND_SZ", 3: "REG_BINARY", 4: "REG_DWORD",
    7: "REG_MULTI_SZ", 11: "REG_QWORD",
}
_KIND_CODES = {kind: code for code, kind in _HEX_KINDS.items()}

RegData = str | int | list[str] | bytes | None


class Cited(BaseModel):
    """A value read from a capture, with the line that shows it (bytes are hex in JSON)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="hex", val_json_bytes="hex")

    value: str | int | list[str] | bytes | None
    citation: Citation


class RegFileValue(BaseModel):
    """One value line: ``name`` is ``""`` for the default value (``@``)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="hex", val_json_bytes="hex")

    name: str
    kind: RegKind
    data: RegData
    deleted: bool = False
    citation: Citation

    def cited(self) -> Cited:
        """The value's data with its citation."""
        return Cited(value=self.data, citation=self.citation)


class RegKey(BaseModel):
    """One ``[key]`` section with its values in file order."""

    path: str
    deleted: bool = False
    citation: Citation
    values: list[RegFileValue] = []

    def get(self, name: str) -> RegFileValue | None:
        """The value called ``name`` (case-insensitive), or None."""
        wanted = name.casefold()
        for value in self.values:
            if value.name.casefold() == wanted and not value.deleted:
                return value
        return None

    def cited(self, name: str) -> Cited | None:
        """The value called ``name`` as a ``Cited``, or None."""
        value = self.get(name)
        return value.cited() if value is not None else None


class RegFile(BaseModel):
    """A parsed ``.reg`` file."""

    source: str
    version: Literal["5.00", "4"]
    keys: list[RegKey]
    notes: list[str] = []

    def key(self, path: str) -> RegKey | None:
        """The section for ``path`` (any root spelling, any case), or None."""
        wanted = normalize_key(path)
        for key in self.keys:
            if normalize_key(key.path) == wanted and not key.deleted:
                return key
        return None

    def keys_ending(self, suffix: str) -> list[RegKey]:
        """Sections whose path ends with ``suffix`` (``\\Software\\Microsoft\\OneDrive``)."""
        tail = suffix.casefold().strip("\\")
        return [k for k in self.keys if not k.deleted
                and (k.path.casefold() == tail or k.path.casefold().endswith("\\" + tail))]

    def children(self, parent: str) -> list[RegKey]:
        """Sections that are direct subkeys of the key ``parent`` (which need not have one)."""
        prefix = normalize_key(parent) + "\\"
        return [k for k in self.keys if not k.deleted
                and normalize_key(k.path).startswith(prefix)
                and "\\" not in normalize_key(k.path)[len(prefix):]]


def normalize_key(path: str) -> str:
    """Case-folded key path with the root spelled in full (``HKCU`` → ``HKEY_CURRENT_USER``)."""
    root, _, rest = path.strip().strip("\\").partition("\\")
    root = ROOTS.get(root.upper(), root.upper())
    return f"{root}\\{rest}".casefold().rstrip("\\") if rest else root.casefold()


def full_key(path: str) -> str:
    """Key path with the root spelled in full, case kept (as regedit writes it)."""
    root, sep, rest = path.strip().strip("\\").partition("\\")
    return ROOTS.get(root.upper(), root) + sep + rest


# --- reading -------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^\[(?P<deleted>-?)(?P<path>[^\]]+)\]\s*$")


class _Unreadable(Exception):
    """A line of a registry export that cannot be read (the reason is the message)."""


def parse(data: bytes | str, source: str = "capture.reg") -> RegFile:
    """Parse a ``.reg`` export; raises ``ParseError`` naming ``source`` for anything that does
    not start with a registry export header.

    After the header, a line that is no key, value or comment (a value before any key, bad
    value data, text pasted in) is noted in ``RegFile.notes`` and skipped. One pass over the
    lines, linear in the input; past ``MAX_ITEMS`` keys and values the rest is not read.
    """
    numbered = enumerate(iter_lines(data), start=1)
    header = next((text.strip() for _, text in numbered if text.strip()), None)
    if header is None:
        raise ParseError(f"{source}: empty file, expected a registry export")
    if header == HEADER_V5:
        version: Literal["5.00", "4"] = "5.00"
    elif header == HEADER_V4:
        version = "4"
    else:
        raise ParseError(f"{source}: not a registry export (first line is not {HEADER_V5!r}"
                         f" or {HEADER_V4!r})")
    keys: list[RegKey] = []
    budget = Budget()
    skipped = Skipped(source)
    for number, text in numbered:
        stripped = text.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.endswith("\\"):
            stripped = _continued(stripped, numbered)
        if not budget.take(number):
            break
        citation = Citation(file=source, line=number, text=text.rstrip())
        match = _KEY_LINE.match(stripped)
        if match:
            keys.append(RegKey(path=match["path"].strip(), deleted=bool(match["deleted"]),
                               citation=citation))
            continue
        try:
            value = _parse_value(stripped, version, citation)
            if not keys:
                raise _Unreadable("a value before any [key] section")
            keys[-1].values.append(value)
        except _Unreadable as unreadable:
            skipped.add(number, stripped, str(unreadable))
    return RegFile(source=source, version=version, keys=keys,
                   notes=skipped.notes() + budget.note("registry keys and values", source))


def _continued(first: str, numbered: Iterator[tuple[int, str]]) -> str:
    """A value line continued with ``\\`` at its end, joined with the stripped lines after it.

    Pieces are kept with an end offset, so taking off the last backslash never copies text.
    """
    pieces, ends = [first], [len(first)]
    while pieces and pieces[-1][ends[-1] - 1] == "\\":
        following = next(numbered, None)
        if following is None:
            break
        ends[-1] -= 1
        if not ends[-1]:
            pieces.pop()
            ends.pop()
        piece = following[1].strip()
        if piece:
            pieces.append(piece)
            ends.append(len(piece))
    return "".join(text[:end] for text, end in zip(pieces, ends, strict=True))


def _parse_value(text: str, version: str, citation: Citation) -> RegFileValue:
    if text.startswith("@"):
        name, rest = "", text[1:]
    elif text.startswith('"'):
        name, rest = _read_quoted(text)
    else:
        raise _Unreadable("not understood")
    rest = rest.lstrip()
    if not rest.startswith("="):
        raise _Unreadable("no '=' after the value name")
    rest = rest[1:].strip()
    if rest == "-":
        return RegFileValue(name=name, kind="REG_NONE", data=None, deleted=True,
                            citation=citation)
    kind, data = _parse_data(rest, version)
    return RegFileValue(name=name, kind=kind, data=data, citation=citation)


_QUOTED = re.compile(r'"((?:[^"\\]++|\\.)*+)"', re.DOTALL)
"""A quoted string with backslash escapes (possessive: no backtracking)."""
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _read_quoted(text: str) -> tuple[str, str]:
    """The unescaped content of the quoted string at the start of ``text`` and what follows."""
    match = _QUOTED.match(text)
    if match is None:
        raise _Unreadable("an unterminated quoted string")
    return _ESCAPE.sub(r"\1", match[1]), text[match.end():]


_BYTE_LIST = re.compile(r"(?:[0-9a-fA-F]{2},)*+[0-9a-fA-F]{2}")
"""The usual ``de,ad,be,ef`` (read at C speed); anything else goes through ``int``."""
_HEX = re.compile(r"^hex(?:\((?P<type>[0-9a-fA-F]+)\))?:(?P<bytes>.*)$", re.DOTALL)


def _parse_data(text: str, version: str) -> tuple[RegKind, RegData]:
    if text.startswith('"'):
        value, after = _read_quoted(text)
        if after.strip():
            raise _Unreadable("text after the closing quote")
        return "REG_SZ", value
    if text.lower().startswith("dword:"):
        digits = text[6:].strip()
        if not re.fullmatch(r"[0-9a-fA-F]{1,8}", digits):
            raise _Unreadable(f"a bad dword {digits[:20]!r}")
        return "REG_DWORD", int(digits, 16)
    match = _HEX.match(text)
    if not match:
        raise _Unreadable("value data not understood")
    type_code = int(match["type"], 16) if match["type"] else 3
    body = match["bytes"].replace(" ", "").rstrip(",")
    try:
        if _BYTE_LIST.fullmatch(body):
            raw = bytes.fromhex(body.replace(",", ""))
        else:
            raw = bytes(int(part, 16) for part in body.split(",")) if body else b""
    except ValueError:
        raise _Unreadable("a bad hex byte list") from None
    return _decode_hex(type_code, raw, version)


def _decode_hex(type_code: int, raw: bytes, version: str) -> tuple[RegKind, RegData]:
    kind = _HEX_KINDS.get(type_code, "REG_NONE")
    encoding = "utf-16-le" if version == "5.00" else "cp1252"
    if kind in ("REG_SZ", "REG_EXPAND_SZ"):
        return kind, _text(raw, encoding).split("\x00", 1)[0]
    if kind == "REG_MULTI_SZ":
        items = _text(raw, encoding).split("\x00")
        while items and items[-1] == "":
            items.pop()
        return kind, items
    if kind == "REG_DWORD":
        if len(raw) != 4:
            raise _Unreadable("hex(4) needs 4 bytes")
        return kind, int.from_bytes(raw, "little")
    if kind == "REG_QWORD":
        if len(raw) != 8:
            raise _Unreadable("hex(b) needs 8 bytes")
        return kind, int.from_bytes(raw, "little")
    return kind, raw


def _text(raw: bytes, encoding: str) -> str:
    if encoding == "utf-16-le" and len(raw) % 2:
        raw = raw[:-1]
    return raw.decode(encoding, errors="replace")


# --- writing -------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hex_lines(prefix: str, raw: bytes) -> list[str]:
    """``prefix`` then the bytes, wrapped with ``\\`` the way regedit wraps at 80 columns."""
    parts = [f"{b:02x}" for b in raw]
    out: list[str] = []
    line = prefix
    for index, part in enumerate(parts):
        piece = part + ("," if index < len(parts) - 1 else "")
        if len(line) + len(piece) > 79 and line.strip():
            out.append(line + "\\")
            line = "  "
        line += piece
    out.append(line)
    return out


def render_value(value: RegValue) -> list[str]:
    """The line(s) regedit writes for ``value``."""
    name = "@" if value.name == "" else _quote(value.name)
    data = value.data
    if value.kind == "REG_SZ" and isinstance(data, str) and "\x00" not in data:
        return [f"{name}={_quote(data)}"]
    if value.kind == "REG_DWORD" and isinstance(data, int):
        return [f"{name}=dword:{data & 0xFFFFFFFF:08x}"]
    return _hex_lines(f"{name}=hex({_KIND_CODES[value.kind]:x}):", _encode(value))


def _encode(value: RegValue) -> bytes:
    data = value.data
    if isinstance(data, bytes):
        return data
    if data is None:
        return b""
    if value.kind == "REG_QWORD" and isinstance(data, int):
        return (data & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    if value.kind == "REG_DWORD" and isinstance(data, int):
        return (data & 0xFFFFFFFF).to_bytes(4, "little")
    if isinstance(data, list):
        return "".join(item + "\x00" for item in data).encode("utf-16-le") + b"\x00\x00"
    return (str(data) + "\x00").encode("utf-16-le")


def render(sections: Iterable[tuple[str, Sequence[RegValue]]]) -> bytes:
    """A ``.reg`` file as ``reg export`` writes it: UTF-16LE with a BOM, CRLF line ends."""
    out = [HEADER_V5, ""]
    for path, values in sections:
        out.append(f"[{full_key(path)}]")
        for value in values:
            out.extend(render_value(value))
        out.append("")
    return codecs.BOM_UTF16_LE + ("\r\n".join(out) + "\r\n").encode("utf-16-le")


KeySpec = tuple[str, bool]
"""A key to capture and whether to include its subkeys."""


def capture_all(host: Host, specs: Iterable[KeySpec]) -> list[tuple[str, list[RegValue]]]:
    """The sections of every key in ``specs`` read through ``host`` (absent keys left out)."""
    return [section for key, recursive in specs
            for section in capture(host, key, recursive=recursive)]


def capture(host: Host, key: str, *, recursive: bool = True,
            max_keys: int = 500) -> list[tuple[str, list[RegValue]]]:
    """Values of ``key`` (and, with ``recursive``, of its subkeys) read through ``host``.

    Subkeys come in the order a breadth-first walk meets them, each as its own section (empty
    ones too, as ``reg export`` writes them). A key with no values and no subkeys gives an empty
    list: the Host protocol cannot tell it from an absent key. ``max_keys`` bounds a runaway tree.
    """
    sections: list[tuple[str, list[RegValue]]] = []
    pending = [key]
    while pending and len(sections) < max_keys:
        current = pending.pop(0)
        sections.append((current, host.list_registry_values(current)))
        if recursive:
            pending.extend(f"{current}\\{name}" for name in host.list_registry_subkeys(current))
    if len(sections) == 1 and not sections[0][1]:
        return []
    return sections

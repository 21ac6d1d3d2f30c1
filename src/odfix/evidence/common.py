"""Shared pieces of every evidence parser: decoding raw captures, citing lines, failing closed."""

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from odfix.decoding import decode as decode  # re-exported: every parser reads through it
from odfix.errors import BadInput

MAX_ITEMS = 20_000
"""Most facts one capture keeps (lines, credentials, registry keys and values, events).

A real capture holds a few hundred; a parser that reaches this stops reading there and says so
in its ``notes``, so time and memory stay bounded whatever the file's size."""

_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""The line breaks ``str.splitlines`` knows."""


class Citation(BaseModel):
    """One raw line a fact came from, so a finding can quote it (``line`` counts from 1)."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    text: str


class ParseError(BadInput):
    """A capture whose layout odfix does not recognise (exit 2, one line naming the file)."""


def lines(data: bytes | str) -> list[str]:
    """Decoded lines without their CR/LF endings; index ``i`` is line ``i + 1``."""
    return decode(data).splitlines()


def iter_lines(data: bytes | str) -> Iterator[str]:
    """The lines of :func:`lines` one at a time (no list of every line is held)."""
    text = decode(data)
    start = 0
    for match in _BREAK.finditer(text):
        yield text[start:match.start()]
        start = match.end()
    if start < len(text):
        yield text[start:]


class Budget:
    """Counts the items a parser keeps; at ``limit`` the parser stops reading and says where."""

    def __init__(self, limit: int = MAX_ITEMS) -> None:
        self.limit = limit
        self.kept = 0
        self.stopped_at: int | None = None

    def take(self, line: int) -> bool:
        """True while one more item may be kept; False (remembering ``line``) once full."""
        if self.kept < self.limit:
            self.kept += 1
            return True
        self.stopped_at = line
        return False

    def note(self, what: str, source: str | None = None) -> list[str]:
        """The note for a capture cut short (none when it was read whole), after ``source: ``
        when given."""
        if self.stopped_at is None:
            return []
        where = f"{source}: " if source else ""
        return [f"{where}not read past line {self.stopped_at - 1}: a capture keeps at most "
                f"{self.limit} {what}"]


class Skipped:
    """Lines of a capture a parser did not understand and skipped, as notes: the first
    ``SHOWN`` each named (``cmdkey_list.txt: line 14: not understood, skipped: '...'``; a shell
    prompt pasted with the output says so), the rest counted in one more note, so no file can
    grow the notes without bound."""

    SHOWN = 10

    def __init__(self, source: str) -> None:
        self.source = source
        self.named: list[str] = []
        self.more = 0

    def add(self, number: int, text: str, why: str = "not understood") -> None:
        """Note line ``number`` (its text shown cut and quoted) as skipped because ``why``."""
        if len(self.named) >= self.SHOWN:
            self.more += 1
            return
        if PROMPT.match(text):
            why = "a shell prompt"
        self.named.append(f"{self.source}: line {number}: {why}, skipped: "
                          f"{text.strip()[:60]!r}")

    def notes(self) -> list[str]:
        """The notes: the lines named, then how many more were skipped."""
        if not self.more:
            return list(self.named)
        return [*self.named, f"{self.source}: {self.more} more lines not understood, skipped"]


PROMPT = re.compile(r"^\s*(?:PS>|(?:PS )?[A-Za-z]:\\[^>]*>)")
"""A shell prompt pasted with a command's output (``C:\\Users\\x>``, ``PS C:\\>``, ``PS>``)."""


MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in a JSON capture (odfix's own files nest 4 levels)."""


def load_json(text: str, source: str) -> Any:
    """A JSON document, with one-line ``ParseError``s for bad JSON and deep nesting."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        document = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = _depth(document)
    if depth > MAX_JSON_DEPTH:
        raise ParseError(f"{source}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def _depth(document: Any) -> int:
    """How deep lists and objects nest in ``document`` (iterative, so never a RecursionError)."""
    deepest = 0
    pending = [(document, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            pending.extend((child, depth + 1) for child in children)
    return deepest


def json_keys(document: Any) -> Iterator[tuple[str, str]]:
    """Every object key at any depth, with its path (``credentials[0].Extra.Blob``)."""
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                where = f"{path}.{key}" if path else str(key)
                yield str(key), where
                pending.append((value, where))
        elif isinstance(item, list):
            pending.extend((value, f"{path}[{index}]") for index, value in enumerate(item))

"""Stored credentials: from ``cmdkey /list`` text, ``credentials.json`` or the host's API.

Only metadata is ever read (target, type, persistence, user, time, comment), never a secret blob.
Each target gets a class; only ``office`` and ``onedrive-business`` may be deleted, per the
guide's allow-list (``Guide.credential_allowlist``).
"""

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from odfix.evidence.common import (
    Budget,
    Citation,
    ParseError,
    Skipped,
    decode,
    iter_lines,
    json_keys,
    load_json,
)
from odfix.guide import load_guide
from odfix.hosts.base import CredType, Host, Persist, StoredCredential

CredentialClass = Literal["office", "onedrive-business", "teams", "msa-consumer", "other"]
DELETABLE: frozenset[str] = frozenset({"office", "onedrive-business"})


_NAMESPACE = re.compile(r"^(?P<namespace>[A-Za-z]+):(?P<attribute>[A-Za-z]+)=(?P<name>.*)$",
                        re.DOTALL)


def split_target(target: str) -> tuple[str | None, str]:
    """``LegacyGeneric:target=X`` → ``("LegacyGeneric", "X")``; a bare name → ``(None, name)``."""
    match = _NAMESPACE.match(target)
    if match:
        return match["namespace"], match["name"]
    return None, target


def classify(target: str, cred_type: int | None) -> CredentialClass:
    """The class of a credential target (cmdkey or API spelling).

    The deletable classes come only from the guide's allow-list
    (``Guide.credential_class_for``); the others are named here for reporting.
    """
    allowed = load_guide().credential_class_for(target, -1 if cred_type is None else cred_type)
    if allowed is not None:
        return allowed
    namespace, name = split_target(target)
    folded = name.casefold()
    if folded.startswith("msteams") or folded.startswith("teams"):
        return "teams"
    if (namespace or "").casefold() in ("microsoftaccount", "windowslive") or \
            folded.startswith("microsoftaccount:") or folded.startswith("virtualapp/didlogical"):
        return "msa-consumer"
    return "other"


class Credential(BaseModel):
    """One stored credential (metadata only)."""

    target: str
    name: str
    namespace: str | None = None
    type: int | None
    type_name: str | None = None
    persist: int | None = None
    user: str | None = None
    last_written: datetime | None = None
    comment: str | None = None
    credential_class: CredentialClass
    citation: Citation

    @property
    def deletable(self) -> bool:
        """Whether the fix may delete it (allow-listed class, generic type)."""
        return self.credential_class in DELETABLE and self.type == CredType.GENERIC


class CredentialList(BaseModel):
    """Credentials of one user, from one source."""

    source: str
    filter: str | None = None
    credentials: list[Credential] = []
    notes: list[str] = []

    def of_class(self, *classes: str) -> list[Credential]:
        """Credentials whose class is one of ``classes``."""
        return [c for c in self.credentials if c.credential_class in classes]


def _make(target: str, cred_type: int | None, citation: Citation, **fields: Any) -> Credential:
    namespace, name = split_target(target)
    return Credential(target=target, name=name, namespace=namespace, type=cred_type,
                      credential_class=classify(target, cred_type), citation=citation,
                      **fields)


# --- cmdkey /list ---------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*Currently stored credentials(?: for (?P<filter>.*))?:\s*$")
_FIELDS = ("Target", "Type", "User", "Comment")
_TYPE_NAMES = {
    "generic": CredType.GENERIC,
    "domain password": CredType.DOMAIN_PASSWORD,
    "domain certificate": CredType.DOMAIN_CERTIFICATE,
    "generic certificate": CredType.GENERIC_CERTIFICATE,
    "domain extended": CredType.DOMAIN_EXTENDED,
    "domain extended credentials": CredType.DOMAIN_EXTENDED,
    "domain visible password": CredType.DOMAIN_VISIBLE_PASSWORD,
}
_PERSISTENCE = {
    "local machine persistence": Persist.LOCAL_MACHINE,
    "saved for this logon only": Persist.SESSION,
    "enterprise persistence": Persist.ENTERPRISE,
}
_FOREIGN_HINT = re.compile(r"^\s*(\*\s.+\s\*|\S[^:]{0,40}:\s+\S.*)\s*$")


def _field(text: str) -> tuple[str, str] | None:
    """``(key, value)`` of a ``Target: …``/``Type:``/``User:``/``Comment:`` line, else None.

    String operations only: one optional space after the colon, trailing spaces dropped.
    """
    key, colon, rest = text.lstrip().partition(":")
    if not colon or key not in _FIELDS:
        return None
    if rest[:1].isspace():
        rest = rest[1:]
    return key, rest.rstrip()


def parse_cmdkey(data: bytes | str, source: str = "cmdkey_list.txt") -> CredentialList:
    """Parse English ``cmdkey /list`` output; another locale raises ``ParseError``."""
    numbered = enumerate(iter_lines(data), start=1)
    result: CredentialList | None = None
    first = ""
    foreign = False
    skipped = Skipped(source)
    for number, text in numbered:
        header = _HEADER.match(text)
        if header:
            result = CredentialList(source=source, filter=header["filter"])
            break
        if text.strip():
            skipped.add(number, text)
        first = first or text.strip()
        foreign = foreign or _FOREIGN_HINT.match(text) is not None
    if result is None:
        if first.endswith(":") or foreign:
            raise ParseError(f"{source}: unsupported locale or layout of cmdkey /list (header "
                             f"{first[:60]!r}); run it on an English prompt or collect "
                             "credentials.json with odfix collect")
        raise ParseError(f"{source}: not a cmdkey /list output (no 'Currently stored "
                         "credentials:' header)")
    _read_entries(numbered, result, source, skipped)
    return result


def _read_entries(numbered: Iterator[tuple[int, str]], result: CredentialList,
                  source: str, skipped: Skipped) -> None:
    """The entries after the header, one ``Credential`` per ``Target:`` line; a line that is
    none of cmdkey's is noted and skipped."""
    budget = Budget()
    current: dict[str, Any] | None = None

    def finish() -> None:
        if current is not None:
            result.credentials.append(_make(**current))

    for number, text in numbered:
        stripped = text.strip()
        if not stripped:
            continue
        if stripped == "* NONE *":
            continue
        field = _field(text)
        if field and field[0] == "Target":
            finish()
            current = None
            if not budget.take(number):
                break
            citation = Citation(file=source, line=number, text=text.rstrip())
            current = {"target": field[1], "cred_type": None, "citation": citation}
            continue
        if current is None:
            skipped.add(number, text)
            continue
        if field and field[0] == "Type":
            current["cred_type"] = _TYPE_NAMES.get(field[1].casefold())
            current["type_name"] = field[1]
        elif field and field[0] == "User":
            current["user"] = field[1] or None
        elif field and field[0] == "Comment":
            current["comment"] = field[1] or None
        elif stripped.casefold() in _PERSISTENCE:
            current["persist"] = int(_PERSISTENCE[stripped.casefold()])
        else:
            skipped.add(number, text)
    finish()
    result.notes = skipped.notes() + budget.note("credentials", source)


# --- credentials.json -----------------------------------------------------------------------

_SECRET_FIELD = re.compile(r"blob|secret|passw|pwd|token|key", re.IGNORECASE)


def to_json(credentials: list[StoredCredential]) -> bytes:
    """``credentials.json`` as ``collect`` writes it: metadata only, one target per line."""
    rows = [c.model_dump(mode="json") for c in credentials]
    return (json.dumps({"credentials": rows}, indent=2, ensure_ascii=False) + "\n").encode()


def secret_field(document: Any) -> str | None:
    """The path of the first secret-looking key anywhere in ``document`` (at any depth)."""
    return next((path for key, path in json_keys(document) if _SECRET_FIELD.search(key)), None)


def parse_json(data: bytes | str, source: str = "credentials.json") -> CredentialList:
    """Parse ``credentials.json``; a file carrying a secret-looking field anywhere is refused."""
    text = decode(data)
    document = load_json(text, source)
    secret = secret_field(document)
    if secret is not None:
        raise ParseError(f"{source}: refused: secret-looking field {secret!r}; bundles must "
                         "never carry secrets")
    rows = document.get("credentials") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise ParseError(f"{source}: expected an object with a 'credentials' list")
    spans = _row_spans(text, len(rows))
    lines = _LineIndex(text)
    budget = Budget()
    result = CredentialList(source=source)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ParseError(f"{source}: credential {number} is not an object")
        try:
            item = StoredCredential.model_validate(row)
        except ValidationError as error:
            problem = error.errors()[0]
            raise ParseError(f"{source}: credential {number}: "
                             f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from error
        start, end = spans[number - 1] if spans else (0, 0)
        if not budget.take(lines.at(start)[0]):
            break
        needle = text.find(json.dumps(item.target, ensure_ascii=False), start, end)
        line, line_text = lines.at(needle if needle >= 0 else start)
        citation = Citation(file=source, line=line, text=line_text)
        result.credentials.append(_make(
            item.target, item.type, citation, persist=item.persist,
            user=item.user_name, last_written=item.last_written, comment=item.comment))
    result.notes = budget.note("credentials", source)
    return result


_WS = re.compile(r"[ \t\n\r]*")


def _row_spans(text: str, count: int) -> list[tuple[int, int]] | None:
    """Where each row of the (last) top-level ``credentials`` list starts and ends in ``text``.

    A walk over valid JSON with the standard decoder, linear in the text; None if the layout
    is not the expected one (then rows are cited at line 1).
    """
    decoder = json.JSONDecoder()
    found: list[tuple[int, int]] | None = None
    try:
        at = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if text[at] != "{":
            return None
        at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
        while text[at] != "}":
            key, at = decoder.raw_decode(text, at)
            at = _WS.match(text, _WS.match(text, at).end() + 1).end()  # type: ignore[union-attr]
            if key == "credentials" and text[at] == "[":
                found, at = _list_spans(decoder, text, at)
            else:
                at = decoder.raw_decode(text, at)[1]
            at = _WS.match(text, at).end()  # type: ignore[union-attr]
            if text[at] == ",":
                at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
    except (IndexError, ValueError):
        return None
    return found if found is not None and len(found) == count else None


def _list_spans(decoder: json.JSONDecoder, text: str,
                at: int) -> tuple[list[tuple[int, int]], int]:
    spans: list[tuple[int, int]] = []
    at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
    while text[at] != "]":
        end = decoder.raw_decode(text, at)[1]
        spans.append((at, end))
        at = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[at] == ",":
            at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
    return spans, at + 1


class _LineIndex:
    """Line number and text at ascending offsets of ``text``, in one forward pass."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1
        self.start = 0
        self.cached: tuple[int, str] | None = None

    def at(self, offset: int) -> tuple[int, str]:
        if offset < self.offset:
            self.offset, self.line, self.start, self.cached = 0, 1, 0, None
        newlines = self.text.count("\n", self.offset, offset)
        if newlines:
            self.line += newlines
            self.start = self.text.rfind("\n", self.offset, offset) + 1
            self.cached = None
        self.offset = offset
        if self.cached is None or self.cached[0] != self.line:
            end = self.text.find("\n", self.start)
            line_text = self.text[self.start:end if end >= 0 else len(self.text)]
            self.cached = (self.line, line_text.removesuffix("\r"))
        return self.cached


def from_host(host: Host) -> CredentialList:
    """The calling user's credentials through the host's Credential Manager API."""
    return parse_json(to_json(host.list_credentials()), source="credentials.json")

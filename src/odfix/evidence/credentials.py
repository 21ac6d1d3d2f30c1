"""Stored credentials: from ``cmdkey /list`` text, ``credentials.json`` or the host's API.

Only metadata is ever read (target, type, persistence, user, time, comment), never a secret blob.
Each target gets a class; only ``office`` and ``onedrive-business`` may be deleted, per the
guide's allow-list (``Guide.credential_allowlist``).
"""

import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from odfix.evidence.common import Citation, ParseError, decode, lines
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
_FIELD = re.compile(r"^\s*(?P<key>Target|Type|User|Comment):\s?(?P<value>.*?)\s*$")
_TYPE_NAMES = {
    "generic": CredType.GENERIC,
    "domain password": CredType.DOMAIN_PASSWORD,
    "domain certificate": CredType.DOMAIN_CERTIFICATE,
    "generic certificate": CredType.GENERIC_CERTIFICATE,
    "domain extended": CredType.DOMAIN_EXTENDED,
}
_PERSISTENCE = {
    "local machine persistence": Persist.LOCAL_MACHINE,
    "saved for this logon only": Persist.SESSION,
    "enterprise persistence": Persist.ENTERPRISE,
}
_PROMPT = re.compile(r"^\s*(?:PS )?[A-Za-z]:\\[^>]*>")
"""A shell prompt line pasted with the output (``C:\\Users\\x>`` or ``PS C:\\>``)."""
_FOREIGN_HINT = re.compile(r"^\s*(\*\s.+\s\*|\S[^:]{0,40}:\s+\S.*)\s*$")


def parse_cmdkey(data: bytes | str, source: str = "cmdkey_list.txt") -> CredentialList:
    """Parse English ``cmdkey /list`` output; another locale raises ``ParseError``."""
    raw = lines(data)
    start = next((i for i, text in enumerate(raw) if _HEADER.match(text)), None)
    if start is None:
        first = next((t.strip() for t in raw if t.strip()), "")
        if first.endswith(":") or any(_FOREIGN_HINT.match(t) for t in raw):
            raise ParseError(f"{source}: unsupported locale or layout of cmdkey /list (header "
                             f"{first[:60]!r}); run it on an English prompt or collect "
                             "credentials.json with odfix collect")
        raise ParseError(f"{source}: not a cmdkey /list output (no 'Currently stored "
                         "credentials:' header)")
    header = _HEADER.match(raw[start])
    result = CredentialList(source=source, filter=header["filter"] if header else None)
    current: dict[str, Any] | None = None

    def finish() -> None:
        if current is not None:
            result.credentials.append(_make(**current))

    for index in range(start + 1, len(raw)):
        text = raw[index]
        stripped = text.strip()
        if not stripped:
            continue
        if stripped == "* NONE *" or _PROMPT.match(text):
            continue
        citation = Citation(file=source, line=index + 1, text=text.rstrip())
        field = _FIELD.match(text)
        if field and field["key"] == "Target":
            finish()
            current = {"target": field["value"], "cred_type": None, "citation": citation}
            continue
        if current is None:
            raise ParseError(f"{source}: line {index + 1}: {stripped[:60]!r} before any Target")
        if field and field["key"] == "Type":
            name = field["value"].casefold()
            current["cred_type"] = _TYPE_NAMES.get(name)
            current["type_name"] = field["value"]
        elif field and field["key"] == "User":
            current["user"] = field["value"] or None
        elif field and field["key"] == "Comment":
            current["comment"] = field["value"] or None
        elif stripped.casefold() in _PERSISTENCE:
            current["persist"] = int(_PERSISTENCE[stripped.casefold()])
        else:
            raise ParseError(f"{source}: line {index + 1}: unrecognised line {stripped[:60]!r}")
    finish()
    return result


# --- credentials.json -----------------------------------------------------------------------

_SECRET_FIELD = re.compile(r"blob|secret|passw|pwd|token|key", re.IGNORECASE)


def to_json(credentials: list[StoredCredential]) -> bytes:
    """``credentials.json`` as ``collect`` writes it: metadata only, one target per line."""
    rows = [c.model_dump(mode="json") for c in credentials]
    return (json.dumps({"credentials": rows}, indent=2, ensure_ascii=False) + "\n").encode()


def parse_json(data: bytes | str, source: str = "credentials.json") -> CredentialList:
    """Parse ``credentials.json``; a file carrying any secret-looking field is refused."""
    text = decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from error
    rows = document.get("credentials") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise ParseError(f"{source}: expected an object with a 'credentials' list")
    raw = text.splitlines()
    result = CredentialList(source=source)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ParseError(f"{source}: credential {number} is not an object")
        secret = next((k for k in row if _SECRET_FIELD.search(str(k))), None)
        if secret is not None:
            raise ParseError(f"{source}: refused: credential {number} has a secret-looking "
                             f"field {secret!r}; bundles must never carry secrets")
        try:
            item = StoredCredential.model_validate(row)
        except ValidationError as error:
            problem = error.errors()[0]
            raise ParseError(f"{source}: credential {number}: "
                             f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from error
        needle = json.dumps(item.target, ensure_ascii=False)
        line = next((i for i, t in enumerate(raw, start=1) if needle in t), 1)
        citation = Citation(file=source, line=line, text=raw[line - 1] if raw else "")
        result.credentials.append(_make(
            item.target, item.type, citation, persist=item.persist,
            user=item.user_name, last_written=item.last_written, comment=item.comment))
    return result


def from_host(host: Host) -> CredentialList:
    """The calling user's credentials through the host's Credential Manager API."""
    return parse_json(to_json(host.list_credentials()), source="credentials.json")

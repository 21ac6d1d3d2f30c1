"""Replace personal and organisational identifiers in a bundle by stable keyed tokens.

E-mail addresses and UPNs, e-mail domains, GUIDs (tenant, device and account ids), SIDs,
computer names, Windows account and profile names, SharePoint tenant names and the display
names Office and OneDrive keep are each replaced, in every file, by an HMAC-SHA256 token under
one key: the same identifier gives the same token everywhere in a bundle (and across bundles
made with the same key), so fleet checks such as "one device id on two PCs" still work.
Tokens keep the shape parsers expect (a GUID stays a GUID, an address stays an address).
"""

import codecs
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from odfix.evidence import regfile
from odfix.evidence.common import ParseError, decode
from odfix.hosts.base import RegValue

_EDGE = r"(?<![A-Za-z0-9@])"
_END = r"(?![A-Za-z0-9@])"
EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SID = re.compile(r"S-1-5-21(?:-\d+){3,4}")
PUID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{16}(?![0-9A-Za-z])")
"""16-hex-digit account ids (OneDrive ``cid``, Microsoft account ids in Credential Manager)."""
_WELL_KNOWN_GUID = re.compile(r"0{7}[0-9a-f]-0000-0000-c000-0{12}|0{8}-0{4}-0{4}-0{4}-0{12}",
                              re.IGNORECASE)

_CONTEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("host", re.compile(r"(?im)^\s*(?:Device ?Name|Computer ?Name|Machine ?Name)\s*:\s*"
                        r"(?P<v>[^\s.]{2,})(?:\.(?P<d>\S+))?")),
    ("tenant", re.compile(r"(?im)^\s*\w*Tenant ?Name\s*:\s*(?P<v>\S.*?)\s*$")),
    ("host", re.compile(r"(?i)<Computer>(?P<v>[^<.]+)(?:\.(?P<d>[^<]+))?</Computer>")),
    ("host", re.compile(r"(?i)(?:interactive|target)=(?P<v>[\w-]{2,15})\\(?P<u>[^\s\\]+)")),
    ("host", re.compile(r"(?im)^\s*User:\s*(?P<v>[\w-]{2,15})\\(?P<u>\S+)")),
    ("user", re.compile(r"(?i)\\+Users\\+(?P<v>[^\\\"\r\n<>]+?)(?=\\|\"|$)")),
    ("tenant", re.compile(r"(?i)(?<![a-z0-9-])(?P<v>[a-z0-9-]{2,63}?)(?:-my)?"
                          r"\.(?:sharepoint|onmicrosoft)\.com")),
    ("host", re.compile(r'(?i)"host_name"\s*:\s*"(?P<v>[^"]+)"')),
)
_GROUP_KINDS = {"v": None, "u": "user", "d": "domain"}
PERSON_VALUES = frozenset(n.casefold() for n in (
    "UserName", "FriendlyName", "FirstName", "LastName", "ADUserDisplayName", "DisplayName",
    "Initials"))
_NOT_NAMES = frozenset({
    "public", "default", "all users", "default user", "administrator", "microsoft", "windows",
    "office", "onedrive", "software", "user", "users", "system", "business", "personal",
    "common", "identity", "login", "local", "domain", "generic", "target", "legacygeneric"})
"""Words that name structure (registry paths, cmdkey fields), never replaced globally."""


@dataclass
class Pseudonymizer:
    """Finds identifiers and maps each to its token under ``key``."""

    key: bytes
    tokens: dict[str, str] = field(default_factory=dict)
    _pattern: tuple[int, re.Pattern[str]] | None = None

    def digest(self, kind: str, value: str) -> str:
        """Hex HMAC-SHA256 of ``kind:value`` (case-folded) under the key."""
        message = f"{kind}:{value.casefold()}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def token(self, kind: str, value: str) -> str:
        """The token for ``value`` (registered so every later occurrence is replaced)."""
        folded = value.casefold()
        if folded in self.tokens:
            return self.tokens[folded]
        digest = self.digest(kind, value)
        if kind == "email":
            local, _, domain = value.rpartition("@")
            made = f"user-{self.digest('local', local)[:10]}@{self.token('domain', domain)}"
        elif kind == "guid":
            made = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        elif kind == "sid":
            parts = [str(int(digest[i:i + 8], 16)) for i in range(0, 32, 8)]
            made = "S-1-5-21-" + "-".join(parts)
        elif kind == "puid":
            made = digest[:16]
        elif kind == "domain":
            made = f"dom-{digest[:10]}.example"
        else:
            made = f"{kind}-{digest[:10]}"
        self.tokens[folded] = made
        return made

    def discover(self, text: str) -> None:
        """Register the identifiers found in ``text``."""
        for match in EMAIL.finditer(text):
            self.token("email", match.group())
        for match in GUID.finditer(text):
            if not _WELL_KNOWN_GUID.fullmatch(match.group()):
                self.token("guid", match.group())
        for match in SID.finditer(text):
            self.token("sid", match.group())
        for match in PUID.finditer(text):
            self.token("puid", match.group())
        for kind, rule in _CONTEXT_RULES:
            for match in rule.finditer(text):
                for group, value in match.groupdict().items():
                    value = (value or "").strip()
                    if len(value) >= 3 and value.casefold() not in _NOT_NAMES:
                        self.token(_GROUP_KINDS[group] or kind, value)

    def discover_values(self, values: Iterable[RegValue]) -> None:
        """Register identifiers in the text of registry values."""
        for value in values:
            items = value.data if isinstance(value.data, list) else [value.data]
            for item in items:
                if isinstance(item, str):
                    self.discover(item)

    def replace(self, text: str) -> str:
        """``text`` with every registered identifier replaced by its token."""
        if not self.tokens:
            return text
        if self._pattern is None or self._pattern[0] != len(self.tokens):
            ordered = sorted(self.tokens, key=len, reverse=True)
            self._pattern = (len(self.tokens), re.compile(
                _EDGE + "(?:" + "|".join(map(re.escape, ordered)) + ")" + _END, re.IGNORECASE))
        return self._pattern[1].sub(lambda m: self.tokens[m.group().casefold()], text)


def _reg_sections(data: bytes) -> list[tuple[str, list[RegValue]]] | None:
    try:
        parsed = regfile.parse(data)
    except ParseError:
        return None
    return [(key.path, [RegValue(name=v.name, kind=v.kind, data=v.data) for v in key.values
                        if not v.deleted]) for key in parsed.keys if not key.deleted]


def _replace_value(value: RegValue, names: Pseudonymizer) -> RegValue:
    """The value with identifiers replaced; a person's name (display, first, last name) is
    replaced whole, in its own value only, since it may be an ordinary word."""
    data = value.data
    if isinstance(data, str) and value.name.casefold() in PERSON_VALUES and data.strip() \
            and not EMAIL.fullmatch(data.strip()):
        data = "person-" + names.digest("person", data.strip())[:10]
    elif isinstance(data, str):
        data = names.replace(data)
    elif isinstance(data, list):
        data = [names.replace(item) for item in data]
    return RegValue(name=names.replace(value.name), kind=value.kind, data=data)


def pseudonymize(files: Mapping[str, bytes], key: bytes) -> dict[str, bytes]:
    """Every file of a bundle with its identifiers replaced (``.reg`` files re-rendered)."""
    names = Pseudonymizer(key)
    registry = {name: _reg_sections(data) for name, data in files.items()
                if name.lower().endswith(".reg")}
    for sections in registry.values():
        for path, values in sections or []:
            names.discover(path)
            names.discover_values(values)
    for data in files.values():
        names.discover(decode(data))
    out: dict[str, bytes] = {}
    for name, data in files.items():
        sections = registry.get(name)
        if sections is not None:
            rendered = regfile.render([(names.replace(path),
                                        [_replace_value(v, names) for v in values])
                                       for path, values in sections])
            out[name] = rendered
            continue
        text = names.replace(decode(data))
        wide = data.startswith(codecs.BOM_UTF16_LE)
        out[name] = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if wide else text.encode()
    return out

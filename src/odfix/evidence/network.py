"""Network and TLS settings that decide whether OneDrive can reach Microsoft's sign-in service.

Read and reported only; nothing here changes a setting. Sources:
``netsh winhttp show proxy`` (``winhttp_proxy.txt``), the user's Internet Settings key
(``internet_settings.reg``: proxy and ``SecureProtocols``) and the SCHANNEL protocol keys
(``schannel.reg``: TLS 1.2 client ``Enabled`` / ``DisabledByDefault``).
"""

import re
from collections.abc import Mapping

from pydantic import BaseModel

from odfix.evidence import regfile
from odfix.evidence.common import Budget, Citation, ParseError, Skipped, iter_lines
from odfix.evidence.regfile import Cited

INTERNET_SETTINGS: tuple[regfile.KeySpec, ...] = (
    ("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings", False),
)
"""``internet_settings.reg``: the key's own values (its large subtrees are left out)."""
SCHANNEL: tuple[regfile.KeySpec, ...] = (
    ("HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols",
     True),
)
"""``schannel.reg``: the SCHANNEL protocol switches."""

# WinINet SecureProtocols bits (Internet Options → Advanced).
PROTOCOL_BITS = {"SSL 2.0": 0x8, "SSL 3.0": 0x20, "TLS 1.0": 0x80, "TLS 1.1": 0x200,
                 "TLS 1.2": 0x800, "TLS 1.3": 0x2000}
TLS12_BIT = PROTOCOL_BITS["TLS 1.2"]


class WinHttpProxy(BaseModel):
    """``netsh winhttp show proxy``: direct access, or a proxy with its bypass list."""

    direct: bool
    proxy_server: str | None = None
    bypass_list: list[str] = []
    citations: list[Citation]
    notes: list[str] = []


_WINHTTP_HEADER = re.compile(r"^\s*Current WinHTTP proxy settings:\s*$")
_WINHTTP_KEYS = ("Proxy Server(s)", "Bypass List")


def _winhttp_field(text: str) -> tuple[str, str] | None:
    """``(key, value)`` of a ``Proxy Server(s) : …`` or ``Bypass List : …`` line, else None."""
    key, colon, value = text.partition(":")
    key = key.strip()
    return (key, value.strip()) if colon and key in _WINHTTP_KEYS else None


def parse_winhttp(data: bytes | str, source: str = "winhttp_proxy.txt") -> WinHttpProxy:
    """Parse English ``netsh winhttp show proxy`` output; a line that is none of its own is
    noted and skipped."""
    numbered = enumerate(iter_lines(data), start=1)
    mentions = False
    header: tuple[int, str] | None = None
    skipped = Skipped(source)
    for line in numbered:
        if _WINHTTP_HEADER.match(line[1]):
            header = line
            break
        mentions = mentions or "winhttp" in line[1].casefold()
        if line[1].strip():
            skipped.add(*line)
    if header is None:
        if mentions:
            raise ParseError(f"{source}: unsupported locale of netsh winhttp show proxy "
                             "(no English 'Current WinHTTP proxy settings:' header)")
        raise ParseError(f"{source}: not a netsh winhttp show proxy output")
    citations = [Citation(file=source, line=header[0], text=header[1].rstrip())]
    budget = Budget()
    direct = False
    server: str | None = None
    bypass: list[str] = []
    for number, text in numbered:
        field = _winhttp_field(text)
        is_direct = text.strip().casefold().startswith("direct access")
        if not (is_direct or field):
            if text.strip():
                skipped.add(number, text)
            continue
        if not budget.take(number):
            break
        citations.append(Citation(file=source, line=number, text=text.rstrip()))
        if is_direct:
            direct = True
        elif field and field[0].startswith("Proxy"):
            server = field[1] or None
        elif field:
            value = field[1]
            bypass = [] if value.casefold() in ("", "(none)") else \
                [p.strip() for p in re.split(r"[;,]", value) if p.strip()]
    if not direct and server is None:
        raise ParseError(f"{source}: neither 'Direct access' nor 'Proxy Server(s)' found")
    return WinHttpProxy(direct=direct, proxy_server=server, bypass_list=bypass,
                        citations=citations,
                        notes=skipped.notes() + budget.note("proxy lines", source))


class InternetSettings(BaseModel):
    """The user's WinINet proxy and protocol settings."""

    proxy_enable: Cited | None = None
    proxy_server: Cited | None = None
    proxy_override: Cited | None = None
    auto_config_url: Cited | None = None
    auto_detect: Cited | None = None
    secure_protocols: Cited | None = None
    notes: list[str] = []
    """Lines of the export skipped (``RegFile.notes``)."""

    @property
    def enabled_protocols(self) -> list[str] | None:
        """Protocol names whose bit is set in ``SecureProtocols`` (None when absent)."""
        if self.secure_protocols is None or not isinstance(self.secure_protocols.value, int):
            return None
        mask = self.secure_protocols.value
        return [name for name, bit in PROTOCOL_BITS.items() if mask & bit]


def parse_internet_settings(data: bytes | str,
                            source: str = "internet_settings.reg") -> InternetSettings:
    """Parse an export of the user's ``Internet Settings`` key."""
    reg = regfile.parse(data, source)
    keys = reg.keys_ending("CurrentVersion\\Internet Settings")
    if not keys:
        raise ParseError(f"{source}: no [...\\Internet Settings] key in this export")
    key = keys[0]
    return InternetSettings(
        proxy_enable=key.cited("ProxyEnable"), proxy_server=key.cited("ProxyServer"),
        proxy_override=key.cited("ProxyOverride"), auto_config_url=key.cited("AutoConfigURL"),
        auto_detect=key.cited("AutoDetect"), secure_protocols=key.cited("SecureProtocols"),
        notes=reg.notes)


class Schannel(BaseModel):
    """SCHANNEL TLS 1.2 client switches (absent = the operating system's default)."""

    tls12_client_enabled: Cited | None = None
    tls12_client_disabled_by_default: Cited | None = None
    notes: list[str] = []
    """Lines of the export skipped (``RegFile.notes``)."""


def parse_schannel(data: bytes | str, source: str = "schannel.reg") -> Schannel:
    """Parse an export of the SCHANNEL ``Protocols`` key (or part of it)."""
    reg = regfile.parse(data, source)
    if not reg.keys_ending("SCHANNEL\\Protocols") and not any(
            "\\schannel\\protocols\\" in k.path.casefold() for k in reg.keys):
        raise ParseError(f"{source}: no [...\\SCHANNEL\\Protocols] key in this export")
    clients = reg.keys_ending("SCHANNEL\\Protocols\\TLS 1.2\\Client")
    if not clients:
        return Schannel(notes=reg.notes)
    client = clients[0]
    return Schannel(tls12_client_enabled=client.cited("Enabled"),
                    tls12_client_disabled_by_default=client.cited("DisabledByDefault"),
                    notes=reg.notes)


class NetworkState(BaseModel):
    """Everything read about proxies and TLS, and whether TLS 1.2 is usable."""

    winhttp: WinHttpProxy | None = None
    internet_settings: InternetSettings | None = None
    schannel: Schannel | None = None
    tls12_enabled: bool | None = None
    tls12_citations: list[Citation] = []


def tls12_verdict(internet: InternetSettings | None,
                  schannel: Schannel | None) -> tuple[bool | None, list[Citation]]:
    """TLS 1.2 on (True), off (False) or not set explicitly anywhere read (None), with its lines.

    Off wins: SCHANNEL ``Enabled`` = 0, ``DisabledByDefault`` ≠ 0, or ``SecureProtocols``
    without the 0x800 bit each turn it off for the clients OneDrive uses.
    """
    off: list[Citation] = []
    on: list[Citation] = []
    if schannel is not None:
        for cited, off_value in ((schannel.tls12_client_enabled, True),
                                 (schannel.tls12_client_disabled_by_default, False)):
            if cited is not None and isinstance(cited.value, int):
                (off if (cited.value == 0) == off_value else on).append(cited.citation)
    if internet is not None and internet.secure_protocols is not None \
            and isinstance(internet.secure_protocols.value, int):
        has_bit = bool(internet.secure_protocols.value & TLS12_BIT)
        (on if has_bit else off).append(internet.secure_protocols.citation)
    if off:
        return False, off
    if on:
        return True, on
    return None, []


def from_files(files: Mapping[str, bytes]) -> NetworkState | None:
    """The network state from whichever of the three captures are present (None if none)."""
    winhttp = parse_winhttp(files["winhttp_proxy.txt"]) if "winhttp_proxy.txt" in files \
        else None
    internet = parse_internet_settings(files["internet_settings.reg"]) \
        if "internet_settings.reg" in files else None
    schannel = parse_schannel(files["schannel.reg"]) if "schannel.reg" in files else None
    if winhttp is None and internet is None and schannel is None:
        return None
    verdict, citations = tls12_verdict(internet, schannel)
    return NetworkState(winhttp=winhttp, internet_settings=internet, schannel=schannel,
                        tls12_enabled=verdict, tls12_citations=citations)

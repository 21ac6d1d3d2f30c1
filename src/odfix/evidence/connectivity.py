"""What OneDrive needs from the network, tested for real: DNS, TCP and a TLS 1.2+ handshake.

Endpoints (Microsoft Learn, "Microsoft 365 URLs and IP address ranges", worldwide): sign-in
``login.microsoftonline.com`` and device authentication ``device.login.microsoftonline.com``
(ID 56, required), device registration ``enterpriseregistration.windows.net`` (ID 59,
required), and the tenant's SharePoint/OneDrive hosts (ID 31, ``<tenant>-my.sharepoint.com``),
taken from the OneDrive account's ``SPOResourceId``/``TeamSiteSPOResourceId``.

Each handshake is verified first against the public roots (certifi's Mozilla store). A
certificate that only the PC's own store trusts comes from a private CA: TLS inspection, which
breaks device authentication on ``device.login.microsoftonline.com``. The issuer is reported
either way. When Internet Options (WinINET, what OneDrive uses) or WinHTTP names a proxy, the
test goes through it with ``CONNECT``, as OneDrive would. The handshake is OpenSSL's, not
SChannel's, so it shows the network path; SChannel's own settings are read from the registry:
the TLS cipher-suite order (``Functions``, the group policy first) is reported, never changed.

Nothing here reaches the network unless ``probe`` is given: ``Prober`` takes the resolver and
the trust stores as arguments, so tests point it at local servers.
"""

import contextlib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from odfix.evidence import network
from odfix.evidence.common import ParseError
from odfix.hosts.base import Host

Address = tuple[str, int]
Resolver = Callable[[str, int], list[Address]]
Trust = Literal["public", "private-ca", "untrusted"]

SIGN_IN = "login.microsoftonline.com"
DEVICE_AUTH = "device.login.microsoftonline.com"
REGISTRATION = "enterpriseregistration.windows.net"
ENDPOINTS: tuple[tuple[str, str], ...] = (
    (SIGN_IN, "sign-in (Microsoft Entra ID)"),
    (DEVICE_AUTH, "device authentication (PRT); TLS inspection here breaks it"),
    (REGISTRATION, "device registration (DRS)"),
)
ACCOUNTS_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts"
SITE_VALUES = ("SPOResourceId", "TeamSiteSPOResourceId")
CIPHER_LOCAL_KEY = (r"HKLM\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local"
                    r"\Default\00010002")
CIPHER_POLICY_KEY = r"HKLM\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002"
AFD_SUITES = ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
              "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
"""The TLS 1.2 suites Azure Front Door accepts (Microsoft's 0x8004de40 article)."""
TIMEOUT_S = 10.0


class EndpointCheck(BaseModel):
    """DNS, TCP and TLS to one endpoint; ``error`` names the first stage that failed."""

    host: str
    port: int = 443
    purpose: str
    via: str = "direct"
    addresses: list[str] = Field(default_factory=list)
    tcp: bool = False
    tls_version: str | None = None
    cipher: str | None = None
    issuer: str | None = None
    trust: Trust | None = None
    error: str | None = None
    ms: int = 0

    @property
    def ok(self) -> bool:
        """Reachable with TLS 1.2+ and a publicly trusted certificate."""
        return self.error is None and self.trust == "public"


class ProxyInfo(BaseModel):
    """The proxies this PC names; ``used`` is the one the tests went through."""

    wininet: str | None = None
    auto_config: str | None = None
    winhttp: str | None = None
    used: str | None = None


class CipherOrder(BaseModel):
    """SChannel's TLS cipher-suite order and where it comes from."""

    source: Literal["policy", "local", "default"]
    suites: list[str] = Field(default_factory=list)
    afd_positions: dict[str, int | None] = Field(default_factory=dict)


class ConnectivityReport(BaseModel):
    """``connectivity.json``: the endpoint tests, the proxy, the cipher-suite order."""

    tested: bool
    endpoints: list[EndpointCheck] = Field(default_factory=list)
    proxy: ProxyInfo
    ciphers: CipherOrder
    notes: list[str] = Field(default_factory=list)

    def problems(self) -> list[str]:
        """What stands between OneDrive and Microsoft 365, one sentence each."""
        found = []
        for check in self.endpoints:
            if check.error is not None:
                found.append(f"{check.host}: {check.error}")
            elif check.trust == "private-ca":
                found.append(f"{check.host}: TLS inspection (certificate issued by "
                             f"{check.issuer}, a CA only this PC trusts)"
                             + ("; device authentication fails behind it"
                                if check.host == DEVICE_AUTH else ""))
            elif check.trust == "untrusted":
                found.append(f"{check.host}: certificate not trusted (issuer {check.issuer})")
        if self.ciphers.source != "default" and not any(
                p is not None for p in self.ciphers.afd_positions.values()):
            found.append(f"none of Azure Front Door's TLS 1.2 cipher suites is enabled "
                         f"({self.ciphers.source} order)")
        return found


def _default_resolver(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys((str(info[4][0]), int(info[4][1])) for info in infos))


def _public_trust() -> ssl.SSLContext:
    import certifi

    return _tls12(ssl.create_default_context(cafile=certifi.where()))


def _tls12(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass
class Prober:
    """Opens real connections; every way out of the process is an argument."""

    resolve: Resolver = _default_resolver
    public: Callable[[], ssl.SSLContext] = _public_trust
    system: Callable[[], ssl.SSLContext] = field(
        default=lambda: _tls12(ssl.create_default_context()))
    timeout_s: float = TIMEOUT_S

    def check(self, host: str, port: int, purpose: str, proxy: Address | None) -> EndpointCheck:
        """One endpoint, directly or through ``proxy`` (HTTP CONNECT)."""
        began = time.monotonic()
        result = EndpointCheck(host=host, port=port, purpose=purpose,
                               via=f"proxy {proxy[0]}:{proxy[1]}" if proxy else "direct")
        try:
            self._check(result, proxy)
        except _Stage as failed:
            result.error = str(failed)
        result.ms = int((time.monotonic() - began) * 1000)
        return result

    def _check(self, result: EndpointCheck, proxy: Address | None) -> None:
        name, port = (proxy or (result.host, result.port))
        try:
            addresses = self.resolve(name, port)
        except OSError as error:
            raise _Stage(f"DNS: {name} does not resolve ({_why(error)})") from None
        if not addresses:
            raise _Stage(f"DNS: {name} has no address")
        result.addresses = [a for a, _ in addresses]
        contexts = [("public", self.public()), ("private-ca", self.system())]
        for trust, context in contexts:
            with self._connect(addresses, result, proxy) as raw:
                try:
                    with context.wrap_socket(raw, server_hostname=result.host) as tls:
                        self._record(result, tls, trust)  # type: ignore[arg-type]
                        return
                except ssl.SSLCertVerificationError:
                    continue
                except (ssl.SSLError, OSError) as error:
                    raise _Stage(f"TLS 1.2+ handshake failed ({_why(error)})") from None
        self._untrusted(result, proxy, addresses)

    def _connect(self, addresses: Sequence[Address], result: EndpointCheck,
                 proxy: Address | None) -> socket.socket:
        errors = []
        for address in addresses:
            try:
                raw = socket.create_connection(address, timeout=self.timeout_s)
            except OSError as error:
                errors.append(f"{address[0]}: {_why(error)}")
                continue
            result.tcp = True
            if proxy is not None:
                _tunnel(raw, result.host, result.port)
            return raw
        raise _Stage("TCP: no connection to port "
                     f"{addresses[0][1]} ({'; '.join(errors)})")

    def _untrusted(self, result: EndpointCheck, proxy: Address | None,
                   addresses: Sequence[Address]) -> None:
        context = _tls12(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with self._connect(addresses, result, proxy) as raw, \
                context.wrap_socket(raw, server_hostname=result.host) as tls:
            der = tls.getpeercert(binary_form=True)
            result.tls_version = tls.version()
            result.cipher = (tls.cipher() or ("",))[0]
        result.trust = "untrusted"
        result.issuer = _issuer_of(der) if der else None

    @staticmethod
    def _record(result: EndpointCheck, tls: ssl.SSLSocket, trust: Trust) -> None:
        result.tls_version = tls.version()
        result.cipher = (tls.cipher() or ("",))[0]
        cert = tls.getpeercert() or {}
        issuer = {str(pair[0]): str(pair[1]) for rdn in cert.get("issuer", ()) for pair in rdn}
        result.issuer = ", ".join(f"{k}={issuer[k]}" for k in ("commonName", "organizationName")
                                  if k in issuer) or None
        result.trust = trust


class _Stage(Exception):
    """A stage of the test failed; the message says which and why."""


def _why(error: BaseException) -> str:
    return getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error) \
        or type(error).__name__


def _tunnel(raw: socket.socket, host: str, port: int) -> None:
    raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply and len(reply) < 16384:
        chunk = raw.recv(4096)
        if not chunk:
            break
        reply += chunk
    status = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    if status.split(" ")[1:2] != ["200"]:
        raw.close()
        raise _Stage(f"proxy refused CONNECT {host}:{port} ({status or 'no answer'})")


def _issuer_of(der: bytes) -> str | None:
    from cryptography import x509

    with contextlib.suppress(ValueError):
        return x509.load_der_x509_certificate(der).issuer.rfc4514_string()
    return None


def _proxy_address(spec: str | None) -> Address | None:
    """``host:port``, ``http=h:p;https=h:p`` (the https entry wins) → (host, port)."""
    if not spec:
        return None
    entries = [e.strip() for e in spec.split(";") if e.strip()]
    chosen = next((e.split("=", 1)[1] for e in entries if e.lower().startswith("https=")),
                  next((e for e in entries if "=" not in e), None))
    if chosen is None:
        return None
    parsed = urlsplit(chosen if "://" in chosen else f"http://{chosen}")
    if not parsed.hostname:
        return None
    return parsed.hostname, parsed.port or 80


def read_proxy(host: Host) -> ProxyInfo:
    """WinINET (Internet Options) and WinHTTP proxies; WinINET's is the one OneDrive uses."""
    info = ProxyInfo()
    key = network.INTERNET_SETTINGS[0][0]
    enabled = host.read_registry(key, "ProxyEnable")
    server = host.read_registry(key, "ProxyServer")
    if enabled is not None and enabled.data == 1 and server is not None and server.data:
        info.wininet = str(server.data)
    pac = host.read_registry(key, "AutoConfigURL")
    info.auto_config = str(pac.data) if pac is not None and pac.data else None
    done = host.run(["netsh", "winhttp", "show", "proxy"])
    with contextlib.suppress(ParseError):
        parsed = network.parse_winhttp(done.stdout)
        info.winhttp = None if parsed.direct else parsed.proxy_server
    info.used = info.wininet or info.winhttp
    return info


def read_ciphers(host: Host) -> CipherOrder:
    """The cipher-suite order SChannel uses: the group policy's, else the local one."""
    policy = host.read_registry(CIPHER_POLICY_KEY, "Functions")
    local = host.read_registry(CIPHER_LOCAL_KEY, "Functions")
    source: Literal["policy", "local", "default"] = "default"
    suites: list[str] = []
    if policy is not None and isinstance(policy.data, str) and policy.data.strip():
        source, suites = "policy", [s.strip() for s in policy.data.split(",") if s.strip()]
    elif local is not None and isinstance(local.data, list) and local.data:
        source, suites = "local", [s.strip() for s in local.data if s.strip()]
    positions = {s: (suites.index(s) + 1 if s in suites else None) for s in AFD_SUITES}
    return CipherOrder(source=source, suites=suites,
                       afd_positions=positions if source != "default" else {})


def sharepoint_hosts(host: Host) -> list[str]:
    """The tenant's SharePoint/OneDrive hosts from the OneDrive business accounts."""
    found: dict[str, None] = {}
    for slot in host.list_registry_subkeys(ACCOUNTS_KEY):
        for name in SITE_VALUES:
            value = host.read_registry(f"{ACCOUNTS_KEY}\\{slot}", name)
            if value is not None and isinstance(value.data, str):
                netloc = urlsplit(value.data.strip()).hostname
                if netloc and netloc.endswith(".sharepoint.com"):
                    found.setdefault(netloc, None)
    return list(found)


def parse(data: bytes | str, source: str = "connectivity.json") -> ConnectivityReport:
    """Read a ``connectivity.json`` that ``odfix collect --connectivity`` wrote."""
    from pydantic import ValidationError

    try:
        return ConnectivityReport.model_validate_json(data)
    except ValidationError as error:
        raise ParseError(f"{source}: not an odfix connectivity report "
                         f"({str(error).splitlines()[0]})") from None


def check(host: Host, probe: Prober | None = None) -> ConnectivityReport:
    """Read the proxy and cipher order from ``host``; with ``probe``, test every endpoint."""
    proxy = read_proxy(host)
    report = ConnectivityReport(tested=probe is not None, proxy=proxy,
                                ciphers=read_ciphers(host))
    if proxy.auto_config:
        report.notes.append(f"a proxy auto-config script ({proxy.auto_config}) is not evaluated; "
                            "the tests used " + (proxy.used or "a direct connection"))
    sites = sharepoint_hosts(host)
    if not sites:
        report.notes.append("no OneDrive business account names the tenant's SharePoint host; "
                            "it was not tested")
    if probe is None:
        report.notes.append("endpoints not tested (no live network on this host)")
        return report
    via = _proxy_address(proxy.used)
    targets = [*ENDPOINTS, *((s, "SharePoint / OneDrive files") for s in sites)]
    report.endpoints = [probe.check(name, 443, purpose, via) for name, purpose in targets]
    return report

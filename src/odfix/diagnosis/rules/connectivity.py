"""The live network test (``odfix collect --connectivity``, ``connectivity.json``).

What stood between the PC and Microsoft 365 when it was tested: a name that does not resolve, a
port that does not open, a proxy that refuses ``CONNECT``, no TLS 1.2+ handshake, a certificate
from a private CA (TLS inspection; on ``device.login.microsoftonline.com`` it breaks device
authentication, Microsoft's 0x8004de40 article), none of Azure Front Door's TLS 1.2 cipher suites
enabled. Each finding cites the report's own lines (the ``"error"``, ``"trust"`` or
``"tls_version"`` line of the endpoint, found in the file as written) and feeds the
``connectivity-tls`` cause. Endpoints that all passed are reported, with no weight: a network
that works now does not prove it worked when the error showed.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from odfix.diagnosis.models import Finding, Severity
from odfix.evidence.common import Citation, lines
from odfix.evidence.connectivity import DEVICE_AUTH, ConnectivityReport, EndpointCheck

SOURCE = "connectivity"
FILE = "connectivity.json"
OLD_TLS = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"})


@dataclass(frozen=True)
class _Kind:
    id: str
    severity: Severity
    title: str
    weight: float
    key: str
    """The endpoint's JSON key whose line is cited."""


_DNS = _Kind("conn.dns-failed", "error", "names do not resolve (DNS)", 0.85, "error")
_TCP = _Kind("conn.tcp-blocked", "error", "port 443 does not open (firewall or routing)", 0.85,
             "error")
_PROXY = _Kind("conn.proxy-refused", "error", "the proxy refuses the connection (CONNECT)", 0.8,
               "error")
_TLS = _Kind("conn.tls-failed", "error",
             "no TLS 1.2+ handshake (TLS 1.2 blocked, or a device on the path breaks it)", 0.85,
             "error")
_OLD = _Kind("conn.tls-old", "error", "the connection negotiated a TLS version older than 1.2",
             0.8, "tls_version")
_UNTRUSTED = _Kind("conn.certificate-untrusted", "error",
                   "the certificate is trusted by neither the public roots nor the PC", 0.7,
                   "trust")
_DEVICE_INSPECTED = _Kind(
    "conn.tls-inspection-device-auth", "error",
    "TLS inspection on device authentication (a private CA re-signs the certificate): device "
    "authentication and the PRT fail behind it; exclude the Microsoft sign-in endpoints", 0.9,
    "trust")
_INSPECTED = _Kind("conn.tls-inspection", "warning",
                   "TLS inspection (a CA only this PC trusts re-signs the certificate); Microsoft "
                   "asks to exclude its sign-in endpoints", 0.5, "trust")


def findings(report: ConnectivityReport, raw: bytes | None) -> list[Finding]:
    """One finding per kind of failure (naming every endpoint that shows it), the cipher-suite
    order, the proxy, and what passed."""
    cite = _Cites(lines(raw) if raw is not None else [], report.endpoints)
    if not report.tested:
        return [Finding(id="conn.not-tested", severity="info", source=SOURCE,
                        title="connectivity.json: the endpoints were not tested",
                        evidence=cite.key("tested"))]
    by_kind: dict[_Kind, list[int]] = {}
    for index, check in enumerate(report.endpoints):
        kind = _kind(check)
        if kind is not None:
            by_kind.setdefault(kind, []).append(index)
    found = [_finding(kind, [report.endpoints[i] for i in indexes],
                      [c for i in indexes for c in cite.endpoint(i, kind.key)])
             for kind, indexes in by_kind.items()]
    failed = [i for indexes in by_kind.values() for i in indexes]
    found += _ciphers(report, cite)
    found += _proxy(report, cite, failed)
    passed = [c for c in report.endpoints if c.ok]
    if passed and not failed:
        found.append(Finding(
            id="conn.endpoints-reachable", severity="info", source=SOURCE,
            title=(f"{len(passed)} endpoint(s) reachable with TLS 1.2+ and a public certificate "
                   f"({', '.join(c.host for c in passed)}) when tested"),
            evidence=[c for i, _ in enumerate(report.endpoints) for c in cite.endpoint(i, "trust")],
        ))
    return found


def _kind(check: EndpointCheck) -> _Kind | None:
    error = check.error or ""
    if error.startswith("DNS"):
        return _DNS
    if error.startswith("TCP"):
        return _TCP
    if error.startswith("proxy"):
        return _PROXY
    if error:
        return _TLS
    if check.tls_version in OLD_TLS:
        return _OLD
    if check.trust == "private-ca":
        return _DEVICE_INSPECTED if check.host == DEVICE_AUTH else _INSPECTED
    if check.trust == "untrusted":
        return _UNTRUSTED
    return None


def _finding(kind: _Kind, checks: list[EndpointCheck], evidence: list[Citation]) -> Finding:
    shown = "; ".join(f"{c.host} ({c.error or c.issuer or c.tls_version}, {c.via})"
                      for c in checks)
    return Finding(id=kind.id, severity=kind.severity, source=SOURCE,
                   title=f"Connectivity test: {kind.title}: {shown}", evidence=evidence,
                   weights={"connectivity-tls": kind.weight})


def _ciphers(report: ConnectivityReport, cite: "_Cites") -> list[Finding]:
    ciphers = report.ciphers
    if ciphers.source == "default" or any(p is not None for p in ciphers.afd_positions.values()):
        return []
    return [Finding(
        id="conn.cipher-suites", severity="error", source=SOURCE,
        title=(f"None of Azure Front Door's TLS 1.2 cipher suites is enabled in the "
               f"{ciphers.source} cipher-suite order: TLS to Microsoft 365 fails"),
        evidence=cite.key("source"), weights={"connectivity-tls": 0.8},
    )]


def _proxy(report: ConnectivityReport, cite: "_Cites", failed: Sequence[int]) -> list[Finding]:
    used = report.proxy.used
    if not used:
        return []
    through = [i for i in failed if report.endpoints[i].via != "direct"]
    if through:
        return [Finding(
            id="conn.proxy-suspect", severity="warning", source=SOURCE,
            title=f"The failing tests went through the proxy {used}",
            evidence=cite.key("used") + [c for i in through for c in cite.endpoint(i, "via")],
            weights={"connectivity-tls": 0.4},
        )]
    return [Finding(id="conn.proxy", severity="info", source=SOURCE,
                    title=f"The tests went through the proxy {used}", evidence=cite.key("used"))]


class _Cites:
    """Lines of connectivity.json as written (``model_dump_json(indent=1)`` puts each key on its
    own line); a report on one line is cited by that line."""

    def __init__(self, text: list[str], endpoints: Sequence[EndpointCheck]) -> None:
        self.text = text
        self.starts: list[int | None] = []
        cursor = 0
        for check in endpoints:
            marker = f'"host": {json.dumps(check.host)}'
            start = next((i for i in range(cursor, len(text)) if marker in text[i]), None)
            self.starts.append(start)
            cursor = start + 1 if start is not None else cursor

    def key(self, name: str, start: int = 0, stop: int | None = None) -> list[Citation]:
        """The first line from ``start`` holding ``"name":``, else the first line."""
        marker = f'"{name}":'
        end = len(self.text) if stop is None else stop
        found = next((i for i in range(start, end) if marker in self.text[i]), None)
        return self._at(found if found is not None else start)

    def endpoint(self, index: int, name: str) -> list[Citation]:
        """Endpoint ``index``'s line for ``name`` (its ``host`` line when not found)."""
        start = self.starts[index] if index < len(self.starts) else None
        if start is None:
            return self._at(0)
        later = [s for s in self.starts[index + 1:] if s is not None]
        stop = later[0] if later else len(self.text)
        marker = f'"{name}":'
        found = next((i for i in range(start, stop) if marker in self.text[i]), start)
        return self._at(found)

    def _at(self, index: int) -> list[Citation]:
        if index >= len(self.text) or not self.text[index].strip():
            return []
        return [Citation(file=FILE, line=index + 1, text=self.text[index].strip())]

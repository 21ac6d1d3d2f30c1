"""TLS 1.2 and proxies (read and reported only; odfix never changes them)."""

from odfix.diagnosis.models import Finding
from odfix.evidence.common import Citation
from odfix.evidence.network import NetworkState

SOURCE = "network"


def findings(state: NetworkState, network_failures: bool) -> list[Finding]:
    """TLS 1.2 off is a fault; a proxy is a fault only beside network failures of the broker."""
    found = []
    if state.tls12_enabled is False:
        found.append(Finding(
            id="net.tls12-disabled", severity="error", source=SOURCE,
            title="TLS 1.2 is turned off for the clients OneDrive and the token broker use",
            evidence=state.tls12_citations, weights={"connectivity-tls": 0.8},
        ))
    proxies = _proxies(state)
    if proxies:
        described = "; ".join(label for label, _ in proxies)
        evidence = [line for _, lines in proxies for line in lines]
        if network_failures:
            found.append(Finding(
                id="net.proxy-suspect", severity="warning", source=SOURCE,
                title=f"A proxy is configured ({described}) and sign-in fails on the network",
                evidence=evidence, weights={"connectivity-tls": 0.5},
            ))
        else:
            found.append(Finding(id="net.proxy", severity="info", source=SOURCE,
                                 title=f"Proxy configured: {described}", evidence=evidence))
    return found


def _proxies(state: NetworkState) -> list[tuple[str, list[Citation]]]:
    found: list[tuple[str, list[Citation]]] = []
    winhttp = state.winhttp
    if winhttp is not None and not winhttp.direct and winhttp.proxy_server:
        found.append((f"WinHTTP {winhttp.proxy_server}", winhttp.citations))
    user = state.internet_settings
    if user is None:
        return found
    if user.proxy_enable is not None and user.proxy_enable.value and user.proxy_server:
        found.append((f"user proxy {user.proxy_server.value!s}",
                      [user.proxy_enable.citation, user.proxy_server.citation]))
    if user.auto_config_url is not None and user.auto_config_url.value:
        found.append((f"PAC {user.auto_config_url.value!s}", [user.auto_config_url.citation]))
    return found

"""Connectivity: real DNS/TCP/TLS handshakes against local servers through an injected resolver.

Nothing here reaches the internet: every name resolves to 127.0.0.1 through the test's resolver,
and the "public" roots are a test CA. One server presents a certificate from a second CA that
only the PC's own store trusts: what TLS inspection looks like.
"""

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from odfix.evidence import connectivity
from odfix.evidence.connectivity import DEVICE_AUTH, REGISTRATION, SIGN_IN, Prober
from odfix.hosts.base import RegValue
from odfix.hosts.simulated import SimulatedHost, build_host, load_scenario

SITE = "contoso-my.sharepoint.com"
INTERNET = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings"


class TlsServer:
    """Accepts TLS connections on 127.0.0.1 and completes each handshake."""

    def __init__(self, ca: trustme.CA, names: list[str],
                 maximum: ssl.TLSVersion | None = None) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        if maximum is not None:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = maximum
            context.set_ciphers("ALL:@SECLEVEL=0")
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()


class ConnectProxy:
    """A minimal HTTP CONNECT proxy that tunnels to ``target`` port, recording each request."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.requests: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            request = client.recv(4096).decode()
            self.requests.append(request.split("\r\n", 1)[0])
            upstream = socket.create_connection(("127.0.0.1", self.target))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        sink.close()


@pytest.fixture(scope="module")
def cas() -> dict[str, trustme.CA]:
    return {"microsoft": trustme.CA(organization_name="Test Microsoft Root"),
            "inspection": trustme.CA(organization_name="Contoso Inspection CA"),
            "stranger": trustme.CA(organization_name="Nobody Trusts Me")}


@pytest.fixture
def pc(tmp_path: Path) -> SimulatedHost:
    return build_host(load_scenario("healthy"), tmp_path / "pc")


def _trust(*authorities: trustme.CA):
    def make() -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=None, capath=None, cadata=None)
        context.load_verify_locations(cadata="".join(
            ca.cert_pem.bytes().decode() for ca in authorities))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
    return make


def _prober(cas: dict[str, trustme.CA], ports: dict[str, int]) -> Prober:
    def resolve(host: str, port: int) -> list[tuple[str, int]]:
        if host not in ports:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [("127.0.0.1", ports[host])]

    return Prober(resolve=resolve, public=_trust(cas["microsoft"]),
                  system=_trust(cas["microsoft"], cas["inspection"]), timeout_s=5)


@pytest.fixture
def servers(cas: dict[str, trustme.CA]) -> Iterator[dict[str, TlsServer]]:
    made = {"microsoft": TlsServer(cas["microsoft"], [SIGN_IN, REGISTRATION, SITE]),
            "inspecting": TlsServer(cas["inspection"], [DEVICE_AUTH])}
    yield made
    for server in made.values():
        server.sock.close()


def test_every_endpoint_is_tested_and_tls_inspection_is_named(pc, cas, servers):
    ports = {SIGN_IN: servers["microsoft"].port, REGISTRATION: servers["microsoft"].port,
             SITE: servers["microsoft"].port, DEVICE_AUTH: servers["inspecting"].port}
    report = connectivity.check(pc, _prober(cas, ports))
    by_host = {c.host: c for c in report.endpoints}
    assert list(by_host) == [SIGN_IN, DEVICE_AUTH, REGISTRATION, SITE]
    for host in (SIGN_IN, REGISTRATION, SITE):
        check = by_host[host]
        assert check.ok and check.tcp and check.addresses == ["127.0.0.1"]
        assert check.tls_version in ("TLSv1.2", "TLSv1.3") and check.trust == "public"
        assert "Test Microsoft Root" in (check.issuer or "")
    inspected = by_host[DEVICE_AUTH]
    assert inspected.trust == "private-ca" and "Contoso Inspection CA" in (inspected.issuer or "")
    (problem,) = report.problems()
    assert "TLS inspection" in problem and "device authentication fails" in problem
    assert report.proxy.used is None and all(c.via == "direct" for c in report.endpoints)


def test_dns_tcp_and_untrusted_certificates_fail_at_their_stage(pc, cas, servers):
    stranger = TlsServer(cas["stranger"], [REGISTRATION])
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    ports = {SIGN_IN: closed_port, REGISTRATION: stranger.port, SITE: servers["microsoft"].port}
    report = connectivity.check(pc, _prober(cas, ports))
    by_host = {c.host: c for c in report.endpoints}
    assert by_host[SIGN_IN].error is not None and by_host[SIGN_IN].error.startswith("TCP")
    assert by_host[DEVICE_AUTH].error is not None and by_host[DEVICE_AUTH].error.startswith("DNS")
    untrusted = by_host[REGISTRATION]
    assert untrusted.trust == "untrusted" and "Nobody Trusts Me" in (untrusted.issuer or "")
    assert len(report.problems()) == 3
    stranger.sock.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_server_without_tls_12_fails_the_handshake(pc, cas):
    try:
        old = TlsServer(cas["microsoft"], [SIGN_IN], maximum=ssl.TLSVersion.TLSv1_1)
    except ssl.SSLError:
        pytest.skip("this OpenSSL cannot serve TLS 1.1 at all")
    report = connectivity.check(pc, _prober(cas, {SIGN_IN: old.port}))
    check = report.endpoints[0]
    assert check.tcp and check.error is not None and "TLS 1.2+ handshake failed" in check.error
    old.sock.close()


def test_the_internet_options_proxy_is_used_with_connect(pc, cas, servers):
    proxy = ConnectProxy(servers["microsoft"].port)
    pc.write_registry(INTERNET, RegValue(name="ProxyEnable", kind="REG_DWORD", data=1))
    setting = f"http=other:1;https=proxy.contoso.com:{proxy.port}"
    pc.write_registry(INTERNET, RegValue(name="ProxyServer", kind="REG_SZ", data=setting))
    report = connectivity.check(pc, _prober(cas, {"proxy.contoso.com": proxy.port}))
    assert report.proxy.used == f"http=other:1;https=proxy.contoso.com:{proxy.port}"
    sign_in = report.endpoints[0]
    assert sign_in.ok and sign_in.via == f"proxy proxy.contoso.com:{proxy.port}"
    assert f"CONNECT {SIGN_IN}:443 HTTP/1.1" in proxy.requests
    proxy.sock.close()


def test_cipher_order_policy_wins_and_missing_afd_suites_are_a_problem(pc):
    pc.write_registry(connectivity.CIPHER_LOCAL_KEY, RegValue(
        name="Functions", kind="REG_MULTI_SZ",
        data=["TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]))
    local = connectivity.check(pc)
    assert local.ciphers.source == "local"
    assert local.ciphers.afd_positions["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] == 2
    assert local.problems() == [] and not local.tested and local.endpoints == []
    pc.write_registry(connectivity.CIPHER_POLICY_KEY, RegValue(
        name="Functions", kind="REG_SZ",
        data="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_CBC_SHA256"))
    policy = connectivity.check(pc)
    assert policy.ciphers.source == "policy" and len(policy.ciphers.suites) == 2
    assert any("Azure Front Door" in p for p in policy.problems())


def test_the_report_round_trips_through_a_bundle(pc, cas, servers):
    from odfix.evidence import bundle

    report = connectivity.check(pc, _prober(cas, {SIGN_IN: servers["microsoft"].port}))
    parsed = bundle.from_files({"connectivity.json": report.model_dump_json().encode()}, "pc")
    assert parsed.evidence.connectivity == report


def test_the_fix_action_reports_what_it_found_and_asks_a_person(pc, cas, servers):
    from odfix.fix import actions
    from odfix.guide.load import load_guide

    guide = load_guide()
    action = next(s.action for s in guide.method("connectivity-checks").steps
                  if s.action and s.action.name == "report_connectivity")
    ports = {SIGN_IN: servers["microsoft"].port, DEVICE_AUTH: servers["inspecting"].port}
    runtime = actions.Runtime(host=pc, guide=guide, record=lambda c: None, resume_argv=[],
                              perform=lambda t, i: None, probe=_prober(cas, ports))
    result = actions.run(action, runtime, "check")
    assert result.problem is not None and "TLS inspection" in result.problem
    assert any(note.startswith(f"{SIGN_IN}:443 via direct: TLSv1.") for note in result.notes)
    assert result.notes[0].startswith("proxy: none (direct)")

"""connectivity.json (``odfix collect --connectivity``) in the diagnosis: each failure a finding
that cites the report's own line and feeds connectivity-tls.

The reports are SYNTHETIC: built with the evidence model and written as ``collect`` writes them
(``ConnectivityReport.model_dump_json(indent=1)``), beside the real-layout dsregcmd capture of
the ``healthy`` scenario.
"""

from pathlib import Path

import pytest

from odfix.diagnosis import diagnose
from odfix.evidence.bundle import from_files
from odfix.evidence.common import lines
from odfix.evidence.connectivity import (
    DEVICE_AUTH,
    REGISTRATION,
    SIGN_IN,
    CipherOrder,
    ConnectivityReport,
    EndpointCheck,
    ProxyInfo,
)

HEALTHY = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "healthy"
PUBLIC = "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc"
AFD = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 3}


def ok(host: str, via: str = "direct") -> EndpointCheck:
    return EndpointCheck(host=host, purpose="test", via=via, addresses=["203.0.113.7"], tcp=True,
                         tls_version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", issuer=PUBLIC,
                         trust="public", ms=40)


def report(*endpoints: EndpointCheck, proxy: str | None = None,
           ciphers: CipherOrder | None = None, tested: bool = True) -> ConnectivityReport:
    return ConnectivityReport(tested=tested, endpoints=list(endpoints),
                              proxy=ProxyInfo(wininet=proxy, used=proxy),
                              ciphers=ciphers or CipherOrder(source="default"))


def run(conn: ConnectivityReport, compact: bool = False):
    text = conn.model_dump_json() if compact else conn.model_dump_json(indent=1)
    files = {"dsregcmd_status.txt": (HEALTHY / "dsregcmd_status.txt").read_bytes(),
             "aad_operational.xml": (HEALTHY / "aad_operational.xml").read_bytes(),
             "connectivity.json": text.encode()}
    result = diagnose([from_files(files, "pc")])
    raw = lines(text)
    for finding in result.findings:
        for citation in finding.evidence:
            if citation.file == "connectivity.json":
                assert raw[citation.line - 1].strip().startswith(citation.text), citation
    return result, {f.id: f for f in result.findings}, raw


def cited(finding, raw: list[str]) -> list[str]:
    return [raw[c.line - 1].strip() for c in finding.evidence]


def test_dns_failure_is_the_cause_and_cites_the_error_lines():
    failed = EndpointCheck(host=SIGN_IN, purpose="sign-in",
                           error=f"DNS: {SIGN_IN} does not resolve (Name or service not known)")
    result, by_id, raw = run(report(failed, ok(DEVICE_AUTH), ok(REGISTRATION)))
    finding = by_id["conn.dns-failed"]
    assert finding.severity == "error" and finding.weights == {"connectivity-tls": 0.85}
    assert cited(finding, raw) == [f'"error": "DNS: {SIGN_IN} does not resolve (Name or service '
                                   'not known)",']
    assert result.causes[0].id == "connectivity-tls" and result.outcome == "problem"
    assert result.plan[0].method == "connectivity-checks"
    assert "conn.endpoints-reachable" not in by_id


def test_tls_inspection_on_device_authentication_is_an_error_with_its_escalation():
    inspected = ok(DEVICE_AUTH).model_copy(update={"trust": "private-ca",
                                                  "issuer": "Contoso TLS Inspection CA"})
    result, by_id, raw = run(report(ok(SIGN_IN), inspected, ok(REGISTRATION)))
    finding = by_id["conn.tls-inspection-device-auth"]
    assert finding.severity == "error" and finding.weights["connectivity-tls"] == 0.9
    assert cited(finding, raw) == ['"trust": "private-ca",']
    assert "Contoso TLS Inspection CA" in finding.title
    assert result.causes[0].id == "connectivity-tls"
    assert result.escalation and "device.login.microsoftonline.com" in result.escalation
    assert not {"reconnect-work-account", "dsregcmd-leave-join"} & {i.method for i in result.plan}


def test_tls_inspection_elsewhere_is_a_warning():
    inspected = ok(SIGN_IN).model_copy(update={"trust": "private-ca", "issuer": "Proxy CA"})
    _, by_id, _ = run(report(inspected, ok(DEVICE_AUTH), ok(REGISTRATION)))
    assert by_id["conn.tls-inspection"].severity == "warning"
    assert by_id["conn.tls-inspection"].weights == {"connectivity-tls": 0.5}
    assert "conn.tls-inspection-device-auth" not in by_id


@pytest.mark.parametrize(("error", "finding_id"), [
    ("TCP: no connection to port 443 (203.0.113.7: Connection refused)", "conn.tcp-blocked"),
    ("TLS 1.2+ handshake failed (unsupported protocol)", "conn.tls-failed"),
])
def test_each_failing_stage_has_its_finding(error, finding_id):
    failed = EndpointCheck(host=REGISTRATION, purpose="registration", error=error)
    _, by_id, raw = run(report(ok(SIGN_IN), ok(DEVICE_AUTH), failed))
    assert cited(by_id[finding_id], raw) == [f'"error": "{error}",']
    assert REGISTRATION in by_id[finding_id].title


def test_a_refusing_proxy_is_named_with_the_proxy_it_went_through():
    via = "proxy proxy.contoso.com:8080"
    refused = [EndpointCheck(host=host, purpose="x", via=via,
                             error=f"proxy refused CONNECT {host}:443 (HTTP/1.1 407 Proxy "
                                   "Authentication Required)")
               for host in (SIGN_IN, DEVICE_AUTH)]
    _, by_id, raw = run(report(*refused, proxy="proxy.contoso.com:8080"))
    assert set(by_id["conn.proxy-refused"].title.split()) >= {SIGN_IN, DEVICE_AUTH}
    assert len(by_id["conn.proxy-refused"].evidence) == 2
    suspect = by_id["conn.proxy-suspect"]
    assert cited(suspect, raw)[0] == '"used": "proxy.contoso.com:8080"'
    assert f'"via": "{via}",' in cited(suspect, raw)


def test_cipher_suites_without_azure_front_door_are_an_error():
    ciphers = CipherOrder(source="policy", suites=["TLS_RSA_WITH_AES_256_CBC_SHA256"],
                          afd_positions=dict.fromkeys(AFD))
    _, by_id, raw = run(report(ok(SIGN_IN), ciphers=ciphers))
    assert by_id["conn.cipher-suites"].weights == {"connectivity-tls": 0.8}
    assert cited(by_id["conn.cipher-suites"], raw) == ['"source": "policy",']
    with_afd = CipherOrder(source="policy", suites=list(AFD), afd_positions=AFD)
    _, by_id, _ = run(report(ok(SIGN_IN), ciphers=with_afd))
    assert "conn.cipher-suites" not in by_id


def test_all_reachable_weighs_nothing_and_the_pc_stays_healthy():
    result, by_id, _ = run(report(ok(SIGN_IN), ok(DEVICE_AUTH), ok(REGISTRATION)))
    assert by_id["conn.endpoints-reachable"].weights == {}
    assert result.outcome == "healthy"
    assert "network" in result.pcs[0].sources


def test_an_untested_report_is_information_only():
    result, by_id, raw = run(report(tested=False))
    assert by_id["conn.not-tested"].severity == "info"
    assert cited(by_id["conn.not-tested"], raw) == ['"tested": false,']
    assert result.outcome == "healthy"


def test_a_report_on_one_line_is_cited_by_that_line():
    failed = EndpointCheck(host=DEVICE_AUTH, purpose="device",
                           error=f"DNS: {DEVICE_AUTH} has no address")
    _, by_id, raw = run(report(ok(SIGN_IN), failed), compact=True)
    assert len(raw) == 1
    assert [c.line for c in by_id["conn.dns-failed"].evidence] == [1]


def test_old_tls_and_untrusted_certificates():
    old = ok(SIGN_IN).model_copy(update={"tls_version": "TLSv1.1"})
    untrusted = ok(DEVICE_AUTH).model_copy(update={"trust": "untrusted", "issuer": "CN=evil"})
    _, by_id, raw = run(report(old, untrusted))
    assert cited(by_id["conn.tls-old"], raw) == ['"tls_version": "TLSv1.1",']
    assert cited(by_id["conn.certificate-untrusted"], raw) == ['"trust": "untrusted",']


def test_a_report_answers_the_ask_for_network_evidence():
    """With connectivity.json the network source is there: neither the settings captures nor
    ``odfix collect --connectivity`` are asked for again."""
    result, _, _ = run(report(ok(SIGN_IN), ok(DEVICE_AUTH), ok(REGISTRATION)))
    asked = {a.file for a in result.ask_for}
    assert not asked & {"connectivity.json", "winhttp_proxy.txt", "schannel.reg"}

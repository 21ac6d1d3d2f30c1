"""WinHTTP proxy, Internet Settings, SCHANNEL and the TLS 1.2 verdict."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import network
from odfix.evidence.common import ParseError


@pytest.mark.parametrize("name, direct, server, bypass", [
    ("winhttp_direct.txt", True, None, []),
    ("winhttp_direct_prompt.txt", True, None, []),
    ("winhttp_proxy_none.txt", False, "testProxy:8999", []),
    ("winhttp_proxy_local.txt", False, "http://192.168.0.117:8080", ["<local>"]),
])
def test_winhttp_layouts(fixture_bytes, name, direct, server, bypass):
    proxy = network.parse_winhttp(fixture_bytes(f"network/{name}"))
    assert (proxy.direct, proxy.proxy_server, proxy.bypass_list) == (direct, server, bypass)
    assert proxy.citations[0].text.strip() == "Current WinHTTP proxy settings:"


def test_winhttp_bypass_list_splits():
    proxy = network.parse_winhttp("Current WinHTTP proxy settings:\n"
                                  "    Proxy Server(s) :  p:8080\n"
                                  "    Bypass List     :  <local>;*.contoso.com\n")
    assert proxy.bypass_list == ["<local>", "*.contoso.com"]


def test_winhttp_other_locale_is_refused(fixture_bytes):
    with pytest.raises(ParseError, match="unsupported locale"):
        network.parse_winhttp(fixture_bytes("network/winhttp_japanese.txt"))


def test_winhttp_header_only_is_refused():
    with pytest.raises(ParseError, match="neither"):
        network.parse_winhttp("Current WinHTTP proxy settings:\n")


def test_internet_settings_pac(fixture_bytes):
    settings = network.parse_internet_settings(fixture_bytes("network/internet_settings_pac.reg"))
    assert settings.enabled_protocols == ["TLS 1.0", "TLS 1.1", "TLS 1.2"]
    assert settings.auto_config_url.value == "http://wpad.health.qld.gov.au/wpad.dat"
    assert settings.proxy_enable.value == 1


def test_internet_settings_static_proxy(fixture_bytes):
    settings = network.parse_internet_settings(
        fixture_bytes("network/internet_settings_static.reg"))
    assert settings.proxy_server.value == "127.0.0.1:80"
    assert settings.secure_protocols is None and settings.enabled_protocols is None


@pytest.mark.parametrize("files, verdict, cited", [
    ({"schannel.reg": "schannel_hardened.reg"}, True, ['"Enabled"=dword:ffffffff',
                                                       '"DisabledByDefault"=dword:00000000']),
    ({"schannel.reg": "schannel_tls12_disabled.reg"}, False, ['"Enabled"=dword:00000000',
                                                              '"DisabledByDefault"=dword:00000001']),
    ({"schannel.reg": "schannel_tls12_enable_ms.reg",
      "internet_settings.reg": "internet_settings_tls10_only.reg"}, False,
     ['"SecureProtocols"=dword:000000a0']),
    ({"internet_settings.reg": "internet_settings_pac.reg"}, True,
     ['"SecureProtocols"=dword:00000a80']),
    ({"internet_settings.reg": "internet_settings_static.reg"}, None, []),
    ({"winhttp_proxy.txt": "winhttp_direct.txt"}, None, []),
])
def test_tls12_verdict_with_citations(fixture_bytes, files, verdict, cited):
    state = network.from_files({name: fixture_bytes(f"network/{fixture}")
                                for name, fixture in files.items()})
    assert state.tls12_enabled is verdict
    assert [c.text for c in state.tls12_citations] == cited


def test_no_network_files_gives_none():
    assert network.from_files({"dsregcmd_status.txt": b"x"}) is None


def test_schannel_export_without_schannel_key_is_refused(fixture_bytes):
    with pytest.raises(ParseError, match="SCHANNEL"):
        network.parse_schannel(fixture_bytes("onedrive/intune_script_snippet.reg"))


@given(st.text())
def test_winhttp_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        network.parse_winhttp(text)


@given(st.text())
def test_winhttp_arbitrary_body_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        network.parse_winhttp("Current WinHTTP proxy settings:\n" + text)


@given(st.text())
def test_reg_sources_arbitrary_text_parse_or_raise_parse_error(text):
    for parser in (network.parse_internet_settings, network.parse_schannel):
        with contextlib.suppress(ParseError):
            parser("Windows Registry Editor Version 5.00\n" + text)

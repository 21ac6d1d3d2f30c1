"""OneDrive accounts and client facts from a reg export or a live host."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import onedrive, regfile
from odfix.evidence.common import ParseError


def test_accounts_and_markers(fixture_bytes):
    state = onedrive.parse(fixture_bytes("onedrive/two_business_one_personal.reg"))
    assert [(a.slot, a.business) for a in state.accounts] == \
        [("Business1", True), ("Business2", True), ("Personal", False)]
    first = state.business_accounts[0]
    assert first.user_email.value == "user1@contoso.com"
    assert first.configured_tenant_id.value == "11111111-2222-3333-4444-555555555555"
    assert first.spo_resource_id.value == "https://contoso-my.sharepoint.com/"
    assert first.spo_resource_id.citation.text.startswith('"SPOResourceID"=')
    assert first.values["Timerautomount"].value == 1
    assert state.client_ever_signed_in.value == 1
    assert state.one_auth_unrecoverable_timestamp.value == 0x6659E94E
    assert state.version.value == "24.040.0225.0001"
    assert state.client_path.value.endswith("\\OneDrive.exe")
    assert state.client_path.citation.line == 9


def test_public_snippet_without_accounts_parent(fixture_bytes):
    state = onedrive.parse(fixture_bytes("onedrive/intune_script_snippet.reg"))
    assert [a.slot for a in state.accounts] == ["Business1"]
    assert state.accounts[0].business
    assert state.silent_business_config_completed.value == "0"
    assert state.version is None


def test_version_falls_back_to_the_machine_key():
    data = ('Windows Registry Editor Version 5.00\n'
            '[HKEY_CURRENT_USER\\Software\\Microsoft\\OneDrive]\n'
            '[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\OneDrive]\n"Version"="23.1"\n')
    assert onedrive.parse(data).version.value == "23.1"


def test_export_without_onedrive_key_is_refused(fixture_bytes):
    with pytest.raises(ParseError, match=r"no \[\.\.\.\\Software"):
        onedrive.parse(fixture_bytes("office_identity/single_identity_wam.reg"))


def test_from_host_reads_the_same_as_the_export(fixture_bytes, make_host):
    host = make_host(reg=[fixture_bytes("onedrive/two_business_one_personal.reg")])
    live = onedrive.from_host(host)
    exported = onedrive.parse(fixture_bytes("onedrive/two_business_one_personal.reg"))
    assert [(a.slot, a.user_email and a.user_email.value) for a in live.accounts] == \
        [(a.slot, a.user_email and a.user_email.value) for a in exported.accounts]
    assert live.version.value == exported.version.value
    assert live.one_auth_unrecoverable_timestamp.value == 0x6659E94E


@given(st.text())
def test_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        onedrive.parse("Windows Registry Editor Version 5.00\n" + text)


def test_regfile_module_is_the_one_reader(fixture_bytes):
    reg = regfile.parse(fixture_bytes("onedrive/two_business_one_personal.reg"), "onedrive.reg")
    assert onedrive.from_regfile(reg).accounts[0].slot == "Business1"


def test_reg_exe_export_reads_like_the_source(fixture_bytes):
    exported = onedrive.parse(fixture_bytes("onedrive/wine_reg_export.reg"))
    source = onedrive.parse(fixture_bytes("onedrive/two_business_one_personal.reg"))
    assert [(a.slot, {k.casefold(): v.value for k, v in a.values.items()})
            for a in exported.accounts] == \
        [(a.slot, {k.casefold(): v.value for k, v in a.values.items()}) for a in source.accounts]
    assert exported.client_path.value == source.client_path.value

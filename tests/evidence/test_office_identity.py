"""Office identity cache and WAM switches."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import office_identity
from odfix.evidence.common import ParseError


def test_three_identities_two_accounts_wam_off(fixture_bytes):
    state = office_identity.parse(
        fixture_bytes("office_identity/three_identities_wam_disabled.reg"))
    assert [i.key for i in state.identities] == [
        "76ad4112-eb66-4791-8292-b33c552ac017_ADAL", "user1@contoso.com_AD",
        "0123456789abcdef_LiveId"]
    assert state.distinct_accounts == ["someone@outlook.com", "user1@contoso.com"]
    assert state.wam_disabled
    assert state.disable_aad_wam.value == 1
    assert state.disable_aad_wam.citation.text == '"DisableAADWAM"=dword:00000001'
    assert state.enable_adal.value == 1
    assert state.identities[0].provider_id.value == "ADAL"


def test_single_identity_wam_on(fixture_bytes):
    state = office_identity.parse(fixture_bytes("office_identity/single_identity_wam.reg"))
    assert state.distinct_accounts == ["user1@contoso.com"]
    assert not state.wam_disabled
    assert state.disable_adal_atop_wam_override is None


def test_export_of_another_key_is_refused(fixture_bytes):
    with pytest.raises(ParseError, match="Common\\\\Identity"):
        office_identity.parse(fixture_bytes("network/schannel_hardened.reg"))


def test_from_host(fixture_bytes, make_host):
    host = make_host(reg=[fixture_bytes("office_identity/three_identities_wam_disabled.reg")])
    assert office_identity.from_host(host).distinct_accounts == \
        ["someone@outlook.com", "user1@contoso.com"]


@given(st.text())
def test_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        office_identity.parse("Windows Registry Editor Version 5.00\n" + text)

"""Pseudonymization: no identifier survives, tokens are stable, files still parse."""

import codecs
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from odfix.evidence import bundle, regfile
from odfix.evidence.common import decode
from odfix.evidence.pseudonymize import pseudonymize
from odfix.hosts.base import RegValue

KEY = b"test-key"


def _texts(files):
    """Every readable form of the files: decoded text, and the values inside .reg files."""
    for name, data in files.items():
        yield decode(data)
        if name.endswith(".reg"):
            for key in regfile.parse(data).keys:
                yield key.path
                for value in key.values:
                    items = value.data if isinstance(value.data, list) else [value.data]
                    yield from (i for i in items if isinstance(i, str))


def test_fixture_bundle_keeps_its_facts_but_not_its_identifiers(fixture_bytes):
    files = {
        "cmdkey_list.txt": fixture_bytes("cmdkey/office_onedrive_mixed.txt"),
        "onedrive.reg": fixture_bytes("onedrive/two_business_one_personal.reg"),
        "office_identity.reg": fixture_bytes("office_identity/three_identities_wam_disabled.reg"),
        "dsregcmd_status.txt": fixture_bytes("dsregcmd/hybrid_prt_failure_learn.txt"),
        "aad_operational.xml": fixture_bytes("aad_events/wevtutil_recent.xml"),
        "manifest.json": b'{"host_name": "PC-0001", "context": "user"}',
    }
    before = bundle.from_files(files, "pc")
    out = pseudonymize(files, KEY)
    after = bundle.from_files(out, "pc")
    assert after.problems == []
    text = "\n".join(_texts(out)).casefold()
    for original in ("user1@contoso.com", "contoso", "someone@outlook.com", "pc-0001",
                     "11111111-2222-3333-4444-555555555555", "user one", "02aaaaaaaaaaaaaa"):
        assert original not in text, original
    assert before.evidence.dsregcmd.device_id not in text
    assert after.evidence.onedrive.accounts[0].cid.value != "0123456789abcdef"
    assert after.evidence.dsregcmd.join_type == before.evidence.dsregcmd.join_type
    assert [c.credential_class for c in after.evidence.credentials.credentials] == \
        [c.credential_class for c in before.evidence.credentials.credentials]
    assert after.evidence.office_identity.distinct_accounts != \
        before.evidence.office_identity.distinct_accounts
    assert len(after.evidence.office_identity.distinct_accounts) == 2
    assert after.manifest.host_name.startswith("host-")


def test_same_key_same_tokens_other_key_other_tokens(fixture_bytes):
    files = {"dsregcmd_status.txt": fixture_bytes("dsregcmd/hybrid_prt_failure_learn.txt")}
    one = bundle.from_files(pseudonymize(files, KEY), "a").evidence.dsregcmd.device_id
    two = bundle.from_files(pseudonymize(files, KEY), "b").evidence.dsregcmd.device_id
    other = bundle.from_files(pseudonymize(files, b"other"), "c").evidence.dsregcmd.device_id
    assert one == two != other


def test_utf16_text_stays_utf16():
    data = codecs.BOM_UTF16_LE + "User: a.b@contoso.com\r\n".encode("utf-16-le")
    out = pseudonymize({"x.txt": data}, KEY)["x.txt"]
    assert out.startswith(codecs.BOM_UTF16_LE)
    assert "contoso" not in decode(out)


_LETTERS = string.ascii_lowercase[6:]  # g-z: never inside a hex token
local = st.text(_LETTERS + string.digits, min_size=1, max_size=12).map(lambda s: "q" + s)
label = st.text(_LETTERS, min_size=4, max_size=10).map(lambda s: "z" + s)
emails = st.builds(lambda a, b, c: f"{a}@{b}.{c}", local, label, st.sampled_from(
    ["com", "org", "net", "co.uk"]))
hosts = st.builds(lambda a, n: f"{a}-{n}", label, st.integers(100, 99999))
guids = st.uuids().map(str)


@settings(max_examples=60, deadline=None)
@given(email=emails, upper=st.booleans(), host=hosts, tenant=guids, device=guids,
       tenant_name=label)
def test_no_original_identifier_survives(email, upper, host, tenant, device, tenant_name):
    shown = email.upper() if upper else email
    files = {
        "cmdkey_list.txt": (
            "Currently stored credentials:\n\n"
            f"    Target: LegacyGeneric:target=MicrosoftOffice16_Data:SSPI:{shown}\n"
            "    Type: Generic \n"
            f"    User: {email}\n\n"
            f"    Target: Domain:interactive={host}\\someone\n"
            "    Type: Domain Password\n"
            f"    User: {host}\\someone\n").encode(),
        "dsregcmd_status.txt": (
            f"               Device Name : {host}.{tenant_name}.local\n"
            f"                  DeviceId : {device}\n"
            f"                TenantName : {tenant_name}\n"
            f"                  TenantId : {tenant}\n").encode(),
        "onedrive.reg": regfile.render([(
            "HKCU\\Software\\Microsoft\\OneDrive\\Accounts\\Business1", [
                RegValue(name="UserEmail", kind="REG_SZ", data=email),
                RegValue(name="ConfiguredTenantId", kind="REG_SZ", data=tenant.upper()),
                RegValue(name="SPOResourceId", kind="REG_SZ",
                         data=f"https://{tenant_name}-my.sharepoint.com/"),
                RegValue(name="Aliases", kind="REG_MULTI_SZ", data=[email, host]),
                RegValue(name="Profile", kind="REG_EXPAND_SZ", data=f"%USERPROFILE%\\{email}"),
            ])]),
        "manifest.json": f'{{"host_name": "{host}"}}'.encode(),
    }
    out = pseudonymize(files, KEY)
    text = "\n".join(_texts(out)).casefold()
    for original in (email, host, tenant, device, tenant_name):
        assert original.casefold() not in text
    again = pseudonymize(files, KEY)
    assert again == out

"""dsregcmd /status: real layouts, the quirks of each build, and the facts derived from them."""

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.evidence import dsregcmd
from odfix.evidence.common import ParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dsregcmd"
SEP = "+" + "-" * 70 + "+"


def load(name: str) -> dsregcmd.DsregStatus:
    return dsregcmd.parse((FIXTURES / name).read_bytes(), source=name)


def box(title: str) -> str:
    return f"{SEP}\n| {title.ljust(68)} |\n{SEP}\n"


def test_hybrid_with_failing_prt_learn_layout():
    status = load("hybrid_prt_failure_learn.txt")
    assert status.join_type == "hybrid-joined"
    assert [c.line for c in status.join_evidence] == [6, 7, 8, 57]
    assert status.prt.azure_ad_prt is False
    assert status.prt.update_time is None
    assert status.prt.enterprise_prt is True
    assert status.prt.enterprise_update_time == datetime(2025, 7, 24, 19, 15, 33, tzinfo=UTC)
    (diag,) = status.prt.diagnostics
    assert diag.kind == "acquire"
    assert diag.previous_attempt == datetime(2025, 7, 18, 20, 10, 33, 789000, tzinfo=UTC)
    assert (diag.attempt_status, diag.codes) == ("0xc000006d", ["0xC000006D"])
    assert (diag.server_error_code, diag.aadsts, diag.http_status) == (
        "invalid_grant",
        50126,
        "400",
    )
    assert diag.endpoint_uri == (
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/token/"
    )
    assert diag.evidence[0].text.strip() == "AcquirePrtDiagnostics : PRESENT"
    health = status.health
    assert (health.device_auth_status, health.key_sign_test) == ("SUCCESS", "PASSED")
    assert (health.tpm_protected, health.aad_recovery_enabled, health.wam_default_set) == (
        True,
        False,
        True,
    )
    assert health.certificate_valid_to == datetime(2034, 1, 11, 21, 32, 50, tzinfo=UTC)
    assert status.device_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert status.tenant_id == "11111111-2222-3333-4444-555555555555"
    assert status.user_upn == "user1@contoso.com"
    assert status.registration is None


def test_cited_lookups_keep_the_raw_line():
    status = load("hybrid_prt_failure_learn.txt")
    field = status.get("SSO State", "AzureAdPrt")
    assert field is not None
    assert (field.value, field.citation.line) == ("NO", 67)
    assert field.citation.text == "                AzureAdPrt : NO"
    assert field.citation.file == "hybrid_prt_failure_learn.txt"
    settings = status.get("Tenant Details", "SettingsUrl")
    assert settings is not None and settings.value == ""
    assert status.value("Diagnostic Data", "AadRecoveryEnabled") == "NO"
    assert status.get("Device State", "DeviceId") is None
    assert status.get("No Such Section", "DeviceId") is None


def test_values_with_colons_and_brackets_are_whole():
    status = load("hybrid_prt_failure_learn.txt")
    assert status.value("SSO State", "EnterprisePrtAuthority") == "https://fs.contoso.com:443/adfs"
    assert status.value("SSO State", "KerbTopLevelNames").endswith(".azure.net:3342")
    assert status.value("Device Details", "DeviceCertificateValidity") == (
        "[ 2024-01-11 21:02:50.000 UTC -- 2034-01-11 21:32:50.000 UTC ]"
    )
    assert status.value("SSO State", "Server Error Description") == (
        "AADSTS50126: Error validating credentials due to invalid username or password."
    )


def test_entra_joined_with_irregular_key_widths_and_proxy_sections():
    status = load("entra_joined_irregular_2025.txt")
    assert status.join_type == "entra-joined"
    assert status.device_name == "DESKTOP-0000001"
    assert status.prt.azure_ad_prt is True
    assert status.prt.update_time == datetime(2025, 6, 2, 5, 57, 29, tzinfo=UTC)
    assert status.prt.expiry_time == datetime(2025, 6, 16, 5, 57, 28, tzinfo=UTC)
    assert status.prt.age_hours(datetime(2025, 6, 2, 11, 57, 29, tzinfo=UTC)) == 6.0
    assert status.user_upn == "user1@contoso.onmicrosoft.com"
    assert status.health.tpm_protected is False
    assert status.health.certificate_valid_from == datetime(2025, 5, 24, 8, 35, 3, tzinfo=UTC)
    assert status.value("Tenant Details", "DeviceManagementSrvVersion") == "1.0"
    assert status.value("IE Proxy Config for Current User", "Auto-Configuration URL") == ""
    assert status.value("WinHttp Default Proxy Config", "Access Type") == "DIRECT"
    ngc = status.section("Ngc Prerequisite Check")
    assert ngc is not None
    assert [c.text for c in ngc.other_lines] == [
        "For more information, please visit https://www.microsoft.com/aadjerrors"
    ]


def test_hybrid_2020_with_space_only_lines():
    status = load("hybrid_space_lines_2020.txt")
    assert status.join_type == "hybrid-joined"
    assert status.domain_name == "CONTOSO"
    assert status.tenant_name == "Contoso"
    assert status.prt.azure_ad_prt is None


def test_domain_joined_with_failed_sync_join():
    status = load("domain_joined_sync_pending_2019.txt")
    assert status.join_type == "domain-joined"
    reg = status.registration
    assert reg is not None
    assert (reg.user_context, reg.registration_type, reg.error_phase) == ("SYSTEM", "sync", "join")
    assert (reg.client_error_code, reg.server_error_code) == ("0x801c03f2", "DirectoryError")
    assert reg.codes == ["0x801C03F2"]
    assert reg.previous_registration == datetime(2019, 1, 31, 9, 16, 43, tzinfo=UTC)
    assert reg.failed_tests == []
    assert reg.tests["Token acquisition Test"] == "PASS"
    assert reg.server_message is not None and "(e92325d0" in reg.server_message


def test_entra_registered_utf16_with_prompt_lines():
    raw = (FIXTURES / "registered_prompt_utf16.txt").read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_LE)
    status = load("registered_prompt_utf16.txt")
    assert status.join_type == "entra-registered"
    (account,) = status.work_accounts
    assert account.section == "Work Account 1"
    assert account.workplace_device_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert account.workplace_tenant_name == "Contoso"
    assert account.tpm_protected is True
    work = status.section("Work Account 1")
    assert work is not None and [f.key for f in work.fields][-1] == "NgcSet"
    assert status.get("Work Account 1", "C") is None
    assert status.value("User State", "WamDefaultAuthority") == "consumers"


def test_work_account_keys_do_not_leak_into_user_state():
    status = load("registered_work_account_2026.txt")
    assert status.join_type == "unknown"
    assert status.get("User State", "TpmProtected") is None
    assert status.get("User State", "WorkplaceDeviceId") is None
    assert [f.value for f in status.get_all("Work Account 1", "NgcSet")] == ["NO"]


def test_2018_layout_width_23_double_colon_and_prt_in_user_state():
    # SYNTHESIZED after the 2018 build described in the reference (width 23, `KeySignTest: : `,
    # AadRecoveryNeeded, Workplace* and AzureAdPrt inside User State).
    text = (
        box("Device State")
        + "          AzureAdJoined : NO\n"
        + "       EnterpriseJoined : NO\n"
        + "           DomainJoined : NO\n"
        + "           KeySignTest: : PASSED\n"
        + box("User State")
        + "                 NgcSet : NO\n"
        + "        WorkplaceJoined : YES\n"
        + "      WorkplaceDeviceId : 12345678-1234-1234-1234-123456789012\n"
        + "    WorkplaceTenantName : Contoso\n"
        + "          WamDefaultSet : YES\n"
        + "    WamDefaultAuthority : consumers\n"
        + "             AzureAdPrt : NO\n"
        + "    AzureAdPrtAuthority : NO\n"
        + "      AadRecoveryNeeded : NO\n"
    )
    status = dsregcmd.parse(text.replace("\n", "\r\n"))
    assert status.join_type == "entra-registered"
    assert status.health.key_sign_test == "PASSED"
    assert status.prt.azure_ad_prt is False
    (account,) = status.work_accounts
    assert (account.section, account.workplace_tenant_name) == ("User State", "Contoso")
    # exact key match: WorkplaceDeviceId is not DeviceId
    assert status.device_id is None


def test_key_without_space_before_colon():
    status = dsregcmd.parse(box("Diagnostic Data") + "         AadRecoveryEnabled: YES\n")
    assert status.health.aad_recovery_enabled is True


@pytest.mark.parametrize(
    ("aad", "enterprise", "domain", "workplace", "expected"),
    [
        ("YES", "NO", "NO", "NO", "entra-joined"),
        ("YES", "NO", "YES", "NO", "hybrid-joined"),
        ("NO", "NO", "YES", "NO", "domain-joined"),
        ("NO", "NO", "YES", "YES", "domain-joined"),
        ("NO", "YES", "YES", "NO", "domain-joined"),
        ("NO", "NO", "NO", "YES", "entra-registered"),
        ("NO", "NO", "NO", "NO", "none"),
        ("YES", "YES", "NO", "NO", "unknown"),
        ("NO", "YES", "NO", "NO", "unknown"),
    ],
)
def test_join_type_truth_table(aad, enterprise, domain, workplace, expected):
    text = (
        box("Device State")
        + f"             AzureAdJoined : {aad}\n"
        + f"          EnterpriseJoined : {enterprise}\n"
        + f"              DomainJoined : {domain}\n"
        + box("User State")
        + f"           WorkplaceJoined : {workplace}\n"
    )
    assert dsregcmd.parse(text).join_type == expected


def test_dual_state_hybrid_and_registered():
    text = (
        box("Device State")
        + "             AzureAdJoined : YES\n"
        + "              DomainJoined : YES\n"
        + box("User State")
        + "           WorkplaceJoined : YES\n"
    )
    status = dsregcmd.parse(text)
    assert status.join_type == "hybrid-joined"
    assert status.health.dual_state is True


def test_missing_join_keys_give_unknown():
    assert dsregcmd.parse(box("Device State") + "  DomainJoined : YES\n").join_type == "unknown"


def test_failed_prejoin_test_and_refresh_diagnostics():
    text = (
        box("SSO State")
        + "                AzureAdPrt : YES\n"
        + "      AzureAdPrtUpdateTime : 2026-01-01 10:00:00.000 UTC\n"
        + "     RefreshPrtDiagnostics : PRESENT\n"
        + "      Previous Prt Attempt : 2026-01-01 14:05:00.000 UTC\n"
        + "            Attempt Status : 0xc004844c\n"
        + "         Server Error Code : interaction_required\n"
        + "  Server Error Description : AADSTS50076: Due to a configuration change...\n"
        + box("Diagnostic Data")
        + "        DRS Discovery Test : FAIL [0x801c0021/0x801c000c]\n"
        + "     DRS Connectivity Test : SKIPPED\n"
    )
    status = dsregcmd.parse(text)
    (diag,) = status.prt.diagnostics
    assert (diag.kind, diag.aadsts, diag.codes) == ("refresh", 50076, ["0xC004844C"])
    assert status.prt.update_time == datetime(2026, 1, 1, 10, tzinfo=UTC)
    reg = status.registration
    assert reg is not None
    assert reg.failed_tests == ["DRS Discovery Test"]
    assert reg.codes == ["0x801C0021", "0x801C000C"]


def test_diagnostics_absent_block_is_not_reported():
    text = box("SSO State") + "     AcquirePrtDiagnostics : NOT PRESENT\n  Attempt Status : 0x1\n"
    assert dsregcmd.parse(text).prt.diagnostics == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01 10:00:00.000 UTC", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2025-07-18 20:10:33.789 UTC", datetime(2025, 7, 18, 20, 10, 33, 789000, tzinfo=UTC)),
        ("2025-07-18 20:10:33 UTC", datetime(2025, 7, 18, 20, 10, 33, tzinfo=UTC)),
        ("2025-07-18T20:10:33Z", datetime(2025, 7, 18, 20, 10, 33, tzinfo=UTC)),
        ("2025-13-45 99:10:33.000 UTC", None),
        ("NO", None),
    ],
)
def test_parse_time(text, expected):
    assert dsregcmd.parse_time(text) == expected


def test_oem_bytes_and_crlf():
    text = (
        box("Device State") + "  AzureAdJoined : NO\n  DomainJoined : YES\n  DomainName : MÜNCHEN\n"
    )
    status = dsregcmd.parse(text.replace("\n", "\r\n").encode("cp437"))
    assert status.domain_name == "MÜNCHEN"
    assert status.join_type == "domain-joined"


@pytest.mark.parametrize(
    "text",
    ["", "hello world", "C:\\> dsregcmd /status\nThe command is not recognised.", box("Foo")],
)
def test_no_known_section_is_a_clear_error(text):
    with pytest.raises(ParseError, match=r"^x\.txt: no dsregcmd /status section found$"):
        dsregcmd.parse(text, source="x.txt")

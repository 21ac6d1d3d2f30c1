"""Every shape a technician is sent: single captures by content, partial dsregcmd pastes, the AAD
log as .evtx / Format-List / Event Viewer text, notes instead of refusals, console wraps."""

import json
from datetime import UTC, datetime

import pytest

from odfix.cli import main
from odfix.errors import BadInput
from odfix.evidence import aad_text, bundle, credentials, dsregcmd, recognise
from odfix.evidence.common import ParseError
from odfix.exitcodes import ExitCode
from odfix.hosts.base import CredType

from .conftest import FIXTURES


def test_a_saved_evtx_log_is_read_newest_first_with_record_ids():
    log = aad_text.parse_evtx((FIXTURES / "aad_events/aad_operational_real.evtx").read_bytes())
    assert len(log.events) == 9
    assert [e.record_id for e in log.events] == list(range(9, 0, -1))
    first = log.events[-1]
    assert (first.id, first.provider, first.level) == (1097, "Microsoft-Windows-AAD", "warning")
    assert first.time == datetime(2024, 11, 14, 16, 16, 37, 324481, tzinfo=UTC)
    assert first.data["ErrorMessage"] == "The cache has been partitioned successfully."
    assert first.citation.line == 1 and first.citation.file == "aad_operational.evtx"


def test_a_damaged_evtx_is_one_line():
    with pytest.raises(ParseError, match=r"not a readable \.evtx"):
        aad_text.parse_evtx(aad_text.EVTX_MAGIC + b"x" * 100)


def test_event_viewer_copy_details_text():
    log = aad_text.parse_text((FIXTURES / "aad_events/event_viewer_copy_learn.txt").read_bytes())
    assert [(e.id, e.level, e.codes, e.aadsts) for e in log.events] == [
        (1098, "error", ["0xCAA2000C"], [50076]), (1098, "error", ["0xCAA2000C"], [50158])]
    first = log.events[0]
    assert first.provider == "Microsoft-Windows-AAD" and first.is_aad
    assert first.channel == "Microsoft-Windows-AAD/Operational"
    assert first.citation.line == 11 and first.citation.text.startswith("Error: 0xCAA2000C")
    assert first.message.splitlines()[2].startswith("Description: AADSTS50076")
    assert log.by_id(1098) == log.events


def test_format_list_text_with_a_prompt_and_an_authors_ellipsis():
    log = aad_text.parse_text((FIXTURES / "aad_events/format_list_security_thm.txt").read_bytes())
    (event,) = log.events
    assert (event.id, event.provider, event.is_aad) == (
        4624, "Microsoft-Windows-Security-Auditing", False)
    assert event.time == datetime(2021, 4, 24, 3, 17, 22, tzinfo=UTC)
    assert "Source Port:            0" in event.message and "..." in event.message
    assert log.notes[0].startswith("aad_operational.txt: line 1: a shell prompt, skipped: 'PS C:")
    assert any("local time" in n for n in log.notes)


def test_format_list_of_aad_events():
    log = aad_text.parse_text((FIXTURES / "aad_events/format_list_aad_composed.txt").read_bytes())
    assert [(e.id, e.codes) for e in log.events] == [(1098, ["0xCAA2000C"]), (1104, ["0xC000005F"])]
    assert log.events[0].aadsts == [50076]


@pytest.mark.parametrize(("fixture", "kind"), [
    ("aad_events/aad_operational_real.evtx", "aad_operational.evtx"),
    ("aad_events/event_viewer_copy_learn.txt", "aad_operational.txt"),
    ("aad_events/format_list_aad_composed.txt", "aad_operational.txt"),
    ("aad_events/wevtutil_recent_utf16.xml", "aad_operational.xml"),
    ("dsregcmd/select_string_filtered.txt", "dsregcmd_status.txt"),
    ("dsregcmd/sso_state_only_jp_blog.txt", "dsregcmd_status.txt"),
    ("dsregcmd/registered_prompt_utf16.txt", "dsregcmd_status.txt"),
    ("cmdkey/domain_extended_powertip.txt", "cmdkey_list.txt"),
    ("network/winhttp_proxy_local.txt", "winhttp_proxy.txt"),
    ("onedrive/two_business_one_personal.reg", "onedrive.reg"),
    ("office_identity/three_identities_wam_disabled.reg", "office_identity.reg"),
    ("network/schannel_tls12_disabled.reg", "schannel.reg"),
    ("network/internet_settings_pac.reg", "internet_settings.reg"),
    ("credentials/api_listing.json", "credentials.json"),
])
def test_a_capture_is_recognised_by_its_content(fixture, kind):
    assert recognise.kind_of((FIXTURES / fixture).read_bytes()) == kind


def test_diagnose_takes_one_capture_under_any_name(tmp_path, capsys):
    sent = tmp_path / "from the user.txt"
    sent.write_bytes((FIXTURES / "dsregcmd/hybrid_prt_failure_learn.txt").read_bytes())
    assert main(["diagnose", str(sent), "--json"]) == ExitCode.PROBLEM
    document = json.loads(capsys.readouterr().out)
    assert document["join_type"] == "hybrid-joined"
    assert "from the user.txt: read as dsregcmd_status.txt" in document["pcs"][0]["problems"]


def test_diagnose_an_evtx_file_as_windows_names_it(tmp_path):
    saved = tmp_path / "Microsoft-Windows-AAD%4Operational.evtx"
    saved.write_bytes((FIXTURES / "aad_events/aad_operational_real.evtx").read_bytes())
    loaded = bundle.load(saved)
    assert loaded.evidence.aad_events is not None and len(loaded.evidence.aad_events.events) == 9


def test_an_unrecognised_single_file_says_what_was_tried(tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    with pytest.raises(BadInput, match=r"tried: a zip, an \.evtx"):
        bundle.load(odd)


def test_a_folder_member_under_another_name_is_recognised(tmp_path):
    (tmp_path / "dsreg.txt").write_bytes((FIXTURES / "dsregcmd/hybrid_prt_failure_learn.txt")
                                         .read_bytes())
    loaded = bundle.load(tmp_path)
    assert loaded.evidence.dsregcmd is not None
    assert loaded.problems == ["dsreg.txt: read as dsregcmd_status.txt (recognised by its "
                               "content)"]


def test_select_string_output_is_partial_evidence():
    status = dsregcmd.parse((FIXTURES / "dsregcmd/select_string_filtered.txt").read_bytes())
    assert status.partial and status.join_type == "domain-joined"
    assert [s.title for s in status.sections] == ["Device State", "SSO State"]
    assert status.prt.azure_ad_prt is False and status.prt.authority is None
    assert status.get("Device State", "DomainJoined").citation.line == 3
    assert any("partial output" in n for n in status.notes)


def test_an_sso_state_only_paste_is_partial_not_no_section():
    status = dsregcmd.parse((FIXTURES / "dsregcmd/sso_state_only_jp_blog.txt").read_bytes())
    assert status.partial and status.join_type == "unknown"
    assert [s.title for s in status.sections] == ["SSO State"]
    assert status.prt.azure_ad_prt is False


def test_prt_authority_no_is_no_authority():
    status = dsregcmd.parse(
        (FIXTURES / "dsregcmd/domain_joined_winrm_prt_authority_no_2023.txt").read_bytes())
    assert status.prt.authority is None and status.prt.azure_ad_prt is False
    assert status.value("SSO State", "AzureAdPrtAuthority") == "NO"
    assert status.join_type == "domain-joined" and not status.partial
    assert status.registration is not None and status.registration.client_error_code == \
        "0x801c001d"


def test_a_value_wrapped_by_the_console_is_joined():
    whole = dsregcmd.parse((FIXTURES / "dsregcmd/hybrid_prt_failure_learn.txt").read_bytes())
    wrapped = dsregcmd.parse(
        (FIXTURES / "dsregcmd/hybrid_wrapped_80_columns_synthetic.txt").read_bytes())
    for section in ("Device Details", "Tenant Details", "SSO State"):
        assert [(f.key, f.value) for f in wrapped.section(section).fields] == \
            [(f.key, f.value) for f in whole.section(section).fields]
    assert wrapped.prt.diagnostics[0].server_error_description == \
        whole.prt.diagnostics[0].server_error_description
    assert any("the console wrapped the line" in n for n in wrapped.notes)


def test_domain_extended_credentials_type_and_notes_for_unknown_lines():
    listed = credentials.parse_cmdkey(
        (FIXTURES / "cmdkey/domain_extended_powertip.txt").read_bytes())
    assert [c.type for c in listed.credentials] == [CredType.DOMAIN_EXTENDED] * 2
    assert [c.credential_class for c in listed.credentials] == ["msa-consumer"] * 2
    assert listed.notes == ["cmdkey_list.txt: line 1: a shell prompt, skipped: 'PS> cmdkey /list'",
                            "cmdkey_list.txt: line 14: not understood, skipped: '...'"]


def test_a_line_before_any_target_is_a_note_not_a_refusal():
    listed = credentials.parse_cmdkey("Currently stored credentials:\n\nwhat is this\n"
                                      "    Target: MicrosoftOffice16_Data:x\n    Type: Generic\n")
    assert len(listed.credentials) == 1
    assert listed.notes == ["cmdkey_list.txt: line 3: not understood, skipped: 'what is this'"]


def test_dsregcmd_lines_that_are_no_field_are_notes_and_dsregcmds_own_prose_is_not():
    real = FIXTURES / "real/entra-registered-msa-default-2026/dsregcmd_status.txt"
    status = dsregcmd.parse(real.read_bytes())
    assert status.notes == [
        "dsregcmd_status.txt: line 1: not understood, skipped: '$ dsregcmd /status'",
        "dsregcmd_status.txt: line 24: not understood, skipped: '...省略'",
        "dsregcmd_status.txt: line 41: not understood, skipped: '...省略'"]
    assert status.join_type == "entra-registered" and len(status.work_accounts) == 1
    irregular = dsregcmd.parse((FIXTURES / "dsregcmd/entra_joined_irregular_2025.txt").read_bytes())
    assert any("For more information" in c.text
               for s in irregular.sections for c in s.other_lines)
    assert irregular.notes == []


def test_a_prompt_pasted_with_netsh_output_is_a_note():
    from odfix.evidence import network

    proxy = network.parse_winhttp((FIXTURES / "network/winhttp_direct_prompt.txt").read_bytes())
    assert proxy.direct is True
    assert proxy.notes == ["winhttp_proxy.txt: line 1: a shell prompt, skipped: "
                           "'C:\\\\Users\\\\UserName>netsh.exe winhttp show proxy'"]

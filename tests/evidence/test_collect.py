"""collect: every source through a Host, manifest, facts, contexts, failures, the zip."""

import json
import stat
import sys
import zipfile

import pytest

from odfix.cli import main
from odfix.evidence import bundle
from odfix.evidence.collect import COLLECTORS, Collector, collect, run_collect
from odfix.exitcodes import ExitCode
from odfix.hosts.base import CommandResult, Context, StoredCredential

WEVTUTIL = ("wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500")


@pytest.fixture
def host(fixture_bytes, make_host):
    def text(path):
        return fixture_bytes(path).decode("utf-8-sig")

    def build(context=Context.USER):
        return make_host(
            reg=[fixture_bytes("onedrive/two_business_one_personal.reg"),
                 fixture_bytes("office_identity/three_identities_wam_disabled.reg"),
                 fixture_bytes("network/internet_settings_pac.reg"),
                 fixture_bytes("network/schannel_hardened.reg"),
                 b"REGEDIT4\n[HKEY_CURRENT_USER\\Software\\Microsoft\\OneDrive\\Accounts\\"
                 b"Business1]\n\"Blob\"=hex:ff,fe,00,d8\n",
                 b"REGEDIT4\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\"
                 b"CurrentVersion]\n\"CurrentBuild\"=\"22631\"\n\"UBR\"=dword:0000113c\n"],
            runs={
                ("dsregcmd", "/status"): CommandResult(
                    argv=["dsregcmd", "/status"], exit_code=0,
                    stdout=text("dsregcmd/hybrid_prt_failure_learn.txt")),
                WEVTUTIL: CommandResult(argv=list(WEVTUTIL), exit_code=0,
                                        stdout=text("aad_events/wevtutil_recent.xml")),
                ("netsh", "winhttp", "show", "proxy"): CommandResult(
                    argv=["netsh"], exit_code=0, stdout=text("network/winhttp_direct.txt")),
                ("cmdkey", "/list"): CommandResult(
                    argv=["cmdkey"], exit_code=0, stdout=text("cmdkey/office_onedrive_mixed.txt")),
            },
            credentials=[StoredCredential(target="MicrosoftOffice16_Data:SSPI:user1@contoso.com",
                                          type=1, persist=2, user_name="user1@contoso.com")],
            context=context)
    return build


def test_collects_every_source_as_user(host):
    files = collect(host())
    assert set(files) == {c.file for c in COLLECTORS} | {"manifest.json", "facts.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["host_name"] == "PC-0001" and manifest["context"] == "user"
    assert manifest["windows_build"] == "22631.4412"
    assert manifest["time"] == "2026-11-27T09:00:00Z"
    assert {run["status"] for run in manifest["collectors"]} == {"ok"}
    assert files["onedrive.reg"].startswith(b"\xff\xfe")
    facts = json.loads(files["facts.json"])
    assert facts["problems"] == []
    first_account = facts["evidence"]["onedrive"]["accounts"][0]
    assert first_account["user_email"]["value"] == "user1@contoso.com"
    assert first_account["values"]["Blob"]["value"] == "fffe00d8"
    loaded = bundle.from_files(files, "pc")
    assert loaded.evidence.network.tls12_enabled is True
    assert loaded.evidence.credentials.source == "credentials.json"
    assert loaded.evidence.office_identity.wam_disabled


def test_as_system_user_sources_are_skipped_with_the_reason(host):
    files = collect(host(Context.SYSTEM))
    runs = {run["name"]: run for run in json.loads(files["manifest.json"])["collectors"]}
    for name in ("credentials", "cmdkey", "onedrive", "office-identity", "internet-settings"):
        assert runs[name]["status"] == "skipped"
        assert "SYSTEM" in runs[name]["reason"]
    assert runs["dsregcmd"]["status"] == "ok" and "credentials.json" not in files


def test_one_failing_source_does_not_fail_the_rest(host):
    pc = host()
    del pc.runs[WEVTUTIL]
    pc.runs[("netsh", "winhttp", "show", "proxy")] = CommandResult(
        argv=["netsh"], exit_code=1, stderr="Access is denied.\r\n")
    pc.keys.clear()
    pc.paths.clear()
    files = collect(pc)
    runs = {run["name"]: run for run in json.loads(files["manifest.json"])["collectors"]}
    assert runs["aad-operational-log"]["status"] == "failed"
    assert "wevtutil is not on this host" in runs["aad-operational-log"]["reason"]
    assert runs["winhttp-proxy"]["reason"] == \
        "RuntimeError: netsh winhttp show proxy exited 1 Access is denied."
    assert runs["onedrive"]["reason"].startswith("LookupError: registry key not present")
    assert runs["dsregcmd"]["status"] == "ok"
    assert json.loads(files["manifest.json"])["windows_build"] is None


def test_elevated_source_is_skipped_for_a_plain_user(host):
    needs_admin = Collector("admin-only", "admin.txt", lambda h: b"x", "elevated")
    runs = json.loads(collect(host(), [needs_admin])["manifest.json"])["collectors"]
    assert runs == [{"name": "admin-only", "file": "admin.txt", "status": "skipped",
                     "reason": "needs an elevated prompt (Run as administrator)"}]
    runs = json.loads(collect(host(Context.ELEVATED), [needs_admin])["manifest.json"])
    assert runs["collectors"][0]["status"] == "ok"


def test_no_secret_ever_enters_the_bundle(host, tmp_path):
    result = run_collect(host(), tmp_path / "b.zip")
    with zipfile.ZipFile(result.bundle) as opened:
        credentials = json.loads(opened.read("credentials.json"))
    assert set(credentials["credentials"][0]) == {
        "target", "type", "persist", "user_name", "last_written", "comment"}


def test_run_collect_pseudonymized_with_a_random_key(host, tmp_path):
    result = run_collect(host(), tmp_path / "b.zip", pseudonymize_files=True)
    key_file = tmp_path / "b.zip.key"
    assert result.key_file == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with zipfile.ZipFile(result.bundle) as opened:
        everything = b"".join(opened.read(n) for n in opened.namelist())
    for secret in (b"user1@contoso.com", "user1@contoso.com".encode("utf-16-le"), b"PC-0001"):
        assert secret not in everything
    loaded = bundle.load(result.bundle)
    assert loaded.problems == []
    assert loaded.manifest.host_name.startswith("host-")
    assert loaded.evidence.onedrive.accounts[0].user_email.value.startswith("user-")


def test_run_collect_with_a_given_key_is_reproducible(host, tmp_path):
    first = run_collect(host(), tmp_path / "a.zip", pseudonymize_with="k",
                        pseudonymize_files=True)
    second = run_collect(host(), tmp_path / "b.zip", pseudonymize_with="k",
                         pseudonymize_files=True)
    assert first.key_file is None
    one, two = bundle.load(first.bundle), bundle.load(second.bundle)
    assert one.evidence.dsregcmd.device_id == two.evidence.dsregcmd.device_id
    assert one.manifest.host_name == two.manifest.host_name


def test_cli_refuses_outside_windows(capsys):
    assert main(["collect"]) == ExitCode.WRONG_CONTEXT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "runs only on Windows" in captured.err


@pytest.fixture
def on_windows(monkeypatch, host, tmp_path):
    """The CLI as on Windows, with the fixture host standing in for WindowsHost."""
    import odfix.hosts.windows

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(odfix.hosts.windows, "WindowsHost", lambda: host())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_json_prints_one_document(on_windows, capsys):
    assert main(["collect", "--out", "b.zip", "--pseudonymize", "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document["bundle"] == "b.zip" and document["key_file"] == "b.zip.key"
    assert {run["status"] for run in document["collectors"]} == {"ok"}
    assert bundle.load(on_windows / "b.zip").manifest.host_name.startswith("host-")


def test_cli_human_output_and_default_name(on_windows, capsys):
    assert main(["collect"]) == ExitCode.OK
    out = capsys.readouterr().out
    (written,) = on_windows.glob("odfix-PC-0001-*Z.zip")
    assert f"Bundle written: {written.name}" in out
    assert "winhttp-proxy" in out


def test_the_key_file_is_created_private_never_chmod_after(host, tmp_path, monkeypatch):
    import os

    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args):
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode, *args)

    def no_chmod(*_args):
        raise AssertionError("the key file must be created with its final permissions")

    monkeypatch.setattr(os, "open", spy)
    monkeypatch.setattr(os, "chmod", no_chmod)
    run_collect(host(), tmp_path / "b.zip", pseudonymize_files=True)
    (key_open,) = [o for o in opened if ".key" in o[0]]
    assert key_open[2] == 0o600 and key_open[1] & os.O_EXCL and key_open[1] & os.O_CREAT
    assert stat.S_IMODE((tmp_path / "b.zip.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip", "b.zip.key"]


def test_an_earlier_key_file_is_replaced_whole(host, tmp_path):
    (tmp_path / "b.zip.key").write_text("old")
    run_collect(host(), tmp_path / "b.zip", pseudonymize_files=True)
    assert len((tmp_path / "b.zip.key").read_text().strip()) == 64
    assert stat.S_IMODE((tmp_path / "b.zip.key").stat().st_mode) == 0o600


@pytest.mark.parametrize(("out", "says"), [
    ("missing/b.zip", "does not exist"),
    (".", "is a folder"),
])
def test_cli_out_to_a_bad_place_is_one_line_exit_8(on_windows, capsys, out, says):
    assert main(["collect", "--out", out]) == ExitCode.IO_ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and says in captured.err


def test_cli_full_disk_is_one_line_and_no_partial_files(on_windows, capsys, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    assert main(["collect", "--out", "b.zip", "--pseudonymize", "--json"]) == ExitCode.IO_ERROR
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit"] == ExitCode.IO_ERROR
    assert "No space left on device" in captured.err and captured.err.count("\n") == 1
    assert list(on_windows.iterdir()) == []

"""Windows hardening: full program paths, a key file born private, process start times, the
identity caches moved aside."""

import ctypes
import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ntsecuritycon
import pytest
import win32api
import win32con
import win32file
import win32security

from odfix.errors import FixFailed
from odfix.evidence.collect import COLLECTORS, collect, run_collect
from odfix.fix import actions
from odfix.guide.load import load_guide
from odfix.hosts.windows import WindowsHost

from .conftest import REPO
from .standin import make_printer, make_standin


def _system32() -> str:
    buffer = ctypes.create_unicode_buffer(512)
    ctypes.windll.kernel32.GetSystemDirectoryW(buffer, 512)
    return buffer.value


def test_a_program_planted_in_the_current_folder_is_not_run(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            user_key: str) -> None:
    planted = tmp_path / "reg.exe"
    shutil.copy(Path(_system32(), "hostname.exe"), planted)
    monkeypatch.chdir(tmp_path)
    host = WindowsHost()
    assert host._resolve(["reg", "query", user_key])[0].casefold() == str(
        Path(_system32(), "reg.exe")).casefold()
    result = host.run(["reg", "add", user_key, "/f"])
    assert result.exit_code == 0
    assert os.environ.get("COMPUTERNAME", "").casefold() not in result.stdout.casefold()
    with pytest.raises(FixFailed, match="full path"):
        host.run(["hostname"])


def test_process_start_time_and_boot_time(tmp_path: Path) -> None:
    exe = make_standin(tmp_path / "Microsoft" / "OneDrive", "OneDrive.exe")
    host = WindowsHost(local_appdata=str(tmp_path), program_files=[], poll_interval=0.1)
    assert host.process_started("OneDrive.exe") is None
    before = datetime.now(UTC) - timedelta(seconds=2)
    host.start(str(exe), ["/background"])
    try:
        deadline = time.monotonic() + 15
        while host.process_started("OneDrive.exe") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        started = host.process_started("OneDrive.exe")
        assert started is not None and before <= started <= datetime.now(UTC)
    finally:
        host.stop("OneDrive.exe", timeout=10)
    assert host.boot_time() < datetime.now(UTC)


def test_clear_office_identity_moves_both_caches_aside_and_keeps_their_files(
        tmp_path: Path) -> None:
    base = tmp_path / "Microsoft"
    for name in ("OneAuth", "IdentityCache"):
        (base / name / "accounts").mkdir(parents=True)
        (base / name / "accounts" / "a.json").write_text(f"{name} data")
    (base / "Office").mkdir()
    host = WindowsHost(local_appdata=str(tmp_path), program_files=[])
    guide = load_guide()
    action = next(s.action for s in guide.method("clear-office-identity").steps
                  if s.action and s.action.name == "clear_office_identity")
    changes: list[dict[str, object]] = []
    runtime = actions.Runtime(host=host, guide=guide, record=changes.append, resume_argv=[],
                              perform=lambda title, text: None)
    result = actions.run(action, runtime, "clear")
    assert result.outcome == "done", result.notes
    moved = [c for c in changes if c["what"] == "folder"]
    assert [Path(str(c["path"])).name for c in moved] == ["OneAuth", "IdentityCache"]
    for change in moved:
        aside = Path(str(change["moved_to"]))
        assert not Path(str(change["path"])).exists()
        assert (aside / "accounts" / "a.json").read_text().endswith("data")
    assert sorted(p.name for p in base.iterdir())[0] == "IdentityCache." + \
        Path(str(moved[1]["moved_to"])).name.split(".", 1)[1]
    assert (base / "Office").is_dir()


def _entries(dacl: object) -> list[tuple[int, int, str]]:
    """The (type, mask, SID) entries of a DACL."""
    found = []
    for index in range(dacl.GetAceCount()):  # type: ignore[attr-defined]
        (kind, _flags), mask, sid = dacl.GetAce(index)  # type: ignore[attr-defined]
        found.append((kind, mask, win32security.ConvertSidToStringSid(sid)))
    return found


def _current_user() -> str:
    token = win32security.OpenProcessToken(win32api.GetCurrentProcess(), win32con.TOKEN_QUERY)
    try:
        sid = win32security.GetTokenInformation(token, win32security.TokenUser)[0]
    finally:
        token.Close()
    return str(win32security.ConvertSidToStringSid(sid))


BROAD_SIDS = {"S-1-1-0", "S-1-5-11", "S-1-5-32-545"}
"""Everyone, Authenticated Users, Users."""


def test_the_pseudonymisation_key_file_is_born_readable_by_its_user_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Upstream Wine keeps no file security descriptor (it reports one made from the Unix mode),
    # so what CreateFileW is given is checked, and what Wine reports back must agree with it.
    real_create = win32file.CreateFile
    created: list[tuple[str, int, object]] = []

    def spy(name: str, access: int, share: int, attributes: object, disposition: int,
            flags: int, template: object) -> object:
        created.append((name, disposition, attributes))
        return real_create(name, access, share, attributes, disposition, flags, template)

    monkeypatch.setattr(win32file, "CreateFile", spy)
    result = run_collect(WindowsHost(), tmp_path / "pc.zip", pseudonymize_files=True)
    key_file = Path(str(result.key_file))
    ((name, disposition, attributes),) = [c for c in created if ".key" in c[0]]
    assert Path(name).parent == key_file.parent and disposition == win32con.CREATE_NEW
    descriptor = attributes.SECURITY_DESCRIPTOR  # type: ignore[attr-defined]
    assert _entries(descriptor.GetSecurityDescriptorDacl()) == [
        (win32security.ACCESS_ALLOWED_ACE_TYPE, ntsecuritycon.FILE_ALL_ACCESS, _current_user())]
    assert descriptor.GetSecurityDescriptorControl()[0] & win32security.SE_DACL_PROTECTED
    reported = win32security.GetFileSecurity(
        str(key_file), win32security.DACL_SECURITY_INFORMATION).GetSecurityDescriptorDacl()
    entries = _entries(reported)
    assert not BROAD_SIDS & {sid for _kind, _mask, sid in entries}, entries
    assert (win32security.ACCESS_ALLOWED_ACE_TYPE, ntsecuritycon.FILE_ALL_ACCESS,
            _current_user()) in entries
    assert len(key_file.read_text().strip()) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pc.zip", "pc.zip.key"]


def test_a_planted_dsregcmd_or_cmdkey_in_the_current_folder_is_not_run_system32s_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system32 = Path(_system32())
    names = ("dsregcmd", "cmdkey")
    assert not any((system32 / f"{n}.exe").exists() for n in names)  # Wine ships neither
    captures = {"dsregcmd": REPO / "tests/fixtures/dsregcmd/hybrid_prt_failure_learn.txt",
                "cmdkey": REPO / "tests/fixtures/cmdkey/office_onedrive_mixed.txt"}
    here = tmp_path / "Downloads"
    for name in names:
        make_printer(here, f"{name}.exe", b"Planted in the current folder\r\n")
    monkeypatch.chdir(here)
    try:
        for name in names:
            make_printer(system32, f"{name}.exe", captures[name].read_bytes())
        files = collect(WindowsHost(), [c for c in COLLECTORS if c.file.endswith(".txt")
                                        and c.name in names])
    finally:
        for name in names:
            for suffix in (".exe", ".out", ".calls.log"):
                (system32 / f"{name}{suffix}").unlink(missing_ok=True)
    assert not list(here.glob("*.calls.log"))
    assert files["dsregcmd_status.txt"] == captures["dsregcmd"].read_bytes()
    assert files["cmdkey_list.txt"] == captures["cmdkey"].read_bytes()
    facts = json.loads(files["facts.json"])
    assert facts["evidence"]["dsregcmd"]["join_type"] == "hybrid-joined"
    assert len(facts["evidence"]["credentials"]["credentials"]) > 0

"""Windows hardening: full program paths, process start times, the identity caches moved aside."""

import ctypes
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from odfix.errors import FixFailed
from odfix.fix import actions
from odfix.guide.load import load_guide
from odfix.hosts.windows import WindowsHost

from .standin import make_standin


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

"""Pure parts of the Windows host that need no Windows: key paths, value kinds, credential dicts."""

import ctypes
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.errors import BadInput, FixFailed, WrongContext
from odfix.hosts import win_credentials, win_paths, win_registry
from odfix.hosts.base import RegValue, StoredCredential

segment = st.text(st.characters(blacklist_characters="\\/", blacklist_categories=("Cs",)),
                  min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)


@given(short=st.sampled_from(sorted(win_registry.HIVES)), parts=st.lists(segment, max_size=4))
def test_short_and_long_hive_names_agree(short: str, parts: list[str]) -> None:
    path = "\\".join(parts)
    long_name = win_registry.HIVES[short]
    assert win_registry.split_key(f"{short}\\{path}") == (long_name, path)
    assert win_registry.split_key(f"{long_name.lower()}\\{path}\\") == (long_name, path)


@pytest.mark.parametrize("key", ["", "Software\\Microsoft", "HKXX\\Software", "C:\\Windows"])
def test_key_without_hive_is_bad_input(key: str) -> None:
    with pytest.raises(BadInput, match="hive"):
        win_registry.split_key(key)


def test_user_hive_detection() -> None:
    assert win_registry.is_user_hive(r"HKCU\Software\Microsoft\OneDrive")
    assert win_registry.is_user_hive(r"HKEY_CURRENT_USER\Software")
    assert not win_registry.is_user_hive(r"HKLM\SOFTWARE\Microsoft\OneDrive")


@pytest.mark.parametrize(("data", "code", "expected"), [
    ("x", 1, RegValue(name="v", kind="REG_SZ", data="x")),
    (None, 1, RegValue(name="v", kind="REG_SZ", data="")),
    (7, 4, RegValue(name="v", kind="REG_DWORD", data=7)),
    (["a"], 7, RegValue(name="v", kind="REG_MULTI_SZ", data=["a"])),
    (None, 3, RegValue(name="v", kind="REG_BINARY", data=None)),
    (b"\x00\x01", 5, RegValue(name="v", kind="REG_BINARY", data=b"\x00\x01")),
])
def test_winreg_results_become_reg_values(data: object, code: int, expected: RegValue) -> None:
    assert win_registry.to_value("v", data, code) == expected


@given(st.integers())
def test_dword_range_is_enforced(number: int) -> None:
    value = RegValue(name="d", kind="REG_DWORD", data=number)
    if 0 <= number < 2**32:
        win_registry.check_value(value)
    else:
        with pytest.raises(BadInput):
            win_registry.check_value(value)


def test_credential_metadata_leaves_the_secret_behind_and_normalises_time() -> None:
    secret = ctypes.create_string_buffer(b"secret-bytes")
    raw = win_credentials._Credential(
        Type=1, TargetName="MicrosoftOffice16_Data:orgid:user1@contoso.com", Comment="",
        LastWritten=134118288000000000,  # 2026-01-02 12:00:00 UTC as a FILETIME
        _secret_size=12, _secret=ctypes.cast(secret, ctypes.c_void_p), Persist=2,
        UserName="user1@contoso.com")
    cred = win_credentials.describe(raw)
    assert cred.last_written == datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert cred.comment is None and cred.persist == 2 and cred.type == 1
    assert "secret" not in cred.model_dump_json()
    assert set(StoredCredential.model_fields) == {"target", "type", "persist", "user_name",
                                                   "last_written", "comment"}


@pytest.mark.parametrize(("code", "raised"), [(1312, WrongContext), (5, FixFailed)])
def test_credential_errors_map_to_odfix_errors(monkeypatch: pytest.MonkeyPatch, code: int,
                                               raised: type[Exception]) -> None:
    class FakeAdvapi32:
        @staticmethod
        def CredEnumerateW(*args: object) -> int:
            return 0

    monkeypatch.setattr(win_credentials, "_advapi32", lambda: FakeAdvapi32)
    monkeypatch.setattr(win_credentials, "_last_error", lambda: code)
    with pytest.raises(raised) as caught:
        win_credentials.enumerate_credentials("MicrosoftOffice")
    if raised is WrongContext:
        assert str(caught.value) == win_credentials.NO_SESSION_MESSAGE


@pytest.mark.parametrize(("program", "expected"), [
    ("dsregcmd", r"D:\Win\System32\dsregcmd.exe"),
    ("NETSH.EXE", r"D:\Win\System32\netsh.exe"),
    ("cmdkey", r"D:\Win\System32\cmdkey.exe"),
    ("wevtutil", r"D:\Win\System32\wevtutil.exe"),
    ("reg", r"D:\Win\System32\reg.exe"),
    (r"C:\Users\u\AppData\Local\Microsoft\OneDrive\OneDrive.exe",
     r"C:\Users\u\AppData\Local\Microsoft\OneDrive\OneDrive.exe"),
])
def test_programs_run_by_full_path(program: str, expected: str) -> None:
    assert win_paths.resolve(program, r"D:\Win\System32") == expected


@pytest.mark.parametrize("program", ["OneDrive.exe", "python", r".\dsregcmd.exe",
                                     r"tools\netsh.exe", "dsregcmd.cmd"])
def test_a_bare_or_relative_program_is_refused(program: str) -> None:
    with pytest.raises(FixFailed, match="full path"):
        win_paths.resolve(program, r"D:\Win\System32")

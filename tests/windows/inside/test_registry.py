"""Registry reads, writes and deletes through WindowsHost, checked against Wine's reg.exe."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odfix.errors import BadInput, WrongContext
from odfix.hosts.base import Context, RegValue
from odfix.hosts.windows import WindowsHost

from .conftest import reg_exe

KINDS = [
    RegValue(name="Text", kind="REG_SZ", data="user1@contoso.com"),
    RegValue(name="Empty", kind="REG_SZ", data=""),
    RegValue(name="Expand", kind="REG_EXPAND_SZ", data=r"%LOCALAPPDATA%\Microsoft\OneDrive"),
    RegValue(name="Dword", kind="REG_DWORD", data=0xFFFFFFFF),
    RegValue(name="Qword", kind="REG_QWORD", data=2**64 - 1),
    RegValue(name="Multi", kind="REG_MULTI_SZ", data=["Business1", "Personal"]),
    RegValue(name="Blob", kind="REG_BINARY", data=b"\x00\x01\xfe\xff"),
    RegValue(name="Nothing", kind="REG_NONE", data=None),
    RegValue(name="", kind="REG_SZ", data="the default value"),
]


@pytest.mark.parametrize("value", KINDS, ids=lambda v: v.kind + ":" + (v.name or "default"))
def test_every_kind_round_trips(host: WindowsHost, user_key: str, value: RegValue) -> None:
    host.write_registry(user_key, value)
    assert host.read_registry(user_key, value.name) == value


def test_values_subkeys_and_deletes(host: WindowsHost, user_key: str) -> None:
    for value in KINDS[:3]:
        host.write_registry(user_key, value)
    host.write_registry(user_key + r"\Accounts\Business1", KINDS[0])
    host.write_registry(user_key + r"\Accounts\Personal", KINDS[0])
    by_name = sorted(host.list_registry_values(user_key), key=lambda v: v.name)
    assert by_name == sorted(KINDS[:3], key=lambda v: v.name)
    assert sorted(host.list_registry_subkeys(user_key + r"\Accounts")) == ["Business1", "Personal"]
    assert host.delete_registry_value(user_key, "Text") is True
    assert host.delete_registry_value(user_key, "Text") is False
    assert host.read_registry(user_key, "Text") is None
    assert sorted(v.name for v in host.list_registry_values(user_key)) == ["Empty", "Expand"]


def test_absent_keys_read_as_nothing(host: WindowsHost, user_key: str) -> None:
    absent = user_key + r"\does\not\exist"
    assert host.read_registry(absent, "x") is None
    assert host.list_registry_values(absent) == []
    assert host.list_registry_subkeys(absent) == []
    assert host.delete_registry_value(absent, "x") is False
    host.write_registry(user_key, KINDS[0])
    assert host.read_registry(user_key, "missing") is None


def test_reg_exe_and_host_agree(host: WindowsHost, user_key: str) -> None:
    long_name = user_key.replace("HKCU", "HKEY_CURRENT_USER", 1)
    added = reg_exe("add", user_key, "/v", "Timerautomount", "/t", "REG_QWORD", "/d", "1", "/f")
    assert added.returncode == 0, added.stdout + added.stderr
    assert host.read_registry(long_name, "timerautomount") == RegValue(
        name="timerautomount", kind="REG_QWORD", data=1)
    host.write_registry(user_key, RegValue(name="UserEmail", kind="REG_SZ",
                                           data="user1@contoso.com"))
    query = reg_exe("query", user_key, "/v", "UserEmail")
    assert query.returncode == 0
    assert "REG_SZ" in query.stdout and "user1@contoso.com" in query.stdout


@pytest.mark.parametrize("value", [
    RegValue(name="d", kind="REG_DWORD", data=-1),
    RegValue(name="d", kind="REG_DWORD", data=2**32),
    RegValue(name="s", kind="REG_SZ", data=1),
    RegValue(name="m", kind="REG_MULTI_SZ", data="not a list"),
])
def test_bad_data_is_refused_before_writing(host: WindowsHost, user_key: str,
                                            value: RegValue) -> None:
    with pytest.raises(BadInput):
        host.write_registry(user_key, value)
    assert host.list_registry_values(user_key) == []


def test_machine_hive_allowed_user_hive_refused_under_system(user_key: str) -> None:
    system = WindowsHost(context_probe=lambda: Context.SYSTEM)
    version = system.read_registry(r"HKLM\Software\Microsoft\Windows NT\CurrentVersion",
                                   "CurrentVersion")
    assert version is not None and version.kind == "REG_SZ"
    with pytest.raises(WrongContext):
        system.read_registry(user_key, "x")
    with pytest.raises(WrongContext):
        system.write_registry(user_key, KINDS[0])


text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=40)
values = st.one_of(
    st.builds(RegValue, name=st.just("v"), kind=st.sampled_from(["REG_SZ", "REG_EXPAND_SZ"]),
              data=text),
    st.builds(RegValue, name=st.just("v"), kind=st.just("REG_DWORD"),
              data=st.integers(0, 2**32 - 1)),
    st.builds(RegValue, name=st.just("v"), kind=st.just("REG_QWORD"),
              data=st.integers(0, 2**64 - 1)),
    st.builds(RegValue, name=st.just("v"), kind=st.just("REG_MULTI_SZ"),
              data=st.lists(text.filter(bool), max_size=4)),
    st.builds(RegValue, name=st.just("v"), kind=st.just("REG_BINARY"),
              data=st.binary(min_size=1, max_size=64)),
)


# Sharing the user_key fixture is safe: every example removes what it wrote.
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values, name=text)
def test_any_value_round_trips_through_the_real_registry(user_key: str, value: RegValue,
                                                         name: str) -> None:
    host = WindowsHost()
    named = value.model_copy(update={"name": name})
    host.write_registry(user_key, named)
    assert host.read_registry(user_key, name) == named
    assert host.delete_registry_value(user_key, name) is True

"""The Windows registry through ``winreg``: reg.exe-style key paths, REG_* kinds, values.

Key paths are written the way ``reg.exe`` prints them (``HKCU\\Software\\Microsoft\\OneDrive``,
long hive names accepted too). Kinds odfix does not model (``REG_LINK``, resource lists, big-endian
DWORDs) are read as ``REG_BINARY`` bytes; odfix never writes them.
"""

import importlib
from typing import Any

from odfix.errors import BadInput
from odfix.hosts.base import RegKind, RegValue

HIVES: dict[str, str] = {
    "HKCU": "HKEY_CURRENT_USER",
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
KIND_CODES: dict[RegKind, int] = {
    "REG_NONE": 0,
    "REG_SZ": 1,
    "REG_EXPAND_SZ": 2,
    "REG_BINARY": 3,
    "REG_DWORD": 4,
    "REG_MULTI_SZ": 7,
    "REG_QWORD": 11,
}
_KIND_NAMES: dict[int, RegKind] = {code: name for name, code in KIND_CODES.items()}
_KEY_WOW64_64KEY = 0x0100
_INT_LIMITS = {"REG_DWORD": 2**32, "REG_QWORD": 2**64}


def split_key(key: str) -> tuple[str, str]:
    """``HKCU\\Software\\X`` → (``HKEY_CURRENT_USER``, ``Software\\X``); BadInput if no hive."""
    head, _, rest = key.strip().replace("/", "\\").strip("\\").partition("\\")
    hive = head.upper()
    if hive in HIVES:
        hive = HIVES[hive]
    if hive not in HIVES.values():
        raise BadInput(f"registry key {key!r} does not start with a hive such as HKCU or HKLM")
    return hive, "\\".join(part for part in rest.split("\\") if part)


def is_user_hive(key: str) -> bool:
    """Whether the key lives in the calling user's hive (meaningless under SYSTEM)."""
    return split_key(key)[0] == "HKEY_CURRENT_USER"


def to_value(name: str, data: object, kind_code: int) -> RegValue:
    """A RegValue from what ``winreg.QueryValueEx``/``EnumValue`` returned."""
    kind = _KIND_NAMES.get(kind_code, "REG_BINARY")
    if kind in ("REG_SZ", "REG_EXPAND_SZ"):
        return RegValue(name=name, kind=kind, data="" if data is None else str(data))
    if kind in ("REG_DWORD", "REG_QWORD"):
        return RegValue(name=name, kind=kind, data=data if isinstance(data, int) else None)
    if kind == "REG_MULTI_SZ":
        items = data if isinstance(data, list) else []
        return RegValue(name=name, kind=kind, data=[str(item) for item in items])
    if isinstance(data, bytes | bytearray):
        return RegValue(name=name, kind=kind, data=bytes(data))
    return RegValue(name=name, kind=kind, data=None)


def check_value(value: RegValue) -> None:
    """BadInput unless ``value.data`` fits ``value.kind`` the way ``winreg.SetValueEx`` needs."""
    data, kind = value.data, value.kind
    ok = {
        "REG_SZ": isinstance(data, str),
        "REG_EXPAND_SZ": isinstance(data, str),
        "REG_DWORD": isinstance(data, int) and 0 <= data < _INT_LIMITS["REG_DWORD"],
        "REG_QWORD": isinstance(data, int) and 0 <= data < _INT_LIMITS["REG_QWORD"],
        "REG_MULTI_SZ": isinstance(data, list) and all(isinstance(i, str) for i in data),
        "REG_BINARY": data is None or isinstance(data, bytes),
        "REG_NONE": data is None or isinstance(data, bytes),
    }[kind]
    if not ok:
        raise BadInput(f"registry value {value.name!r}: {data!r} is not valid {kind} data")


def _winreg() -> Any:
    return importlib.import_module("winreg")


def _open(key: str, write: bool = False) -> Any:
    """An open handle, or None when the key is absent (created first when ``write``)."""
    winreg = _winreg()
    hive, path = split_key(key)
    root = getattr(winreg, hive)
    if write:
        return winreg.CreateKeyEx(root, path, 0, winreg.KEY_ALL_ACCESS | _KEY_WOW64_64KEY)
    try:
        return winreg.OpenKeyEx(root, path, 0, winreg.KEY_READ | _KEY_WOW64_64KEY)
    except FileNotFoundError:
        return None


def read(key: str, name: str) -> RegValue | None:
    """One value, or None when the key or the value is absent."""
    handle = _open(key)
    if handle is None:
        return None
    with handle:
        try:
            data, kind_code = _winreg().QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
    return to_value(name, data, kind_code)


def values(key: str) -> list[RegValue]:
    """All values of a key, in the order the registry enumerates them ([] when absent)."""
    handle = _open(key)
    if handle is None:
        return []
    winreg = _winreg()
    found: list[RegValue] = []
    with handle:
        count = winreg.QueryInfoKey(handle)[1]
        for index in range(count):
            name, data, kind_code = winreg.EnumValue(handle, index)
            found.append(to_value(name, data, kind_code))
    return found


def subkeys(key: str) -> list[str]:
    """Names of the direct subkeys ([] when the key is absent)."""
    handle = _open(key)
    if handle is None:
        return []
    winreg = _winreg()
    with handle:
        count = winreg.QueryInfoKey(handle)[0]
        return [winreg.EnumKey(handle, index) for index in range(count)]


def write(key: str, value: RegValue) -> None:
    """Create the key if needed and set the value."""
    check_value(value)
    with _open(key, write=True) as handle:
        _winreg().SetValueEx(handle, value.name, 0, KIND_CODES[value.kind], value.data)


def delete_value(key: str, name: str) -> bool:
    """Delete one value; False when the key or the value was not there."""
    winreg = _winreg()
    hive, path = split_key(key)
    try:
        handle = winreg.OpenKeyEx(getattr(winreg, hive), path, 0,
                                  winreg.KEY_SET_VALUE | _KEY_WOW64_64KEY)
    except FileNotFoundError:
        return False
    with handle:
        try:
            winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            return False
    return True

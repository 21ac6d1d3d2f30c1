"""What ``regfile.render`` writes, ``reg import`` accepts and ``reg export`` gives back (Wine)."""

import os
import shutil
import subprocess

import pytest

from odfix.evidence import regfile
from odfix.hosts.base import RegValue

KEY = "HKCU\\Software\\odfix-regfile-check\\Sub Key"
VALUES = [
    RegValue(name="", kind="REG_SZ", data="default"),
    RegValue(name='Quoted "name"', kind="REG_SZ", data='C:\\Path "quoted" ü'),
    RegValue(name="Dword", kind="REG_DWORD", data=0xFFFFFFFE),
    RegValue(name="Qword", kind="REG_QWORD", data=0x0123456789ABCDEF),
    RegValue(name="Multi", kind="REG_MULTI_SZ", data=["a", "bc", "user1@contoso.com"]),
    RegValue(name="Expand", kind="REG_EXPAND_SZ", data="%USERPROFILE%\\x"),
    RegValue(name="Binary", kind="REG_BINARY", data=bytes(range(60))),
]


def _windows_path(path):
    return "Z:" + str(path).replace("/", "\\")


@pytest.mark.wine
@pytest.mark.skipif(shutil.which("wine") is None, reason="needs Wine")
def test_reg_exe_round_trip(tmp_path):
    env = {**os.environ, "WINEPREFIX": str(tmp_path / "prefix"), "WINEDEBUG": "-all"}
    written, exported = tmp_path / "in.reg", tmp_path / "out.reg"
    written.write_bytes(regfile.render([(KEY, VALUES)]))
    for argv in (["reg", "import", _windows_path(written)],
                 ["reg", "export", KEY.rsplit("\\", 1)[0], _windows_path(exported), "/y"]):
        done = subprocess.run(["wine", *argv], env=env, capture_output=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr[-500:]
    key = regfile.parse(exported.read_bytes()).key(KEY)
    assert [(v.name, v.kind, v.data) for v in sorted(key.values, key=lambda v: v.name)] == \
        [(v.name, v.kind, v.data) for v in sorted(VALUES, key=lambda v: v.name)]

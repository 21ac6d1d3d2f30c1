"""The Windows build for real: dist/odfix-<version>-win-amd64.zip in a fresh Wine prefix.

The zip is built by scripts/windows/build.py (cached by the hash of its inputs, so only a change
to odfix rebuilds it), unpacked read-only into ``C:\\Program Files\\odfix`` of a new prefix that
has no Python at all, and run as odfix.exe: ``--version``, ``collect``, ``diagnose`` on what it
collected, and ``fix --apply --yes --json`` against credentials written with the real CredWriteW
(by credtool.exe, compiled here with mingw-w64). Skipped with a message when Wine or mingw-w64 is
absent; fails instead when ``CI=true`` (.ci/run installs both).
"""

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "windows" / "build.py"
ALLOWED = ["MicrosoftOffice16_Data:SSPI:user1@contoso.com",
           "OneDrive Cached Credential Business - Business1"]
KEPT = ["MicrosoftAccount:user=someone@outlook.com", "msteams_adalsso/adal_context_0",
        "LegacyGeneric:target=VPN-Gateway"]
pytestmark = [pytest.mark.wine, pytest.mark.slow]


def _require(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {tool} is missing: .ci/run must install {package}")
        pytest.skip(f"{tool} is not installed, so the Windows build cannot be tested; "
                    f"apt-get install {package}")


def load_build_module() -> Any:
    spec = importlib.util.spec_from_file_location("odfix_build_windows", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass
class WinBuild:
    """A fresh prefix with the build unpacked in it, and a way to run Windows programs there."""

    prefix: Path
    home: Path
    work: Path
    env: dict[str, str]

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``wine ARGV`` with piped output (never files: Wine gotcha 1), cwd ``work``."""
        return subprocess.run(["wine", *argv], capture_output=True, text=True, env=self.env,
                              cwd=self.work, stdin=subprocess.DEVNULL, timeout=timeout,
                              check=False, encoding="utf-8", errors="replace")

    def odfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.home / "odfix.exe"), *args)

    def win_path(self, path: Path) -> str:
        """The Windows path of a Linux path (Wine maps / to Z:)."""
        return "Z:" + str(path).replace("/", "\\")


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file: odfix.exe must write nothing into its folder."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _make_readonly(folder: Path, readonly: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if readonly else mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def winbuild(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WinBuild]:
    _require("wine", "wine wine64")
    _require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
    base = tmp_path_factory.mktemp("winbuild")
    built = load_build_module().build(base / "dist")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "ODFIX_", "VIRTUAL_ENV", "WINE"))}
    env.update(WINEPREFIX=str(base / "prefix"), WINEARCH="win64", WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=")
    subprocess.run(["wineboot", "--init"], env=env, capture_output=True, timeout=300,
                   stdin=subprocess.DEVNULL, check=True)
    home = base / "prefix" / "drive_c" / "Program Files" / "odfix"
    with zipfile.ZipFile(built.zip) as archive:
        archive.extractall(home)
    work = base / "work"
    work.mkdir()
    subprocess.run(["x86_64-w64-mingw32-gcc", "-O2", "-municode", "-s", "-o",
                    str(work / "credtool.exe"), str(Path(__file__).with_name("credtool.c")),
                    "-ladvapi32"], check=True, capture_output=True)
    _make_readonly(home, True)
    try:
        yield WinBuild(prefix=base / "prefix", home=home, work=work, env=env)
    finally:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, check=False)
        _make_readonly(home, False)


def test_the_prefix_has_no_python_and_the_build_no_interpreter(winbuild):
    drive = winbuild.prefix / "drive_c"
    found = [p for p in drive.rglob("python*.exe")]
    assert found == []
    assert (winbuild.home / "odfix.exe").is_file()


def test_odfix_exe_runs_version_collect_diagnose_and_fix(winbuild):
    """Read-only folder: its files lose their write bits (root ignores them, so the test also
    checks that not one byte of the folder changed: no .pyc written, no log, no settings)."""
    from odfix import __version__

    before = tree_digest(winbuild.home)
    version = winbuild.odfix("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"odfix {__version__}"

    wrote = winbuild.run(str(winbuild.work / "credtool.exe"), "write", *ALLOWED, *KEPT)
    assert wrote.returncode == 0, wrote.stderr

    bundle = winbuild.work / "pc.zip"
    collect = winbuild.odfix("collect", "--json", "--out", winbuild.win_path(bundle))
    assert collect.returncode == 0, collect.stderr
    collected = json.loads(collect.stdout)
    statuses = {c["name"]: c["status"] for c in collected["collectors"]}
    assert statuses["credentials"] == "ok" and statuses["dsregcmd"] == "failed"  # no dsregcmd
    with zipfile.ZipFile(bundle) as archive:
        listed = json.loads(archive.read("credentials.json"))
    text = json.dumps(listed)
    assert all(target in text for target in [*ALLOWED, *KEPT])
    assert '"x"' not in text and "blob" not in text.lower()

    diagnose = winbuild.odfix("diagnose", winbuild.win_path(bundle), "--json")
    assert diagnose.returncode in (0, 1, 4), diagnose.stderr  # 4: asks for more evidence
    diagnosis = json.loads(diagnose.stdout)
    assert diagnosis["healthy"] is (diagnose.returncode == 0)
    assert diagnosis["pcs"][0]["sources"] and "credentials" in diagnosis["pcs"][0]["sources"]

    fix = winbuild.odfix("fix", "--apply", "--yes", "--json", "--method", "credential-cleanup")
    lines = fix.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 2048, fix.stdout + fix.stderr
    line = json.loads(lines[0])
    assert line["exit"] == fix.returncode == 3  # no OneDrive here to restart and verify
    assert line["applied"] and line["plan"] == ["credential-cleanup"] and line["run"]
    assert any(step.endswith(":done") for step in line["steps"])

    left = winbuild.run(str(winbuild.work / "credtool.exe"), "list")
    assert left.returncode == 0, left.stderr
    assert sorted(left.stdout.split("\n")[:-1]) == sorted(KEPT)

    journals = list(winbuild.prefix.glob("drive_c/users/*/AppData/Local/odfix/journal.jsonl"))
    assert len(journals) == 1
    entries = [json.loads(x) for x in journals[0].read_text(encoding="utf-8").splitlines()]
    assert {e["run_id"] for e in entries} == {line["run"]}
    deleted = sorted(e["data"]["before"]["target"] for e in entries
                     if e["kind"] == "change" and e["data"].get("what") == "credential")
    assert deleted == sorted(ALLOWED)
    assert tree_digest(winbuild.home) == before


def _throwaway_pfx(folder: Path, password: bytes) -> tuple[Path, Path]:
    """A self-signed code-signing certificate (.pfx and its .pem) made for this test only."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contoso IT test signing")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    pfx = folder / "signing.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(
        b"test", key, cert, None, serialization.BestAvailableEncryption(password)))
    pem = folder / "signing.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pfx, pem


def test_sign_signs_every_unsigned_executable_and_keeps_python_orgs(tmp_path):
    _require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
    _require("osslsigncode", "osslsigncode")
    build = load_build_module()
    pfx, pem = _throwaway_pfx(tmp_path, b"pw 'with' spaces")
    signed = build.build(tmp_path / "dist", sign=pfx, password="pw 'with' spaces")
    assert "odfix.exe" in signed.signed and "runtime/python311.dll" not in signed.signed
    tree = tmp_path / "tree"
    with zipfile.ZipFile(signed.zip) as archive:
        archive.extractall(tree)
    pe_files = [p for p in tree.rglob("*") if p.suffix in (".exe", ".dll", ".pyd")]
    assert all(build.has_signature(p) for p in pe_files)
    for name in signed.signed:
        verify = subprocess.run(["osslsigncode", "verify", "-CAfile", str(pem), "-in",
                                 str(tree / name)], capture_output=True, text=True, check=False)
        assert verify.returncode == 0 and "Signature verification: ok" in verify.stdout, (
            name, verify.stdout[-800:], verify.stderr[-400:])
        assert "Contoso IT test signing" in verify.stdout
    dll = subprocess.run(["osslsigncode", "verify", "-in", str(tree / "runtime" / "python311.dll")],
                         capture_output=True, text=True, check=False)
    assert "Python Software Foundation" in dll.stdout
    unsigned = build.build(tmp_path / "plain")
    with zipfile.ZipFile(unsigned.zip) as archive:
        exe = archive.read("odfix.exe")
    (tmp_path / "plain.exe").write_bytes(exe)
    assert not build.has_signature(tmp_path / "plain.exe")  # the cache holds the unsigned build


def test_sign_with_a_wrong_password_fails_with_one_line(tmp_path):
    _require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
    _require("osslsigncode", "osslsigncode")
    pfx, _ = _throwaway_pfx(tmp_path, b"right")
    done = subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(tmp_path / "d"),
                           "--sign", str(pfx), "--password-env", "ODFIX_TEST_PFX_PASSWORD"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "ODFIX_TEST_PFX_PASSWORD": "wrong"})
    assert done.returncode == 1
    assert done.stderr.startswith("build-windows: signing odfix.exe failed"), done.stderr
    assert "Wrong password" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "right" not in done.stderr


def test_the_rmm_cmd_pair_runs_the_build_and_passes_its_exit_code(winbuild):
    """detect.cmd / remediate.cmd as ``odfix publish intune`` writes them, run by Wine's cmd.exe
    with the default folder (%ProgramW6432%\\odfix, where the build was unpacked)."""
    from odfix.cli import main

    out = winbuild.work / "rmm"
    assert main(["publish", "intune", "--out", str(out)]) == 0
    for role, kind in (("detect", "detect"), ("remediate", None)):
        done = winbuild.run("cmd", "/c", winbuild.win_path(out / f"{role}.cmd"))
        lines = done.stdout.splitlines()
        assert len(lines) == 1 and len(lines[0]) <= 2048, (role, done.stdout, done.stderr)
        line = json.loads(lines[0])
        assert line["exit"] == done.returncode != 0, (role, line)
        assert line.get("kind") == kind and line["host"]
    nowhere = winbuild.work / "nowhere"
    assert main(["publish", "intune", "--out", str(nowhere), "--install-dir",
                 r"C:\no such folder\odfix"]) == 0
    done = winbuild.run("cmd", "/c", winbuild.win_path(nowhere / "detect.cmd"))
    assert done.returncode == 8 and json.loads(done.stdout) == {
        "error": "odfix.exe not found", "exit": 8}

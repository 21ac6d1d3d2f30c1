"""Stand-in programs for the Wine tests and benchmark: real executables where OneDrive would be."""

import io
import sys
import zipfile
from pathlib import Path

STANDIN_MAIN = r'''
import pathlib, sys, time
exe = pathlib.Path(sys.argv[0])
flag, log = exe.with_name("shutdown.flag"), exe.with_name("calls.log")
if "/shutdown" not in sys.argv[1:]:
    flag.unlink(missing_ok=True)  # a request left over from an earlier copy
with log.open("a") as out:
    out.write(" ".join(sys.argv[1:]) + "\n")
if "/shutdown" in sys.argv[1:]:
    flag.write_text("requested")
    sys.exit(0)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if HONOURS_SHUTDOWN and flag.exists():
        flag.unlink()
        break
    time.sleep(0.1)
'''


PRINTER_MAIN = r'''
import pathlib, sys
exe = pathlib.Path(sys.argv[0])
with exe.with_name(exe.stem + ".calls.log").open("a") as out:
    out.write(" ".join(sys.argv[1:]) + "\n")
sys.stdout.buffer.write(exe.with_name(exe.stem + ".out").read_bytes())
'''


def make_printer(folder: Path, name: str, output: bytes) -> Path:
    """A real ``name`` executable that prints ``output`` and logs its arguments to
    ``<stem>.calls.log`` beside itself (pip's launcher running a small Python program)."""
    exe = _launcher(folder, name, PRINTER_MAIN)
    exe.with_name(exe.stem + ".out").write_bytes(output)
    return exe


def _launcher(folder: Path, name: str, main: str) -> Path:
    """``folder/name``: pip's ``t64.exe`` script launcher with ``main`` zipped behind it."""
    import pip._vendor.distlib as distlib

    launcher = (Path(distlib.__file__).parent / "t64.exe").read_bytes()
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as archive:
        archive.writestr("__main__.py", main)
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    shebang = b'#!"' + sys.executable.encode() + b'"\n'
    exe.write_bytes(launcher + shebang + payload.getvalue())
    return exe


def make_standin(folder: Path, name: str, honours_shutdown: bool = True) -> Path:
    """A real ``name`` executable: pip's script launcher running a small Python program.

    Run plainly it stays up to 60 s; run with ``/shutdown`` it asks the running copy to exit,
    which the copy obeys only when ``honours_shutdown``. Every call is logged in calls.log.
    """
    return _launcher(folder, name, f"HONOURS_SHUTDOWN = {honours_shutdown}\n{STANDIN_MAIN}")

"""Files the tenant commands write (``--html``, ``synth --out``, the pull folder): one clear line
when they cannot be written, never a traceback.

A path that cannot be a file (a folder, a missing folder) is bad input (exit 2); a disk that is
full or a folder odfix may not write to is an I/O failure (exit 8).
"""

import errno
from pathlib import Path

from odfix.errors import BadInput, IOFailure, OdfixError

_BAD_PATH = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EINVAL}
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def check_target(path: Path, what: str) -> None:
    """Raise ``BadInput`` when ``path`` is a folder or its folder does not exist (nothing is
    created: a mistyped folder should not appear on disk)."""
    if path.is_dir():
        raise BadInput(f"{what} {path} is a folder; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise BadInput(f"cannot write {what} {path}: folder {parent} does not exist")


def write_error(path: Path, what: str, error: OSError) -> OdfixError:
    """The one-line error for ``error`` raised while writing ``path``."""
    reason = error.strerror or str(error)
    if error.errno in _FULL:
        return IOFailure(f"cannot write {what} {path}: the disk is full ({reason})")
    if error.errno in _BAD_PATH:
        return BadInput(f"cannot write {what} {path}: {reason}")
    return IOFailure(f"cannot write {what} {path}: {reason}")


def write_text(path: Path, text: str, what: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, failing with one clear line."""
    check_target(path, what)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise write_error(path, what, error) from None

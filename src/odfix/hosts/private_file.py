"""A new file only its owner can open, private from the moment it exists (never chmod-ed later).

On Windows ``os.open(path, …, 0o600)`` only decides the read-only attribute: the file inherits
its folder's DACL (on a shared or redirected Desktop, others may read it). There the file is
created by ``CreateFileW`` with a protected DACL granting the current user alone; elsewhere by
``os.open`` with mode 0600. Both refuse an existing path (``O_EXCL`` / ``CREATE_NEW``).
"""

import importlib
import os
from pathlib import Path

from odfix.hosts.win_context import current_user_sid


def create_private(path: Path) -> int:
    """Create ``path`` for writing, readable by its owner alone; returns an OS file descriptor.

    Raises ``OSError`` (``FileExistsError`` when the path exists)."""
    if os.name == "nt":  # the real platform (tests pretend to be Windows through sys.platform)
        return _create_windows(path)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _create_windows(path: Path) -> int:
    win32con = importlib.import_module("win32con")
    win32file = importlib.import_module("win32file")
    win32security = importlib.import_module("win32security")
    pywintypes = importlib.import_module("pywintypes")
    ntsecuritycon = importlib.import_module("ntsecuritycon")
    msvcrt = importlib.import_module("msvcrt")
    user = current_user_sid()
    dacl = win32security.ACL()
    dacl.AddAccessAllowedAce(win32security.ACL_REVISION, ntsecuritycon.FILE_ALL_ACCESS, user)
    descriptor = win32security.SECURITY_DESCRIPTOR()
    descriptor.SetSecurityDescriptorDacl(True, dacl, False)
    # Protected: the folder's inheritable entries are not merged into the new file's DACL.
    descriptor.SetSecurityDescriptorControl(win32security.SE_DACL_PROTECTED,
                                            win32security.SE_DACL_PROTECTED)
    attributes = win32security.SECURITY_ATTRIBUTES()
    attributes.SECURITY_DESCRIPTOR = descriptor
    attributes.bInheritHandle = False
    try:
        handle = win32file.CreateFile(str(path), win32con.GENERIC_WRITE, 0, attributes,
                                      win32con.CREATE_NEW, win32con.FILE_ATTRIBUTE_NORMAL, None)
    except pywintypes.error as error:
        raise OSError(None, error.strerror, str(path), error.winerror) from None
    fd: int = msvcrt.open_osfhandle(handle.Detach(), os.O_WRONLY | getattr(os, "O_BINARY", 0))
    return fd

"""Scratch folders of the rehearsal path (``odfix demo``) that a killed run cannot leak.

Each folder holds an OS file lock (``filelock``) for as long as its process lives; the operating
system drops the lock when the process dies, however it dies. Before making a new folder, every
older one whose lock can be taken is removed: its process is gone. This works alike on Windows
and POSIX, without probing process ids.
"""

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

DEMO_PREFIX = "odfix-demo-"
LOCK_NAME = ".odfix-scratch.lock"
MIN_AGE_S = 60.0
"""A folder younger than this may be between its creation and its lock: left alone."""


def sweep(root: Path, prefix: str = DEMO_PREFIX, min_age_s: float = MIN_AGE_S) -> list[Path]:
    """Remove the scratch folders under ``root`` whose process has died; return them."""
    removed: list[Path] = []
    limit = time.time() - min_age_s
    with suppress(OSError):
        for folder in root.glob(prefix + "*"):
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_mtime > limit:
                continue
            lock = FileLock(folder / LOCK_NAME, timeout=0)
            try:
                lock.acquire()
            except (Timeout, OSError):
                continue  # alive (or not ours to take)
            lock.release()
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def scratch_folder(prefix: str = DEMO_PREFIX, root: Path | None = None) -> Iterator[Path]:
    """A fresh folder under ``root`` (the temp dir), locked while in use, removed afterwards."""
    base = root or Path(tempfile.gettempdir())
    sweep(base, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    lock = FileLock(folder / LOCK_NAME, timeout=0)
    lock.acquire()
    try:
        yield folder
    finally:
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)

"""Scratch folders of killed demo runs are swept; a live run's folder is kept."""

import os
import subprocess
import sys
import time
from pathlib import Path

from odfix.fix.scratch import DEMO_PREFIX, scratch_folder, sweep

HOLD = """
import sys, time
from pathlib import Path
from odfix.fix.scratch import scratch_folder
with scratch_folder(root=Path(sys.argv[1])) as folder:
    print(folder, flush=True)
    time.sleep(60)
"""


def _age(folder: Path) -> None:
    old = time.time() - 3600
    os.utime(folder, (old, old))


def test_a_killed_runs_folder_is_swept_and_a_live_ones_kept(tmp_path: Path):
    live = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    killed = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None and killed.stdout is not None
        live_folder = Path(live.stdout.readline().strip())
        dead_folder = Path(killed.stdout.readline().strip())
        killed.kill()
        killed.wait()
        assert dead_folder.is_dir()  # a killed process cannot clean up
        for folder in (live_folder, dead_folder):
            _age(folder)
        young = tmp_path / f"{DEMO_PREFIX}young"
        young.mkdir()  # no lock yet, but too young to judge
        other = tmp_path / "someone-else"
        other.mkdir()
        _age(other)
        assert sweep(tmp_path) == [dead_folder]
        assert live_folder.is_dir() and young.is_dir() and other.is_dir()
    finally:
        live.kill()
        live.wait()


def test_a_finished_run_leaves_nothing(tmp_path: Path):
    with scratch_folder(root=tmp_path) as folder:
        (folder / "pc").mkdir()
        assert folder.name.startswith(DEMO_PREFIX)
    assert list(tmp_path.iterdir()) == []

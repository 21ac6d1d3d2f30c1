"""The endpoint commands run with DuckDB, pyarrow, httpx and msal absent; the tenant ones say so.

Each command runs in a fresh interpreter whose import system refuses those modules (as on a PC
with only the base install or the Windows build), then the test checks none of them was loaded.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "tests" / "fixtures" / "bundles" / "collected_pc0001.zip"
RUN_STATES = REPO / "tests" / "fixtures" / "intune" / "deviceRunStates.json"
BLOCKED = ("duckdb", "pyarrow", "httpx", "msal", "msal_extensions")
DRIVER = """
import importlib.abc, json, sys
BLOCKED = set(json.loads(sys.argv[1]))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from odfix.cli import main
code = main(json.loads(sys.argv[2]))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({"exit": code, "loaded": loaded}), file=sys.stderr)
"""


def _run(args: list[str], cwd: Path) -> tuple[int, list[str], str]:
    env = {**os.environ, "ODFIX_DATA_DIR": str(cwd / "data"), "ODFIX_TEST_TOKEN": "t",
           "ODFIX_REPORT_TOKEN": "site-token"}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(BLOCKED), json.dumps(args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)
    last = done.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    return result["exit"], result["loaded"], done.stdout + done.stderr


ENDPOINT = [
    (["--version"], 0),
    (["guide", "--cause", "cloned-image"], 0),
    (["explain", "0x8004de40"], 0),
    (["kb", "--format", "md"], 0),
    (["diagnose", str(BUNDLE), "--json"], None),
    (["fix", "--simulate", "password-reset", "--json"], 1),
    (["fix", "--simulate", "stale-credentials", "--apply", "--yes", "--json"], 4),
    (["journal", "--json"], 0),
    (["demo", "--scenario", "stale-credentials", "--json"], 0),
    (["diagnose", str(BUNDLE), "--note"], None),
    (["diagnose", "--live", "--simulate", "password-reset", "--json", "--compact"], 1),
    (["fix", "--simulate", "multiple-identities", "--apply", "--yes", "--note"], 0),
    (["publish", "intune", "--out", "intune", "--json"], 0),
    (["fix", "--simulate", "multiple-identities", "--apply", "--yes", "--json", "--report-to",
      "http://127.0.0.1:9"], 0),  # nobody listens: the report waits in the outbox
    (["fleet", "import", str(RUN_STATES), "--json"], 0),
]


@pytest.mark.parametrize(("args", "code"), ENDPOINT, ids=[" ".join(a[:4]) for a, _ in ENDPOINT])
def test_endpoint_command_needs_no_tenant_module(tmp_path, args, code):
    exit_code, loaded, output = _run(args, tmp_path)
    assert loaded == [], output
    assert exit_code < 2 if code is None else exit_code == code, output


@pytest.mark.skipif(sys.platform == "win32", reason="collect runs the real PC on Windows")
def test_collect_off_windows_refuses_without_tenant_modules(tmp_path):
    exit_code, loaded, output = _run(["collect"], tmp_path)
    assert exit_code == 5 and loaded == [], output


@pytest.mark.parametrize("args", [["signins", "analyze", "x.json"],
                                  ["signins", "pull", "--tenant", "t", "--since", "2026-11-01",
                                   "--out", "pull", "--token-env", "ODFIX_TEST_TOKEN"]])
def test_tenant_command_says_which_extra_is_missing(tmp_path, args):
    exit_code, _, output = _run(args, tmp_path)
    assert exit_code == 2, output
    lines = [line for line in output.splitlines() if line.startswith("odfix:")]
    assert len(lines) == 1 and "pip install 'odfix[tenant]'" in lines[0], output
    assert "Traceback" not in output


def test_another_missing_module_is_still_an_internal_error(tmp_path):
    env = {**os.environ, "ODFIX_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(["yaml"]),
                           json.dumps(["guide"])], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert json.loads(done.stderr.strip().splitlines()[-1])["exit"] == 70, done.stderr
    assert "internal error: ModuleNotFoundError" in done.stderr and "Traceback" not in done.stderr

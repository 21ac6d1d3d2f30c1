"""``collect`` through the real ``WindowsHost`` (winreg, Credential Manager, processes) in Wine.

Read-only: collecting changes nothing, so the shared Wine prefix of tests/windows is used as is.
Which sources succeed depends on the prefix (Wine has no dsregcmd or cmdkey); what must hold is
that every source is reported, the registry and credential sources work through the real APIs,
and what they wrote parses.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "scripts" / "wine" / "run-python.sh"
SCRIPT = """
import json
import os
from odfix.evidence import bundle
from odfix.evidence.collect import collect
from odfix.hosts.windows import WindowsHost
files = collect(WindowsHost())
manifest = json.loads(files["manifest.json"])
loaded = bundle.from_files(files, "wine")
print(json.dumps({"manifest": manifest, "files": sorted(files), "problems": loaded.problems,
                  "tls12": loaded.evidence.network.tls12_enabled if loaded.evidence.network
                  else "no network evidence"}))
"""


@pytest.mark.wine
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wine") is None or not RUN.exists(), reason="needs Wine")
def test_collect_with_the_windows_host(tmp_path):
    script = tmp_path / "collect_in_wine.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        ["bash", str(RUN), "Z:" + str(script).replace("/", "\\")], capture_output=True,
        text=True, timeout=900, stdin=subprocess.DEVNULL, check=False,
        env={**os.environ, "ODFIX_HOST_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout[done.stdout.index("{"):])
    manifest = report["manifest"]
    assert manifest["context"] in ("user", "elevated") and manifest["host_name"]
    assert manifest["windows_build"]
    runs = {run["name"]: run for run in manifest["collectors"]}
    assert set(runs) == {"dsregcmd", "aad-operational-log", "winhttp-proxy", "credentials",
                         "cmdkey", "onedrive", "office-identity", "internet-settings", "schannel"}
    assert all(run["status"] in ("ok", "failed") for run in runs.values())
    assert all(run["reason"] for run in runs.values() if run["status"] == "failed")
    for name in ("credentials", "internet-settings", "schannel"):
        assert runs[name]["status"] == "ok", runs[name]
    assert {"credentials.json", "internet_settings.reg", "schannel.reg"} <= set(report["files"])
    assert not [p for p in report["problems"]
                if p.startswith(("credentials.json", "internet_settings.reg", "schannel.reg"))]

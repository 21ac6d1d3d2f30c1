"""End to end: synthetic tenant → local Graph → ``pull`` → ``analyze`` finds what was planted.

The analysis of the pulled Parquet must equal the analysis of the synthetic files themselves:
the pull loses, adds and changes nothing the analyzer sees.
"""

import importlib
import json
import sys
from datetime import timedelta
from pathlib import Path

from odfix.tenant import analyze, synth
from odfix.tenant.graph import GraphClient, RetryPolicy
from odfix.tenant.pull import Puller
from odfix.tenant.pull_checkpoint import PullPlan

sys.path.insert(0, str(Path(__file__).parent))
gs = importlib.import_module("graph_server")


def test_pulled_tenant_analyses_like_its_source_files(tmp_path: Path) -> None:
    made = synth.synthesize(tmp_path / "synth.json", users=40, days=10, seed=5)
    docs = {kind: json.loads(getattr(made, kind).read_text())["value"]
            for kind in ("signins", "users", "audits", "policies", "devices")}
    state = gs.GraphState(signins=docs["signins"], users=docs["users"], audits=docs["audits"],
                          policies=docs["policies"], devices=docs["devices"], page_size=200)
    plan = PullPlan(since=synth.END - timedelta(days=11), until=synth.END + timedelta(hours=1),
                    slice_hours=12)
    out = tmp_path / "pull"
    with gs.GraphServer(state) as server, GraphClient(
            lambda refresh: gs.TOKEN, base_url=server.url, retry=RetryPolicy(attempts=2)) as client:
        result = Puller(client, out).run(plan)
    assert sum(result.rows.values()) == made.rows

    def findings(signins: Path, companions: dict[str, Path]) -> dict[str, object]:
        found = analyze.run([signins], **companions).model_dump(mode="json")
        for user in found["users"]:  # analyze breaks ties between equal counts by input order
            user["recommended"] = sorted(user["recommended"])
        return {k: found[k] for k in ("users", "cloned_devices", "policies", "failures_by_day")}

    source = findings(made.signins, {k: getattr(made, k)
                                     for k in ("users", "audits", "policies", "devices")})
    pulled = findings(out / "signins", {k: out / f"{k}.json"
                                        for k in ("users", "audits", "policies", "devices")})
    assert pulled == source
    truth = synth.SynthTruth.model_validate_json(made.truth.read_text())
    assert truth.sif_users and truth.password_reset_users and truth.cloned_device_ids
    by_upn = {u["upn"]: u for u in pulled["users"]}  # type: ignore[attr-defined]
    assert all(by_upn[upn]["recurrence"] for upn in truth.sif_users)
    assert all(by_upn[upn]["password_change_correlated"] for upn in truth.password_reset_users)
    cloned = {d["device_id"] for d in pulled["cloned_devices"]}  # type: ignore[attr-defined]
    assert set(truth.cloned_device_ids) <= cloned

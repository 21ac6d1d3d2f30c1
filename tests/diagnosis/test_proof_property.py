"""Property (issue 9): no plan contains a destructive method unless the findings that justify it
are present: evidence that the registration exists and that it is what is broken.

Two sides: generated evidence (SYNTHETIC, ``synthetic.py``), judged by a spec that reads the
generator's own parameters; and every fixture folder (scenarios, real captures, dsregcmd
layouts, alone and in pairs), judged by the findings each destructive item names.
"""

from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odfix.diagnosis import diagnose
from odfix.diagnosis.models import Diagnosis
from odfix.evidence.bundle import from_files, load
from odfix.guide.load import load_guide

from .synthetic import Pc, files, truth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# the spec: findings that show a registration exists / that it is broken (docs/diagnosis.md)
EXISTS = {"dsreg.device-joined", "dsreg.work-account", "fleet.shared-device-id"}
BROKEN = {"dsreg.device-auth-failed", "dsreg.key-sign-failed", "dsreg.recovery-pending",
          "dsreg.device-cert-expired", "dsreg.prt-device-refused", "aad.device-object-missing",
          "fleet.shared-device-id"}


def destructive(result: Diagnosis) -> list[str]:
    guide = load_guide()
    return [item.method for item in result.plan if guide.method(item.method).destructive]


def assert_justified(result: Diagnosis) -> None:
    """Each destructive item names an existing registration and an error that it is broken."""
    by_id = {f.id: f for f in result.findings}
    for item in result.plan:
        if item.method not in destructive(result):
            continue
        assert item.destructive and result.join_type != "unknown", item
        named = [by_id[i] for i in item.justified_by]  # KeyError: names a missing finding
        assert any(f.id.split("@")[0] in EXISTS for f in named), item
        assert any(f.id.split("@")[0] in BROKEN and f.severity == "error" for f in named), item


pcs = st.builds(
    Pc,
    dsregcmd=st.sampled_from([True, True, True, False]),
    device_state=st.sampled_from([True, True, True, False]),
    azure_ad_joined=st.booleans(), domain_joined=st.booleans(),
    user_sections=st.sampled_from([True, True, False]), workplace_joined=st.booleans(),
    session=st.sampled_from(["user", "system", "local", "none"]),
    device_details=st.sampled_from([True, True, False]),
    device_id=st.sampled_from(["aaaaaaaa-bbbb-cccc-dddd-000000000001", None]),
    device_auth=st.sampled_from(["SUCCESS", "FAILED. Device is either disabled or deleted",
                                 "FAILED. ERROR", None]),
    key_sign=st.sampled_from(["PASSED", "FAILED", None]), recovery=st.booleans(),
    prt=st.booleans(),
    prt_error=st.sampled_from([None, "50126", "50155", "700003", "135011", "90002"]),
    prejoin=st.sampled_from([None, "scp", "discovery", "sync"]),
    aad=st.lists(st.sampled_from(["network", "50155", "700003", "135011", "50173", "50076",
                                  "90002"]),
                 max_size=4).map(tuple),
    proxy=st.booleans(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(first=pcs, second=st.none() | pcs, shared=st.booleans(),
       code=st.sampled_from([None, "0x8004de40", "0x8004de88"]))
def test_generated_evidence_never_plans_an_unjustified_destructive_method(
        first, second, shared, code):
    fleet = [first] if second is None else [
        first, Pc(**{**second.__dict__, "name": "PC-0002",
                     "device_id": first.device_id if shared else "bbbbbbbb-0000-0000-0000-2"})]
    bundles = [from_files(files(pc), pc.name) for pc in fleet]
    if not all(b.evidence.model_dump(exclude_none=True) for b in bundles):
        return  # a PC with nothing readable is bad input, tested elsewhere
    allowed = truth(fleet, shared and second is not None)
    result = diagnose(bundles, error_code=code)
    planned = destructive(result)
    for method in planned:
        assert allowed[method], (method, result.join_type, [f.id for f in result.findings])
    assert len(planned) <= 1, planned  # one removal of the registration per plan
    for withheld in result.withheld:  # a justified method waits only behind the planned one
        assert not allowed.get(withheld.method, False) or planned, withheld
    assert_justified(result)


def _folders() -> list[Path]:
    scenarios = [p for p in (FIXTURES / "scenarios").iterdir() if p.is_dir()]
    folders = [p for p in scenarios if p.name != "cloned-image"]
    folders += sorted((FIXTURES / "scenarios" / "cloned-image").iterdir())
    folders += [p for p in (FIXTURES / "real").iterdir() if p.is_dir()]
    return sorted(folders)


def _dsregcmd_layouts() -> list[tuple[str, bytes]]:
    return [(p.stem, p.read_bytes()) for p in sorted((FIXTURES / "dsregcmd").glob("*.txt"))]


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_folder_justifies_its_destructive_methods(folder):
    for code in (None, "0x8004de40"):
        assert_justified(diagnose([load(folder)], error_code=code))


def test_every_pair_of_fixture_pcs_justifies_its_destructive_methods():
    bundles = [load(p) for p in _folders()]
    bundles += [from_files({"dsregcmd_status.txt": data}, name)
                for name, data in _dsregcmd_layouts()]
    for one, two in combinations(bundles, 2):
        assert_justified(diagnose([one, two]))

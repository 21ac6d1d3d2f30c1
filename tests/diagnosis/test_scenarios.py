"""One test per scenario folder: top cause, key findings with real cited lines, plan order."""

import json
from datetime import UTC, datetime

import pytest

from odfix.diagnosis import diagnose
from odfix.evidence.bundle import from_files, load
from odfix.evidence.common import Citation
from odfix.fix.engine import diagnose_host
from odfix.guide.load import load_guide
from odfix.hosts.simulated import build_host, load_scenario, scenario_names

from .conftest import assert_cited
from .test_proof_property import assert_justified

CHANGED = datetime(2025, 7, 15, 9, tzinfo=UTC)

CASES = [
    # folder(s), options, top cause, key finding ids, plan (method ids in order)
    (["healthy"], {}, "healthy", {"dsreg.join-type", "cred.cached"}, []),
    # a stale token is no broken registration: Method 2 (Disconnect) is withheld
    (["password-change"], {"password_changed_at": CHANGED}, "stale-token-password-change",
     {"aad.token-revoked", "cred.written-before-password-change", "dsreg.prt-acquire-failed"},
     ["new-password-sign-in", "credential-cleanup", "wam-signout", "unlink-relink-onedrive"]),
    (["device-registration"], {}, "device-registration",
     {"dsreg.device-auth-failed", "dsreg.recovery-pending", "dsreg.key-sign-failed",
      "aad.device-object-missing"},
     ["reconnect-work-account", "unlink-relink-onedrive"]),
    # dual state, a stale PRT and no default WAM account prove no broken registration
    (["hybrid-joined"], {}, "device-registration",
     {"dsreg.dual-state", "dsreg.prt-stale", "dsreg.wam-default-not-set"},
     ["unlink-relink-onedrive"]),
    # AADSTS135011: the device is disabled; an administrator re-enables it, no unjoin
    (["entra-joined"], {}, "device-registration",
     {"dsreg.device-auth-failed", "dsreg.prt-missing", "dsreg.prt-device-disabled"},
     ["unlink-relink-onedrive"]),
    (["cloned-image/pc-a", "cloned-image/pc-b"], {}, "cloned-image",
     {"fleet.shared-device-id", "dsreg.device-auth-failed@pc-b"},
     ["dsregcmd-leave-join", "unlink-relink-onedrive"]),  # one leave: Method 2 waits behind it
    (["recurring-ca"], {}, "recurring-conditional-access", {"aad.recurring-interaction"},
     ["sign-in-again"]),
    (["connectivity-tls"], {"error_code": "0x8004de40"}, "connectivity-tls",
     {"aad.network-errors", "net.tls12-disabled", "net.proxy-suspect"},
     ["connectivity-checks", "reset-onedrive"]),
    (["multiple-identities"], {"error_code": "0x8004dec5"}, "multiple-identities",
     {"identity.several-office-identities", "cred.several-office-users"},
     ["clear-office-identity", "credential-cleanup"]),
]


@pytest.mark.parametrize(("folders", "options", "top", "finding_ids", "plan"), CASES,
                         ids=[case[0][0].split("/")[0] for case in CASES])
def test_scenario(scenarios, folders, options, top, finding_ids, plan):
    result = diagnose([load(scenarios / f) for f in folders], **options)
    assert result.causes[0].id == top
    assert result.healthy == (top == "healthy")
    assert finding_ids <= {f.id for f in result.findings}
    assert set(result.causes[0].finding_ids) <= {f.id for f in result.findings}
    root = scenarios / folders[0].split("/")[0] if len(folders) > 1 else scenarios / folders[0]
    assert_cited(root, [c for f in result.findings for c in f.evidence])
    assert [item.method for item in result.plan] == plan
    if plan:
        guide_order = load_guide().plan_for(top, result.join_type)
        withheld = {w.method for w in result.withheld}
        assert [i.method for i in result.plan if i.cause == top] == [
            m for m in guide_order if m not in withheld]
        assert result.plan[0].why.startswith(f"{top}: ")
        assert f"[{result.causes[0].finding_ids[0]}]" in result.plan[0].why


def test_method_2_is_never_disconnect_on_hybrid(scenarios):
    result = diagnose([load(scenarios / "device-registration")])
    assert result.join_type == "hybrid-joined"
    item = next(i for i in result.plan if i.method == "reconnect-work-account")
    assert item.variant == "hybrid-debug-leave"
    assert item.context == "elevated"
    assert not any("disconnect" in step.casefold() for step in item.steps)
    assert "dsregcmd /debug /leave" in item.note
    assert item.destructive and "dsreg.device-joined" in item.justified_by


def test_method_2_is_withheld_without_a_broken_registration(scenarios):
    result = diagnose([load(scenarios / "hybrid-joined")], password_changed_at=CHANGED)
    assert "reconnect-work-account" not in {i.method for i in result.plan}
    withheld = next(w for w in result.withheld if w.method == "reconnect-work-account")
    assert "dsreg.device-auth-failed" in withheld.needs


def test_a_refused_password_is_not_a_device_fault(scenarios):
    """AADSTS50126 on the PRT request says why the PRT is missing: the password path leads, the
    missing PRT carries no weight of its own and device registration is not planned."""
    result = diagnose([load(scenarios / "password-change")], password_changed_at=CHANGED)
    assert result.causes[0].id == "stale-token-password-change"
    assert "reconnect-work-account" not in {i.method for i in result.plan}
    missing = next(f for f in result.findings if f.id == "dsreg.prt-missing")
    assert not missing.weights and "explained by dsreg.prt-acquire-failed" in missing.title


def test_method_2_needs_a_local_admin_on_entra_joined(scenarios):
    """Synthetic: the entra-joined scenario with its PRT refused because the device object is
    gone (AADSTS700003) instead of disabled (AADSTS135011)."""
    folder = scenarios / "entra-joined"
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "README.md"}
    files["dsregcmd_status.txt"] = files["dsregcmd_status.txt"].replace(
        b"AADSTS135011: Device used during the authentication is disabled.",
        b"AADSTS700003: Device object was not found in the tenant directory.")
    result = diagnose([from_files(files, "entra-joined")])
    item = next(i for i in result.plan if i.method == "reconnect-work-account")
    assert (item.context, item.variant) == ("local-admin", "joined-local-admin")
    assert item.justified_by[0] == "dsreg.device-joined"
    assert {"dsreg.device-auth-failed", "dsreg.prt-device-refused"} <= set(item.justified_by)


def test_a_disabled_device_goes_to_the_administrator(scenarios):
    result = diagnose([load(scenarios / "entra-joined")])
    assert result.escalation and "re-enable" in result.escalation
    assert {w.method for w in result.withheld} == {"reconnect-work-account"}


def test_recurring_case_escalates_to_the_tenant(scenarios):
    result = diagnose([load(scenarios / "recurring-ca")])
    assert result.escalation and "administrator" in result.escalation


def test_de40_puts_connectivity_and_device_trust_before_stale_tokens(scenarios):
    result = diagnose([load(scenarios / "password-change")], error_code="0x8004DE40")
    assert result.error_code == "0x8004DE40" and result.error_code_meaning
    ids = [c.id for c in result.causes]
    assert ids[0] == "stale-token-password-change"  # strong evidence still wins
    assert "device-registration" in ids


def test_healthy_says_so_plainly(scenarios):
    result = diagnose([load(scenarios / "healthy")], error_code="0x8004de40")
    assert result.verdict.startswith("Healthy")
    assert "0x8004DE40" in result.causes[0].summary and result.plan == []
    assert 0 < result.causes[0].confidence <= 1


def test_the_capture_time_comes_from_the_newest_evidence(scenarios):
    result = diagnose([load(scenarios / "hybrid-joined")])
    assert result.pcs[0].captured_at == "2026-01-12T08:30:00+00:00"


REAL_LAYOUTS = {
    "domain_joined_sync_pending_2019.txt": ("domain-joined", "device-registration"),
    "entra_joined_irregular_2025.txt": ("entra-joined", "healthy"),
    # AADSTS50126 on the PRT request: the password, not the device (issue 9, second pass)
    "hybrid_prt_failure_learn.txt": ("hybrid-joined", "stale-token-password-change"),
    "hybrid_space_lines_2020.txt": ("hybrid-joined", "healthy"),
    "registered_prompt_utf16.txt": ("entra-registered", "healthy"),
}


@pytest.mark.parametrize("name", sorted(REAL_LAYOUTS))
def test_real_dsregcmd_layouts(scenarios, name):
    """The dsregcmd fixtures of real outputs (2019-2026 layouts) give sensible verdicts."""
    folder = scenarios.parent / "dsregcmd"
    bundle = from_files({"dsregcmd_status.txt": (folder / name).read_bytes()}, "pc")
    result = diagnose([bundle])
    assert (result.join_type, result.causes[0].id) == REAL_LAYOUTS[name]
    assert_cited(folder, [Citation(file=name, line=c.line, text=c.text)
                          for f in result.findings for c in f.evidence])


@pytest.mark.parametrize("name", scenario_names())
def test_simulated_pcs_are_diagnosed_with_their_cause(name, tmp_path):
    """The simulated PCs compute their captures from cause and effect; the diagnosis finds it.

    One PC of a cloned image cannot show the clone (that needs a second PATH): its broken
    registration is what a single capture shows.
    """
    scenario = load_scenario(name)
    result = diagnose_host(build_host(scenario, tmp_path), scenario.error_code)
    expected = "device-registration" if scenario.cause == "cloned-image" else scenario.cause
    assert result.causes[0].id == expected
    assert_justified(result)  # odfix fix --simulate / odfix demo: no removal without its proof


def test_the_manifest_time_and_host_win(scenarios):
    files = {p.name: p.read_bytes() for p in (scenarios / "healthy").iterdir()}
    files["manifest.json"] = json.dumps({"time": "2026-01-13T09:00:00Z",
                                         "host_name": "PC-0001"}).encode()
    result = diagnose([from_files(files, "bundle")])
    assert result.pcs[0].host_name == "PC-0001"
    assert result.pcs[0].captured_at == "2026-01-13T09:00:00+00:00"
    stale = next(f for f in result.findings if f.id == "dsreg.prt-stale")
    assert "25.0 h before the capture" in stale.title

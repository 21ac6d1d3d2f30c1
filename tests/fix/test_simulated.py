"""The simulated PC computes outcomes from its state and answers in real command layouts."""

from datetime import timedelta

import pytest

from odfix.errors import BadInput
from odfix.evidence import aad_events, dsregcmd, network
from odfix.hosts.base import Context, Host, RegValue
from odfix.hosts.sim import identity
from odfix.hosts.sim.person import SimulatedPerson
from odfix.hosts.simulated import SimulatedHost, load_scenario, scenario_names

AAD = ["wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500"]
EXPECTED_JOIN = {
    "healthy": "entra-registered", "password-reset": "entra-registered",
    "stale-credentials": "hybrid-joined", "device-registration-corrupt": "entra-registered",
    "cloned-image": "hybrid-joined", "recurring-ca": "entra-joined",
    "connectivity-tls": "entra-registered", "multiple-identities": "entra-registered",
    "entra-joined-needs-admin": "entra-joined",
}


def test_every_scenario_is_shipped_and_valid():
    assert scenario_names() == sorted(EXPECTED_JOIN)
    for name in scenario_names():
        assert load_scenario(name).name == name


def test_unknown_scenario_is_bad_input():
    with pytest.raises(BadInput, match="unknown scenario"):
        load_scenario("no-such")


@pytest.mark.parametrize("name", sorted(EXPECTED_JOIN))
def test_dsregcmd_output_reads_back_through_the_real_parser(make_host, name):
    host = make_host(name)
    assert isinstance(host, Host)
    status = dsregcmd.parse(host.run(["dsregcmd", "/status"]).stdout)
    assert status.join_type == EXPECTED_JOIN[name]


def _failures(host: SimulatedHost) -> list[aad_events.AadEvent]:
    text = host.run(AAD).stdout
    return aad_events.parse(text).by_id(1098) if text else []


def test_healthy_pc_logs_no_failure(make_host):
    assert _failures(make_host("healthy")) == []


@pytest.mark.parametrize(("name", "aadsts"), [
    ("password-reset", 50173), ("stale-credentials", 50173), ("cloned-image", 50155),
    ("device-registration-corrupt", 50155), ("recurring-ca", 50076),
    ("multiple-identities", 50020), ("entra-joined-needs-admin", 50155),
])
def test_each_cause_fails_the_silent_sign_in_with_its_own_code(make_host, name, aadsts):
    events = _failures(make_host(name))
    assert events and {a for e in events for a in e.aadsts} == {aadsts}


def test_tls_off_fails_with_the_network_code_and_shows_in_internet_settings(make_host):
    host = make_host("connectivity-tls")
    assert "0xCAA82EE2" in _failures(host)[0].codes
    value = host.read_registry(identity.INTERNET_KEY, "secureprotocols")
    assert value is not None and value.data == identity.WITHOUT_TLS12
    assert network.parse_winhttp(host.run(["netsh", "winhttp", "show", "proxy"]).stdout)


def test_token_written_before_the_password_change_fails_then_a_fresh_sign_in_works(make_host):
    host = make_host("password-reset")
    person = SimulatedPerson(host.state)
    assert not person.perform("Sign in", "Sign in to OneDrive.")
    for cred in host.list_credentials():
        if "MicrosoftOffice" in cred.target or "OneDrive Cached" in cred.target:
            assert host.delete_credential(cred.target, cred.type)
    assert person.perform("Sign in", "Sign in to OneDrive.")
    fresh = [c for c in host.list_credentials() if "OneDrive Cached" in c.target]
    assert fresh[0].last_written == host.now()


def test_cloned_device_recovers_only_with_a_new_registration(make_host):
    host = make_host("cloned-image")
    cloned = dsregcmd.parse(host.run(["dsregcmd", "/status"]).stdout)
    assert cloned.health.device_auth_status != "SUCCESS"
    assert host.run(["dsregcmd", "/debug", "/leave"]).exit_code == 0
    assert host.run(["dsregcmd", "/join"]).exit_code == 0
    host.reboot()
    fresh = dsregcmd.parse(host.run(["dsregcmd", "/status"]).stdout)
    assert fresh.health.device_auth_status == "SUCCESS"
    assert fresh.device_id != cloned.device_id
    assert fresh.prt.azure_ad_prt


def test_leave_needs_elevation(make_host):
    host = make_host("password-reset")
    assert host.context() is Context.USER
    done = host.run(["dsregcmd", "/leave"])
    assert done.exit_code == 1 and "elevation" in done.stderr


def test_sign_in_frequency_expires_with_the_clock(make_host):
    host = make_host("recurring-ca")
    assert SimulatedPerson(host.state).perform("Sign in", "Sign in and complete MFA.")
    assert identity.silent_request(host.state)
    host.sleep(timedelta(hours=25).total_seconds())
    assert not identity.silent_request(host.state)


def test_registry_is_case_insensitive_and_keeps_kinds(make_host):
    host = make_host("healthy")
    key = r"HKCU\Software\Odfix\Test"
    host.write_registry(key, RegValue(name="Value", kind="REG_DWORD", data=7))
    assert host.read_registry(key.upper(), "VALUE") == RegValue(name="Value", kind="REG_DWORD",
                                                                 data=7)
    assert "Test" in host.list_registry_subkeys(r"hkcu\software\odfix")
    assert host.delete_registry_value(key, "value")
    assert not host.delete_registry_value(key, "value")


def test_unknown_command_fails_like_cmd(make_host):
    done = make_host("healthy").run(["whoami.exe", "/all"])
    assert done.exit_code == 1 and "is not recognized" in done.stderr


def test_save_and_load_keep_the_whole_pc(make_host, tmp_path):
    host = make_host("cloned-image")
    host.save(tmp_path / "pc.json")
    again = SimulatedHost.load(tmp_path / "pc.json")
    assert again.state == host.state


def test_load_of_a_broken_file_is_bad_input(tmp_path):
    (tmp_path / "pc.json").write_text("{", encoding="utf-8")
    with pytest.raises(BadInput, match="cannot read the simulated PC"):
        SimulatedHost.load(tmp_path / "pc.json")

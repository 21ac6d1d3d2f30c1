"""The packaged guide validates, its cross-references hold, and its plans follow the join type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.guide import Guide, JoinType, StepContext, load_guide
from odfix.hosts.base import CredType

# Typed from docs/interfaces.md (the contract), not read from the guide.
INTERFACE_CAUSES = [
    "stale-token-password-change", "device-registration", "cloned-image",
    "recurring-conditional-access", "connectivity-tls", "multiple-identities", "healthy",
]
INTERFACE_METHODS = [
    "credential-cleanup", "reconnect-work-account", "unlink-relink-onedrive", "wam-signout",
    "dsregcmd-leave-join", "connectivity-checks", "clear-office-identity", "reset-onedrive",
]
INTERFACE_ACTIONS = {
    "close_onedrive", "wait", "start_onedrive", "delete_cached_credentials", "open_uri", "person",
    "reboot_with_resume", "dsregcmd_leave", "dsregcmd_join", "reset_onedrive",
    "clear_office_identity", "report_connectivity", "verify_sign_in",
}


@pytest.fixture(scope="module")
def guide() -> Guide:
    return load_guide()


def all_steps(guide: Guide):
    for method in guide.methods:
        yield from method.steps
        for variant in method.variants:
            yield from variant.steps
    for case in guide.special_cases:
        yield from (item.step for item in case.sequence if item.step)


def test_packaged_guide_loads_and_is_cached(guide):
    assert load_guide() is guide
    assert guide.issue.codes[0] == "0x8004de40"


def test_interface_ids_exist(guide):
    assert [c.id for c in guide.causes] == INTERFACE_CAUSES
    assert sorted(m.id for m in guide.methods) == sorted(INTERFACE_METHODS)
    assert guide.order == ["credential-cleanup", "reconnect-work-account", "unlink-relink-onedrive"]
    assert [guide.method(m).number for m in guide.order] == [1, 2, 3]


def test_every_cause_method_and_variant_is_sourced(guide):
    for item in [*guide.causes, *guide.methods, *guide.special_cases, *guide.discrepancies,
                 *(v for m in guide.methods for v in m.variants)]:
        assert item.sources, item
        assert all(source in guide.sources for source in item.sources)
        assert item.confidence.value in {"microsoft-doc", "community", "inferred"}


def test_actions_come_from_the_interface_list(guide):
    used = {step.action.name for step in all_steps(guide) if step.action}
    used |= {m.test.action.name for m in guide.methods if m.test.action}
    assert used <= INTERFACE_ACTIONS
    assert {"delete_cached_credentials", "dsregcmd_leave", "dsregcmd_join", "reset_onedrive",
            "clear_office_identity", "report_connectivity", "verify_sign_in"} <= used


def test_every_method_ends_with_a_test(guide):
    for method in guide.methods:
        assert method.test.if_fixed and method.test.if_not_fixed
        assert method.test.action is not None and method.test.action.name == "verify_sign_in"


def test_cipher_suites_are_reported_never_changed(guide):
    cipher_steps = [s for s in all_steps(guide) if "cipher" in (s.title + s.text).lower()]
    assert cipher_steps
    for step in cipher_steps:
        assert step.action is None or step.action.name == "report_connectivity"


def test_credential_allowlist_matches_interface(guide):
    office = "LegacyGeneric:target=MicrosoftOffice16_Data:SSPI:user@contoso.com"
    assert guide.credential_class_for(office, CredType.GENERIC) == "office"
    business = "LegacyGeneric:target=OneDrive Cached Credential Business - Business1"
    assert guide.credential_class_for(business, CredType.GENERIC) == "onedrive-business"
    assert guide.credential_class_for("OneDrive Cached Credential", CredType.GENERIC) is None
    assert guide.credential_class_for(office, CredType.DOMAIN_PASSWORD) is None
    assert guide.credential_class_for("MicrosoftAccount:target=SSO_POP_Device", 1) is None


@given(
    namespace=st.sampled_from(["", "LegacyGeneric:target=", "WindowsLive:target="]),
    prefix=st.sampled_from(["MicrosoftOffice", "OneDrive Cached Credential Business"]),
    rest=st.text(max_size=30),
    flips=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_allowlist_is_case_insensitive_and_ignores_namespace(namespace, prefix, rest, flips):
    guide = load_guide()
    mixed = "".join(c.upper() if flip else c.lower()
                    for c, flip in zip(prefix, flips, strict=False))
    expected = "office" if prefix == "MicrosoftOffice" else "onedrive-business"
    assert guide.credential_class_for(namespace + mixed + rest, CredType.GENERIC) == expected
    assert guide.credential_class_for(namespace + mixed + rest, CredType.DOMAIN_PASSWORD) is None


@given(target=st.text(max_size=40))
def test_allowlist_never_matches_other_targets(target):
    guide = load_guide()
    name = target.split(":target=", 1)[-1].casefold()
    allowed = name.startswith(("microsoftoffice", "onedrive cached credential business"))
    assert (guide.credential_class_for(target, CredType.GENERIC) is not None) == allowed


@pytest.mark.parametrize("join_type", list(JoinType))
def test_plans_named_in_the_task(guide, join_type):
    assert guide.plan_for("stale-token-password-change", join_type) == [
        "wam-signout", "credential-cleanup", "reconnect-work-account", "unlink-relink-onedrive"]
    assert guide.plan_for("cloned-image", join_type) == [
        "dsregcmd-leave-join", "reconnect-work-account", "unlink-relink-onedrive"]
    assert guide.plan_for("multiple-identities", join_type) == [
        "clear-office-identity", "credential-cleanup"]
    assert guide.plan_for("healthy", join_type) == []
    tls = guide.plan_for("connectivity-tls", join_type)
    assert tls[0] == "connectivity-checks" and tls[-1] == "reset-onedrive"
    recurring = guide.resolve("recurring-conditional-access", join_type)
    assert [m.id for m in recurring.methods] == ["wam-signout"]
    assert "administrator" in recurring.escalations[0].to.lower()


@pytest.mark.parametrize("cause", INTERFACE_CAUSES)
def test_hybrid_plans_never_disconnect(guide, cause):
    for method in guide.resolve(cause, "hybrid-joined").methods:
        for step in method.steps:
            said = [step.title, *step.labels]
            if step.action and step.action.name == "person":
                said.append(step.action.args.instruction)
            assert not any("Disconnect" in text for text in said), (method.id, step.title)


def test_method_2_per_join_type(guide):
    def planned(join_type):
        plan = guide.resolve("device-registration", join_type)
        return next(m for m in plan.methods if m.id == "reconnect-work-account")

    hybrid = planned("hybrid-joined")
    assert hybrid.context == StepContext.ELEVATED
    leave = hybrid.steps[0].action
    assert leave is not None and leave.name == "dsregcmd_leave" and leave.args.debug is True
    joined = planned("entra-joined")
    assert joined.context == StepContext.LOCAL_ADMIN and joined.gate
    registered = planned("entra-registered")
    assert registered.context == StepContext.USER and registered.gate is None
    assert any("Disconnect" in step.labels for step in registered.steps)
    assert planned("unknown").gate  # never unjoin a PC whose join type is not known


def test_special_cases_follow_the_community_order(guide):
    cases = {case.id: case for case in guide.special_cases}
    reset = [i.method for i in cases["after-password-reset"].sequence if i.method]
    assert reset.index("credential-cleanup") < reset.index("reconnect-work-account")
    imaged = cases["newly-imaged-pc"].sequence
    commands = [i.step.command for i in imaged if i.step]
    assert commands == ["dsregcmd /leave", "dsregcmd /join"]
    assert all(i.step.context == StepContext.ELEVATED for i in imaged if i.step)
    assert [i.method for i in imaged if i.method] == [
        "reconnect-work-account", "unlink-relink-onedrive"]
    assert cases["returns-every-few-days"].escalation == "tenant-admin-signin-logs"

"""Safety properties over generated credential stores (10,000 seeded + hypothesis).

Method 1's actions run on a simulated PC holding a random store; afterwards the deleted
credentials must all be allow-listed generic ones (checked against an oracle written from the
interface text, not from the guide's code), every allow-listed one must be gone, and the OneDrive
folder must be byte-identical.
"""

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from odfix.fix import actions
from odfix.guide.load import load_guide
from odfix.hosts.sim.state import SimCredential
from odfix.hosts.simulated import SimulatedHost

from .conftest import folder_digest

NAMESPACES = ["", "LegacyGeneric:target=", "legacygeneric:target=", "MicrosoftAccount:target=",
              "WindowsLive:target=", "Domain:target="]
NAMES = ["MicrosoftOffice16_Data:SSPI:user1@contoso.com", "MICROSOFTOFFICE15_Data:ADAL:x",
         "microsoftoffice16_Data:orgid:u@c.com", "OneDrive Cached Credential Business - Business1",
         "onedrive cached credential business - Business2", "OneDrive Cached Credential Personal",
         "SSO_POP_Device", "virtualapp/didlogical", "msteams_adalsso/adal_context_0",
         "XMicrosoftOffice16", "Microsoft_OneDrive_Cookies_v2_Business1", "MicrosoftAccount:user=a",
         " MicrosoftOffice16", "Office", "OneDrive"]
TYPES = [1, 1, 1, 2, 3, 4, 5, 6, 7]
ALLOWED = ("microsoftoffice", "onedrive cached credential business")


def oracle_allowed(target: str, cred_type: int) -> bool:
    """docs/interfaces.md: strip ``<namespace>:target=``, compare case-insensitively, generic."""
    name = target.split(":target=", 1)[1] if ":target=" in target else target
    return cred_type == 1 and name.casefold().startswith(ALLOWED)


def method1_on(host: SimulatedHost, store: list[SimCredential]) -> set[tuple[str, int]]:
    """Run Method 1's automated actions; return the (target, type) pairs that disappeared."""
    host.state.credentials = list(store)
    guide = load_guide()
    runtime = actions.Runtime(host=host, guide=guide, record=lambda change: None,
                              resume_argv=[], perform=lambda title, text: None)
    for step in guide.method("credential-cleanup").steps:
        if step.action is not None and step.action.name != "wait":
            actions.run(step.action, runtime, step.title)
    after = {(c.target, c.type) for c in host.state.credentials}
    return {(c.target, c.type) for c in store} - after


def _random_store(rng: random.Random, host: SimulatedHost) -> list[SimCredential]:
    store: dict[tuple[str, int], SimCredential] = {}
    for _ in range(rng.randint(0, 12)):
        target = rng.choice(NAMESPACES) + rng.choice(NAMES)
        if rng.random() < 0.2:
            target += "".join(rng.choice("abcXYZ:@.- ") for _ in range(rng.randint(1, 8)))
        cred_type = rng.choice(TYPES)
        store[(target.casefold(), cred_type)] = SimCredential(
            target=target, type=cred_type, persist=rng.choice([1, 2, 3]),
            last_written=host.now() - timedelta(hours=rng.uniform(0, 2000)))
    return list(store.values())


def test_ten_thousand_stores_lose_only_allow_listed_generic_credentials(make_host):
    host = make_host("password-reset")
    before = folder_digest(host.onedrive_folder())
    rng = random.Random(20261120)
    allowed_seen = kept_seen = 0
    for _ in range(10_000):
        store = _random_store(rng, host)
        deleted = method1_on(host, store)
        expected = {(c.target, c.type) for c in store if oracle_allowed(c.target, c.type)}
        assert deleted == expected
        allowed_seen += len(expected)
        kept_seen += len(store) - len(expected)
    assert allowed_seen > 5_000 and kept_seen > 20_000
    assert folder_digest(host.onedrive_folder()) == before


_SHARED: dict[str, SimulatedHost] = {}


def _shared_host(factory) -> SimulatedHost:
    """One PC for every hypothesis example (each example replaces its credential store)."""
    if "pc" not in _SHARED:
        from odfix.hosts.simulated import build_host, load_scenario

        _SHARED["pc"] = build_host(load_scenario("healthy"), factory.mktemp("pc"))
    return _SHARED["pc"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMESPACES),
                          st.text(min_size=0, max_size=40), st.sampled_from(TYPES)),
                max_size=8))
def test_arbitrary_targets_never_escape_the_allow_list(tmp_path_factory, pairs):
    host = _shared_host(tmp_path_factory)
    before = folder_digest(host.onedrive_folder())
    unique = {(ns + name).casefold(): (ns + name, t) for ns, name, t in pairs}
    store = [SimCredential(target=target, type=t, last_written=host.now())
             for target, t in unique.values()]
    deleted = method1_on(host, store)
    assert all(oracle_allowed(target, t) for target, t in deleted)
    assert folder_digest(host.onedrive_folder()) == before

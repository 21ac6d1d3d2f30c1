"""Every evidence parser on generated input: no crash, one clear line or a result, bounded time.

Hypothesis rather than a coverage-guided fuzzer (atheris): it is already a dev dependency and
runs on every platform and Python the project supports, it composes grammar-aware inputs from
the real fixtures (so inputs pass the first checks and reach the deep states), it shrinks a
failure to a minimal input, and a fixed seed makes the short slice deterministic in CI. The
long run (100,000 inputs per parser) is the same tests with ``ODFIX_FUZZ_EXAMPLES=100000``.
"""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import (
    aad_events,
    aad_text,
    bundle,
    credentials,
    dsregcmd,
    network,
    office_identity,
    onedrive,
    recognise,
    regfile,
)

from .conftest import SETTINGS, exercise
from .strategies import documents, real_files


def _bundle(data: bytes) -> object:
    return bundle.from_files({"dsregcmd_status.txt": data, "cmdkey_list.txt": data,
                              "aad_operational.xml": data, "manifest.json": data,
                              "credentials.json": data, "unnamed.txt": data}, "fuzz")


PARSERS: dict[str, tuple[Callable[[bytes], object], tuple[str, ...]]] = {
    "dsregcmd": (dsregcmd.parse, ("dsregcmd",)),
    "cmdkey": (credentials.parse_cmdkey, ("cmdkey",)),
    "credentials.json": (credentials.parse_json, ("credentials",)),
    "aad-xml": (aad_events.parse, ("aad_events",)),
    "aad-any": (aad_text.parse_capture, ("aad_events",)),
    "winhttp": (network.parse_winhttp, ("network",)),
    "regfile": (regfile.parse, ("onedrive", "office_identity", "network")),
    "onedrive": (onedrive.parse, ("onedrive",)),
    "office-identity": (office_identity.parse, ("office_identity",)),
    "recognise": (recognise.kind_of, ("dsregcmd", "aad_events", "cmdkey", "network")),
    "bundle": (_bundle, ("dsregcmd", "cmdkey", "aad_events", "credentials")),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_generated_input_never_crashes(name):
    parse, folders = PARSERS[name]

    @SETTINGS
    @given(st.one_of(documents(*folders), real_files(*folders)))
    def run(data: bytes) -> None:
        exercise(name, parse, data)

    run()

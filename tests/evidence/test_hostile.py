"""Hostile input: every parser finishes in linear time and keeps a bounded amount.

The inputs are the ones that made the old parsers backtrack or go quadratic (each took from 15 s
to hours at these sizes). ``deadline`` is a hang guard on CPU time set 10-100x above what the
linear parsers need here, not a measurement: the figures are in
benchmarks/bench_parsers_linear.py.
"""

import tracemalloc
from collections.abc import Callable

import pytest

from odfix.evidence import aad_events, credentials, dsregcmd, network, office_identity, regfile
from odfix.evidence.common import MAX_ITEMS, ParseError

from . import hostile

GUARD = 15.0
KB = 1024
MB = 1024 * KB


def run(parse: Callable[[str], object], text: str) -> object:
    with hostile.deadline(GUARD):
        try:
            return parse(text)
        except ParseError as error:
            return error


@pytest.mark.parametrize(("parse", "build", "size"), [
    (dsregcmd.parse, hostile.dsregcmd_header_spaces, 64 * KB),
    (dsregcmd.parse, hostile.dsregcmd_field_spaces, 2 * MB),
    (credentials.parse_cmdkey, hostile.cmdkey_field_spaces, 2 * MB),
    (network.parse_winhttp, hostile.winhttp_field_spaces, 2 * MB),
    (aad_events.parse, hostile.xml_declarations, 2 * MB),
    (aad_events.parse, hostile.xml_nested_events, 2 * MB),
    (aad_events.parse, hostile.xml_entity_text, 4 * MB),
    (aad_events.error_codes, hostile.error_code_list, 1 * MB),
    (regfile.parse, hostile.reg_continuations, 4 * MB),
    (office_identity.parse, hostile.reg_many_identity_parents, 1 * MB),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_backtracking_and_quadratic_inputs_finish(parse, build, size):
    run(parse, build(size))


def test_header_of_spaces_is_not_a_section():
    result = run(dsregcmd.parse, hostile.dsregcmd_header_spaces(64 * KB))
    assert isinstance(result, ParseError)
    assert "no dsregcmd /status section" in result.message


def test_long_values_are_read_whole():
    status = run(dsregcmd.parse, hostile.dsregcmd_field_spaces(1 * MB))
    assert isinstance(status, dsregcmd.DsregStatus)
    assert status.sections[0].other_lines[0].text.endswith("x")
    listed = run(credentials.parse_cmdkey, hostile.cmdkey_field_spaces(1 * MB))
    assert isinstance(listed, credentials.CredentialList)
    assert listed.credentials[0].target.startswith("a ") and listed.credentials[0].target[-1] == "x"
    proxy = run(network.parse_winhttp, hostile.winhttp_field_spaces(1 * MB))
    assert isinstance(proxy, network.WinHttpProxy)
    assert proxy.proxy_server is not None and proxy.proxy_server.endswith("x")


def test_nested_events_count_once_and_keep_the_outer_event():
    log = run(aad_events.parse, hostile.xml_nested_events(2 * MB))
    assert isinstance(log, aad_events.AadEventLog)
    assert [event.id for event in log.events] == [1]


def test_character_references_join_into_one_value():
    log = run(aad_events.parse, hostile.xml_entity_text(1 * MB))
    assert isinstance(log, aad_events.AadEventLog)
    value = log.events[0].data["x"]
    assert set(value) == {"&"} and len(value) > 100_000


def test_many_codes_in_one_message_are_all_found():
    codes = run(aad_events.error_codes, hostile.error_code_list(200 * KB))
    assert isinstance(codes, list) and len(codes) > 10_000


def test_one_line_credentials_json_cites_each_row():
    rows = 30_000
    text = hostile.credentials_json_many(rows * 70)
    listed = run(credentials.parse_json, text.replace("}, {", "},\n{"))
    assert isinstance(listed, credentials.CredentialList)
    kept = listed.credentials
    assert len(kept) == min(rows, MAX_ITEMS) or listed.notes
    assert [c.citation.line for c in kept[:3]] == [1, 2, 3]
    assert kept[2].citation.text.startswith('{"target": "MicrosoftOffice16_Data:SSPI:u0000002@')


def test_continued_value_is_joined():
    reg = run(regfile.parse, hostile.reg_continuations(1 * MB))
    assert isinstance(reg, regfile.RegFile)
    data = reg.keys[0].values[0].data
    assert isinstance(data, bytes) and len(data) > 100_000 and not any(data)


def test_identities_under_many_parents_are_each_read_once():
    identity = run(office_identity.parse, hostile.reg_many_identity_parents(256 * KB))
    assert isinstance(identity, office_identity.OfficeIdentity)
    assert len(identity.identities) > 1000
    assert len({i.email_address.citation.line for i in identity.identities
                if i.email_address}) == len(identity.identities)


@pytest.mark.parametrize(("parse", "build", "what"), [
    (aad_events.parse, hostile.xml_tiny_events, "events"),
    (dsregcmd.parse, hostile.dsregcmd_tiny_lines, "lines"),
    (credentials.parse_cmdkey, hostile.cmdkey_many, "credentials"),
], ids=["aad-events", "dsregcmd", "cmdkey"])
def test_a_capture_keeps_a_bounded_number_of_items(parse, build, what):
    """Millions of tiny items: the parser stops at MAX_ITEMS and says where (before: ~50x the
    input in memory for tiny events, 350x for tiny dsregcmd lines)."""
    data = build(2 * MB).encode()
    tracemalloc.start()
    try:
        with hostile.deadline(GUARD):
            parsed = parse(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    notes = parsed.notes  # type: ignore[attr-defined]
    assert len(notes) == 1 and f"keeps at most {MAX_ITEMS} {what}" in notes[0]
    assert peak < 3 * len(data) + MAX_ITEMS * 3 * KB

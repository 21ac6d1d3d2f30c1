"""Property tests: any text parses or fails with ParseError; rendered sections read back exactly."""

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from odfix.evidence import dsregcmd
from odfix.evidence.common import ParseError

SEP = "+" + "-" * 70 + "+"
TITLES = st.sampled_from(
    [
        *("Device State", "Device Details", "Tenant Details", "User State", "SSO State"),
        *("Diagnostic Data", "Ngc Prerequisite Check", "Work Account 1", "Work Account 2"),
    ]
)
KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,20}( [A-Za-z][A-Za-z0-9]{0,8})?", fullmatch=True)
VALUES = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60)
    .map(str.strip)
    .filter(lambda v: not v.startswith(":"))
)
LAYOUTS = st.sampled_from(["{key:>26} : {value}", "{key:>23} : {value}", "{key}: {value}"])


@given(st.text(st.characters(exclude_categories=())))
def test_any_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        dsregcmd.parse(text)


@given(st.binary())
def test_any_bytes_parse_or_raise_parse_error(data):
    with contextlib.suppress(ParseError):
        dsregcmd.parse(data)


@given(TITLES, st.text())
def test_any_text_under_a_known_header_parses(title, body):
    status = dsregcmd.parse(f"{SEP}\n| {title.ljust(68)} |\n{SEP}\n{body}")
    assert status.sections[0].title == title
    assert status.join_type in {
        "entra-joined",
        "hybrid-joined",
        "domain-joined",
        "entra-registered",
        "none",
        "unknown",
    }


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(TITLES, st.lists(st.tuples(KEYS, VALUES, LAYOUTS), min_size=1, max_size=6)),
        min_size=1,
        max_size=5,
        unique_by=lambda section: section[0],
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_rendered_fields_read_back_with_their_lines(sections, newline):
    lines = ["C:\\Users\\u>dsregcmd /status", ""]
    expected = []
    for title, fields in sections:
        lines += [SEP, f"| {title.ljust(68)} |", SEP, ""]
        for key, value, layout in fields:
            lines.append(layout.format(key=key, value=value))
            expected.append((title, key, value, len(lines)))
    status = dsregcmd.parse(newline.join(lines).encode("utf-16"))
    for title, key, value, line in expected:
        found = [f for f in status.get_all(title, key) if f.citation.line == line]
        assert [f.value for f in found] == [value]

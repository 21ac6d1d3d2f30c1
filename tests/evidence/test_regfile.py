"""The .reg reader and writer: every value type, quirks, citations, round trips."""

import codecs
import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import regfile
from odfix.evidence.common import ParseError
from odfix.hosts.base import RegValue

SAMPLE = (
    'Windows Registry Editor Version 5.00\r\n'
    '\r\n'
    '; a comment\r\n'
    '[HKEY_CURRENT_USER\\Software\\Test]\r\n'
    '@="default"\r\n'
    '"Quoted \\"name\\""="C:\\\\Path\\\\with \\"quotes\\""\r\n'
    '"Dword"=dword:0000002a\r\n'
    '"Qword"=hex(b):01,02,00,00,00,00,00,00\r\n'
    '"Multi"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n'
    '"Expand"=hex(2):25,00,54,00,45,00,4d,00,50,00,25,00,00,00\r\n'
    '"Binary"=hex:de,ad,\\\r\n'
    '  be,ef\r\n'
    '"Gone"=-\r\n'
    '\r\n'
    '[-HKEY_CURRENT_USER\\Software\\Removed]\r\n'
)


def test_every_type_and_quirk():
    reg = regfile.parse(codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"), "t.reg")
    key = reg.key("HKCU\\SOFTWARE\\test")
    assert key is not None
    assert key.get("").data == "default"
    assert key.get('quoted "NAME"').data == 'C:\\Path\\with "quotes"'
    assert key.get("dword").data == 42
    assert key.get("QWORD").data == 0x201
    assert key.get("multi").data == ["a", "bc"]
    assert key.get("expand").data == "%TEMP%"
    binary = key.get("binary")
    assert binary.kind == "REG_BINARY" and binary.data == b"\xde\xad\xbe\xef"
    assert binary.citation.line == 11 and binary.citation.text.startswith('"Binary"=hex:de')
    assert key.get("Gone") is None
    assert [v.name for v in key.values if v.deleted] == ["Gone"]
    assert reg.key("HKCU\\Software\\Removed") is None
    assert reg.keys[-1].deleted


def test_regedit4_strings_are_ansi():
    text = ('REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\X]\n"E"=hex(2):25,41,25,00\n'
            '"M"=hex(7):61,00,62,00,00\n')
    key = regfile.parse(text).key("HKLM\\X")
    assert key.get("E").data == "%A%"
    assert key.get("M").data == ["a", "b"]


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("hello\n", "not a registry export"),
    ('[HKEY_CURRENT_USER\\X]\n"x"="y"\n', "not a registry export"),
])
def test_what_is_no_registry_export_is_refused_naming_the_file(text, message):
    with pytest.raises(ParseError, match=re.escape(message)) as raised:
        regfile.parse(text, "bad.reg")
    assert raised.value.message.startswith("bad.reg")


@pytest.mark.parametrize("line, why", [
    ('"x"="y"', "a value before any [key] section"),
    ('"x"=dword:xyz', "a bad dword 'xyz'"),
    ('"x"="open', "an unterminated quoted string"),
    ('"x"=hex:zz', "a bad hex byte list"),
    ('"x"=hex(b):01', "hex(b) needs 8 bytes"),
    ("foo", "not understood"),
    ("C:\\Users\\x>reg export HKCU\\Software\\x x.reg", "a shell prompt"),
    ("...", "not understood"),
])
def test_a_line_it_cannot_read_is_a_note_and_the_rest_is_read(line, why):
    before_key = why.startswith("a value before")
    text = (f"REGEDIT4\n{line}\n[K]\n\"a\"=\"1\"\n" if before_key
            else f"REGEDIT4\n[K]\n\"a\"=\"1\"\n{line}\n\"b\"=dword:00000002\n")
    reg = regfile.parse(text, "bad.reg")
    number = 2 if before_key else 4
    assert reg.notes == [f"bad.reg: line {number}: {why}, skipped: {line[:60]!r}"]
    key = reg.key("K")
    assert key.get("a").data == "1"
    assert before_key or key.get("b").data == 2


def test_notes_for_skipped_lines_are_bounded():
    reg = regfile.parse("REGEDIT4\n[K]\n" + "???\n" * 5000 + '"a"="1"\n', "big.reg")
    assert len(reg.notes) == 11
    assert reg.notes[-1] == "big.reg: 4990 more lines not understood, skipped"
    assert reg.key("K").get("a").data == "1"


def test_children_and_suffix_lookup():
    reg = regfile.parse("REGEDIT4\n[HKEY_USERS\\S-1\\Software\\A]\n"
                        "[HKEY_USERS\\S-1\\Software\\A\\B]\n"
                        "[HKEY_USERS\\S-1\\Software\\A\\B\\C]\n")
    assert [k.path for k in reg.keys_ending("software\\a")] == ["HKEY_USERS\\S-1\\Software\\A"]
    assert [k.path.rsplit("\\", 1)[1] for k in reg.children("HKU\\S-1\\Software\\A")] == ["B"]


def test_render_wraps_long_hex_like_regedit():
    value = RegValue(name="Big", kind="REG_BINARY", data=bytes(range(100)))
    rendered = regfile.render_value(value)
    assert len(rendered) > 1
    assert all(len(line) <= 80 for line in rendered)
    assert all(line.endswith("\\") for line in rendered[:-1])


def test_render_is_utf16_with_bom_and_full_root():
    data = regfile.render([("HKCU\\Software\\X", [RegValue(name="A", kind="REG_SZ", data="b")])])
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert "[HKEY_CURRENT_USER\\Software\\X]\r\n" in data.decode("utf-16")


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
strings = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
values = st.one_of(
    st.builds(RegValue, name=names, kind=st.just("REG_SZ"), data=strings),
    st.builds(RegValue, name=names, kind=st.just("REG_EXPAND_SZ"), data=strings.filter(
        lambda s: "\x00" not in s)),
    st.builds(RegValue, name=names, kind=st.just("REG_DWORD"),
              data=st.integers(0, 2**32 - 1)),
    st.builds(RegValue, name=names, kind=st.just("REG_QWORD"),
              data=st.integers(0, 2**64 - 1)),
    st.builds(RegValue, name=names, kind=st.just("REG_BINARY"), data=st.binary(max_size=200)),
    st.builds(RegValue, name=names, kind=st.just("REG_MULTI_SZ"),
              data=st.lists(strings.filter(lambda s: s and "\x00" not in s), max_size=4)),
)


@given(st.lists(values, max_size=8))
def test_render_then_parse_round_trips(generated):
    data = regfile.render([("HKLM\\SOFTWARE\\Round Trip", generated)])
    key = regfile.parse(data).key("HKLM\\Software\\Round Trip")
    assert [(v.name, v.kind, v.data) for v in key.values] == \
        [(v.name, v.kind, v.data) for v in generated]


@given(st.text())
def test_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        regfile.parse(text)


@given(st.text())
def test_arbitrary_text_after_a_header_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        regfile.parse("Windows Registry Editor Version 5.00\n[HKEY_CURRENT_USER\\X]\n" + text)

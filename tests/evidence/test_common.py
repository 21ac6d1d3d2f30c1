"""Decoding captures the way Windows writes them."""

import codecs

from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence.common import decode, lines

TEXT = "Device State\r\n   AzureAdJoined : YES\r\n"


def test_utf16le_with_bom():
    assert decode(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")) == TEXT


def test_utf16le_without_bom():
    assert decode(TEXT.encode("utf-16-le")) == TEXT


def test_utf8_bom_and_crlf_lines():
    assert lines(codecs.BOM_UTF8 + TEXT.encode()) == ["Device State", "   AzureAdJoined : YES"]


def test_oem_code_page_fallback():
    assert decode("Grüße".encode("cp437")) == "Grüße"


@given(st.binary())
def test_any_bytes_decode_without_error(data):
    assert isinstance(decode(data), str)

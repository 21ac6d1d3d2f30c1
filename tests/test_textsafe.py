"""Text from strangers reaches a terminal or a spreadsheet neutralised."""

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from odfix import output
from odfix.textsafe import csv_cell, visible


def render(text: str) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=200,
                      highlight=False)
    console.print(output.escape(text), soft_wrap=True)
    return buffer.getvalue()


def test_escape_sequences_are_shown_not_sent():
    assert visible("a\x1b]0;owned\x07b") == "a\\x1b]0;owned\\x07b"
    assert visible("x\x1b[2Jy\rz") == "x\\x1b[2Jy\\x0dz"
    assert visible("C1\x9bcsi") == "C1\\x9bcsi"


def test_bidi_overrides_are_shown():
    assert visible("report\u202etxt.exe") == "report\\u202etxt.exe"


def test_newlines_kept_or_shown_on_request():
    assert visible("a\nb\tc") == "a\nb\tc"
    assert visible("a\nb", keep_newlines=False) == "a\\nb"


def test_rich_markup_in_data_prints_as_text():
    rendered = render("a[/]b@contoso.com [link=https://evil.example]click[/link]")
    assert "a[/]b@contoso.com" in rendered
    assert "[link=https://evil.example]click[/link]" in rendered
    assert "\x1b]8;" not in rendered  # no OSC 8 hyperlink was produced


@given(st.text())
def test_escaped_text_never_raises_and_never_carries_escapes(text):
    rendered = render(text)
    # Rich's own styling uses CSI sequences; data never adds OSC (hyperlinks, titles) or bells.
    assert "\x1b]" not in rendered
    assert "\x07" not in rendered


def test_formula_leading_cells_are_neutralised():
    for cell in ("=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
                 "\tx", "\rx", "＝1+1"):
        assert csv_cell(cell) == "'" + cell
    assert csv_cell("alice@contoso.com") == "alice@contoso.com"
    assert csv_cell(-3) == -3
    assert csv_cell(None) is None

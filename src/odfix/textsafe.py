"""Neutralise text from strangers before it reaches a terminal or a spreadsheet.

Evidence values, bundle names, UPNs and journal entries are data someone else wrote. In a terminal
an ESC sequence can retitle the window, clear the screen or forge a line; a bidi override can make
``exe.txt`` read as ``txt.exe``; Rich markup (``[link=…]``) renders as a live hyperlink. In a
spreadsheet a cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula (CSV injection).

``visible`` makes every control and bidi-formatting character visible as an escape (``\\x1b``), so
nothing is lost and nothing acts; ``csv_cell`` prefixes a formula-leading text cell with ``'``
(OWASP's advice), which spreadsheets show but never evaluate.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, C1 controls, and the Unicode bidi/format characters that
# reorder or hide text (LRE..RLO, LRI..PDI, LRM/RLM/ALM, zero-width joiners are left alone).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What a spreadsheet treats as the start of a formula, ASCII and full-width.
_FORMULA_LEAD = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control and bidi characters shown as escapes (CR always; LF unless asked)."""
    shown = _UNSAFE.sub(_show, text)
    if not keep_newlines:
        shown = shown.replace("\n", "\\n")
    return shown


def csv_cell(value: object) -> object:
    """A CSV value a spreadsheet will not evaluate: text starting like a formula gets a ``'``.

    Numbers, booleans and ``None`` pass through (``-3`` as a number is data, not a formula).
    """
    if isinstance(value, str) and value and value[0] in _FORMULA_LEAD:
        return "'" + value
    return value

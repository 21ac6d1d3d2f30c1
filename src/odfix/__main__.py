"""``python -m odfix``."""

from odfix.cli import run

run()

"""``python -m odfix``."""

import sys

from odfix.cli import main

sys.exit(main())

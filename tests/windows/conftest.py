"""Split tests/windows by interpreter.

``inside/`` runs only under the Windows CPython in Wine (scripts/wine/run-tests.sh); on Linux the
normal suite collects ``test_wine_suite.py`` instead, which drives that run.
"""

import sys

collect_ignore = ["test_wine_suite.py"] if sys.platform == "win32" else ["inside"]

"""Split tests/windows by interpreter.

``inside/`` runs only under the Windows CPython in Wine (scripts/wine/run-tests.sh); on Linux the
normal suite collects ``test_wine_suite.py`` instead, which drives that run, and
``test_windows_build.py``, which runs the Windows build in a fresh prefix.
"""

import sys

LINUX_DRIVERS = ["test_wine_suite.py", "test_windows_build.py"]
collect_ignore = LINUX_DRIVERS if sys.platform == "win32" else ["inside"]

#!/usr/bin/env bash
# Run tests/windows under the Windows CPython in Wine (setup first; cached after the first run).
# Extra arguments go to pytest, e.g.: bash scripts/wine/run-tests.sh -k credentials
set -euo pipefail
exec bash "$(dirname "$0")/run-python.sh" -m pytest tests/windows -p no:cacheprovider "$@"

#!/usr/bin/env bash
# Run tests/windows under the Windows CPython in Wine (setup first; cached after the first run).
# Extra arguments go to pytest, e.g.: bash scripts/wine/run-tests.sh -k credentials
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/wine/env.sh
source "$repo/scripts/wine/env.sh"

command -v wine >/dev/null || { echo "run-tests: wine is not installed" >&2; exit 127; }
mkdir -p "$ODFIX_WINE_CACHE"
# One run per prefix at a time: tests share its credential set and registry.
exec 9>"$ODFIX_WINE_CACHE/.lock"
flock 9

bash "$repo/scripts/wine/setup.sh"

cd "$repo"
# odfix from this checkout, by its Windows path (Wine maps / to Z:).
export PYTHONPATH="Z:${repo//\//\\}\\src"
status=0
win_python -m pytest tests/windows -p no:cacheprovider "$@" || status=$?
wineserver -w
exit "$status"

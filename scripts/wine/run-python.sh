#!/usr/bin/env bash
# Run the Windows CPython under Wine with odfix from this checkout: bash run-python.sh ARGS...
# Sets up the cached prefix first, holds the prefix lock, and waits for Wine to settle at the end.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/wine/env.sh
source "$repo/scripts/wine/env.sh"

command -v wine >/dev/null || { echo "wine is not installed" >&2; exit 127; }
mkdir -p "$ODFIX_WINE_CACHE"
# One run per prefix at a time: runs share its credential set and registry.
exec 9>"$ODFIX_WINE_CACHE/.lock"
flock 9

bash "$repo/scripts/wine/setup.sh"

cd "$repo"
# odfix from this checkout, by its Windows path (Wine maps / to Z:).
export PYTHONPATH="Z:${repo//\//\\}\\src"
status=0
win_python "$@" || status=$?
wineserver -w
exit "$status"

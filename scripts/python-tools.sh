#!/usr/bin/env bash
# Project-local Python tools, pinned, in .tools/venv (git-ignored).
# Idempotent: a pin already installed at its version is left alone.
# Usage: scripts/python-tools.sh [NAME...]   (then use .tools/venv/bin/python)
#        with names, only those pins are installed (e.g. phonenumbers)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/venv

# One "name==version" per entry; add new tools here (e.g. schemathesis==X.Y.Z).
# phonenumbers is the number parser's metadata release, written in its METADATA_VERSION file.
PINS=(
  "phonenumbers==$(tr -d '[:space:]' < crates/phonenumber/METADATA_VERSION)"
  "schemathesis==4.32.5"
  "selenium==4.48.0"
)

if [[ -x "$VENV/bin/python" ]]; then
  echo "venv: $VENV exists"
else
  echo "venv: creating $VENV"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"

for pin in "${PINS[@]}"; do
  name="${pin%%==*}"
  want="${pin#*==}"
  if [[ $# -gt 0 && " $* " != *" $name "* ]]; then
    continue
  fi
  # importlib.metadata reads the installed distribution's version without importing it.
  have="$("$PY" -c 'import sys, importlib.metadata as m
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass' "$name")"
  if [[ "$have" == "$want" ]]; then
    echo "$name: $want already installed, skipped"
  else
    echo "$name: installing $want${have:+ (had $have)}"
    "$PY" -m pip install --quiet --disable-pip-version-check "$pin"
  fi
done

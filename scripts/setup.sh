#!/usr/bin/env bash
# Create .venv (if missing) and install the project with the given extras, pinned by constraints.txt.
# Idempotent: a stamp of the inputs skips pip when nothing changed.
#   scripts/setup.sh cpu        # what `make serve` needs
#   scripts/setup.sh gpu,test   # what `make test` needs (vLLM too: its adapter is checked against real types)
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-cpu}
python=${PYTHON:-python3}

if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt <(echo "$extras") | sha256sum | cut -c1-16)
if [[ -f $stamp ]]; then
  exit 0
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e ".[$extras]"
rm -f .venv/.installed-*
touch "$stamp"

#!/usr/bin/env bash
# Build the isolated environment of one benchmark peer under benchmarks/.venvs/<peer>
# (git-ignored). Peers pin versions that conflict with dpsynth and with each other, so
# each gets its own venv and is never a dependency of dpsynth.
# Usage: bash benchmarks/peers/setup.sh opendp|smartnoise|dpmm [python executable]
# Exit status 0 means the peer imports; the log of a failed install is kept beside the venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venvs="$(dirname "$here")/.venvs"
peer="${1:?usage: setup.sh opendp|smartnoise|dpmm [python]}"
python="${2:-python3.11}"
case "$peer" in
    # OpenDP's MST/AIM live in opendp.extras.mbi and need Private-PGM 2.0 (mbi) and JAX.
    opendp) packages=("opendp[mbi]==0.16.0" "pandas") ; check="import opendp.extras.mbi" ;;
    # smartnoise-synth 1.0.8 wants the older Private-PGM (mbi<2) and opacus.
    smartnoise) packages=("smartnoise-synth==1.0.8") ; check="from snsynth import Synthesizer" ;;
    # dpmm pins old numpy/pandas/opendp.
    dpmm) packages=("dpmm") ; check="import dpmm" ;;
    *) echo "unknown peer: $peer (expected opendp, smartnoise or dpmm)" >&2 ; exit 2 ;;
esac
venv="$venvs/$peer"
mkdir -p "$venvs"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${packages[@]}"
"$venv/bin/python" -c "$check" 
"$venv/bin/python" -m pip freeze > "$venv/freeze.txt"
echo "$peer ready: $venv"

#!/usr/bin/env bash
# Build the isolated environment of the benchmark peer `mbi` (Private-PGM 2.0, needs JAX).
# It lives in benchmarks/.venvs/mbi (git-ignored) and is never a dependency of dpsynth.
# Usage: bash benchmarks/setup_mbi_venv.sh [python executable]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-python3}"
venv="$here/.venvs/mbi"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# The worker (benchmarks/_mbi_worker.py) only reads measurements saved by pgm_vs_mbi.py.
"$venv/bin/python" -m pip install --quiet "mbi==2.0.0" "jax[cpu]==0.10.2"
"$venv/bin/python" -c "import mbi, jax; print('mbi', getattr(mbi, '__version__', '2.0.0'), 'jax', jax.__version__)"

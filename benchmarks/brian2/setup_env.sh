#!/usr/bin/env bash
# Create (once) the separate Python environment in which the Brian2 reference simulation runs.
#
# Brian2 2.9 needs numpy < 2.3, while hwsnn runs on numpy 2.4, so Brian2 lives in its own venv.
# Usage:  benchmarks/brian2/setup_env.sh [VENV_DIR] [PYTHON]
#   VENV_DIR  default: $HWSNN_BRIAN2_VENV or ~/.cache/hwsnn/brian2-venv
#   PYTHON    base interpreter for the venv (default: python3)
# The same steps are done from Python by `hwsnn.bench.snn.ensure_brian2_env()`; both write the
# marker file `hwsnn-brian2-ok` only after Brian2's default runtime target compiled and ran a
# tiny network, so a half-built environment is never reused.
set -euo pipefail
VENV="${1:-${HWSNN_BRIAN2_VENV:-$HOME/.cache/hwsnn/brian2-venv}}"
PY="${2:-python3}"
if [ -f "$VENV/hwsnn-brian2-ok" ]; then
    echo "brian2 env ready: $VENV"; exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "brian2==2.9.0" "numpy>=1.26,<2.3" "cython>=3.0" "setuptools>=69"
"$VENV/bin/python" - <<'PY'
import brian2 as b2, numpy, Cython, sys
b2.prefs.codegen.target = "cython"
g = b2.NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0")
g.v = 2
b2.run(1 * b2.ms)
print(f"brian2 {b2.__version__}, numpy {numpy.__version__}, Cython {Cython.__version__}, python {sys.version.split()[0]}: cython target OK")
PY
echo "brian2==2.9.0" > "$VENV/hwsnn-brian2-ok"
echo "brian2 env ready: $VENV"

#!/usr/bin/env bash
# On a machine with a CUDA GPU: install, run the learner tests on CUDA, print ensemble
# updates per second of CQL and H2O (L = 5, 256-256) in fp32 and in the auto precision,
# eager and with CUDA graphs (torch.compile mode reduce-overhead). Under 5 minutes.
#   bash bench/gpu_check.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-gpu
. .venv-gpu/bin/activate
python -m pip install -q --upgrade pip
pip install -q torch   # the CUDA build
pip install -q ".[test]"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
MFHRL_TEST_DEVICE=cuda timeout 150 python -m pytest -q -x tests/test_learn_precision.py \
  tests/test_learn_ensemble.py tests/test_learn_state.py tests/test_learn_cql.py
python bench/updates_per_second.py --device cuda --precision fp32
python bench/updates_per_second.py --device cuda --precision auto
timeout 120 python bench/updates_per_second.py --device cuda --precision auto --compile reduce-overhead

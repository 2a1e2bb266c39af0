#!/usr/bin/env bash
# Saphra & Lopez, "LSTMs Compose (and Learn) Bottom-Up" (Findings of EMNLP 2020): a long-range
# rule ⟨r c r⟩ is learned earlier when its conduit c is familiar (seen on its own elsewhere in
# training) than when it is not. Setting here: `sonde synthetic make` with 1,000 filler symbols,
# 10 rules, 100 conduits of 3 symbols (50 familiar, each also seen 10 times on its own), 20,000
# training sequences of 35 symbols (about 0.7 M tokens), 500 held-out rules; a 2 × 128 LSTM LM
# without dropout (Adam 1e-3), 3,000 steps of 32 sequences (about 5 epochs; the rules are learned
# between steps 400 and 800), checkpoints dense where they are learned. With 5-symbol conduits
# (the generator's default) the rules were not learned within 10,000 steps: accuracy at chance.
# The paper's own generator settings could not be checked against its text here (ARCHITECTURE.md,
# "Contextual decomposition"). About 5 minutes on 2 cores.
# Usage: studies/lstm-bottom-up.sh [OUT]   (default: lstm-bottom-up beside the repository's files)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../lstm-bottom-up}"
(cd "$here/.." && swift build -c release --product sonde >&2)
sonde="$here/../.build/release/sonde"
steps=(0 100 200 300 400 500 600 700 800 1000 1600 3000)
[ -f "$out/data/probes.tsv" ] || "$sonde" synthetic make --out "$out/data" --conduit-length 3
[ -f "$out/lm/step-3000/trainer_state.json" ] || "$sonde" lm train --corpus "$out/data/train.txt" --out "$out/lm" --hidden 128 \
    --steps 3000 --checkpoints "$(IFS=,; echo "${steps[*]}")" --dropout 0 --seed 1
"$sonde" synthetic score "${steps[@]/#/$out/lm/step-}" --data "$out/data"

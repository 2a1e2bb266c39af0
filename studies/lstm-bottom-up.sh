#!/usr/bin/env bash
# Saphra & Lopez, "LSTMs Compose (and Learn) Bottom-Up" (Findings of EMNLP 2020): a long-range
# rule ⟨r c r⟩ is learned earlier when its conduit c is familiar (seen on its own elsewhere in
# training) than when it is not. Setting here (`sonde synthetic make` defaults): 1,000 filler
# symbols, 10 rules, 100 conduits of 5 symbols (50 familiar, each also seen 10 times on its own),
# 20,000 training sequences of 35 symbols (about 0.7 M tokens), 500 held-out rules; a 2 × 128
# LSTM LM (Adam 1e-3 as `sonde lm train` defaults), 3,000 steps of 32 sequences (about 5 epochs),
# log-spaced checkpoints. The paper's own generator settings could not be checked against its
# text here (see ARCHITECTURE.md, "Contextual decomposition").
# Usage: studies/lstm-bottom-up.sh [OUT]   (default: lstm-bottom-up next to this script's folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../lstm-bottom-up}"
(cd "$here/.." && swift build -c release --product sonde >&2)
sonde="$here/../.build/release/sonde"
[ -f "$out/data/probes.tsv" ] || "$sonde" synthetic make --out "$out/data"
[ -f "$out/lm/step-3000/trainer_state.json" ] || "$sonde" lm train --corpus "$out/data/train.txt" --out "$out/lm" --hidden 128 \
    --steps 3000 --checkpoints 0,25,50,100,200,400,800,1600,3000 --seed 1
"$sonde" synthetic score "$out"/lm/step-0 "$out"/lm/step-25 "$out"/lm/step-50 "$out"/lm/step-100 "$out"/lm/step-200 \
    "$out"/lm/step-400 "$out"/lm/step-800 "$out"/lm/step-1600 "$out"/lm/step-3000 --data "$out/data"

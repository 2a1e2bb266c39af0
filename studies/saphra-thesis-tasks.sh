#!/usr/bin/env bash
# Saphra's thesis ("Training Dynamics of Neural Language Models", Edinburgh 2021), the second
# claim of its abstract: embeddings trained for different tasks are similar at the start of
# training and become task-specific. Two LSTMs with the Saphra & Lopez study's settings (2 × 256,
# EWT train, 2,000 batches of 32, Adam 2e-3, dropout 0.3, seed 1 — so both start from the same
# weights, as that study's references do): a POS tagger and a topic (EWT genre) classifier, with
# checkpoints at steps 0, 16, 63, 250, 1,000 and 2,000. At each step their embedding layers are
# compared on the first 1,000 EWT dev sentences (`sonde compare`: SVCCA on the 99%-variance
# directions and on 20, PWCCA, CKA). Identical at step 0 by construction, so the claim measured
# is the second half: the similarity falls (by more than 0.01) from step 16 to step 2,000.
# About 30 minutes on 2 cores. Usage: studies/saphra-thesis-tasks.sh [OUT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/out/saphra-thesis-tasks}"
shared="$here/../../shared/corpora/ud-english-ewt"
(cd "$here/.." && swift build -c release --product sonde >&2)
sonde="$here/../.build/release/sonde"
steps=(0 16 63 250 1000 2000)
mkdir -p "$out"
for property in upos genre; do
    [ -f "$out/$property/step-2000/trainer_state.json" ] || "$sonde" tagger train --corpus "$shared/en_ewt-ud-train.conllu" \
        --property "$property" --out "$out/$property" --hidden 256 --layers 2 --steps 2000 --batch-size 32 \
        --learning-rate 0.002 --dropout 0.3 --seed 1 --checkpoints "$(IFS=,; echo "${steps[*]}")"
done
for step in "${steps[@]}"; do
    [ -f "$out/compare-$step.json" ] && continue
    # Written whole or not at all: a failed comparison leaves no file behind.
    part="$out/compare-$step.json.part"
    if ! "$sonde" compare --base "$out/upos/step-$step" --other "$out/genre/step-$step" --corpus "$shared/en_ewt-ud-dev.conllu" \
        --limit 1000 --property upos --layers 0 --measures svcca,svcca-20,pwcca,cka --json > "$part"; then
        rm -f "$part"
        exit 1
    fi
    mv "$part" "$out/compare-$step.json"
done
python3 - "$out" "${steps[@]}" <<'PY'
import json, sys
out, steps = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f"{out}/compare-{s}.json")) for s in steps]
def similarity(r, measure):
    layer = next(l for l in r["layers"] if l["layer"] == "layer0")
    return layer[measure]
print("embeddings of the POS tagger against the topic classifier's, by step: " + " ".join(steps))
for measure in ["svcca", "svcca-20", "pwcca", "cka"]:
    series = [similarity(r, measure) for r in rows]
    change = series[-1] - series[1]
    verdict = "holds" if change < -0.01 else "does not hold" if change > 0.01 else "undecided"
    print(f"{measure:9} " + " ".join(f"{v:.3f}" for v in series) + f"   falls from step {steps[1]} to {steps[-1]}: {verdict}")
PY

#!/usr/bin/env bash
# Peak resident memory of Sonde's largest jobs at ten times the sizes of the other benchmarks:
# probe on 1,000,000 × 1,024, similarity on 200,000 × 4,096, extract of all of EWT train with
# the zoo models, run of the EWT example study. Prints each job's time and peak RSS (GNU time's
# maximum resident set size). Usage: benchmarks/memory.sh [probe|similarity|extract|study …]
# Needs python3 with numpy for the generated inputs (benchmarks/.data/memory, ~16 GB; git-ignored)
# and ../shared beside the repository for extract and study.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
shared="$root/../shared"
data="$here/.data/memory"
mkdir -p "$data"
(cd "$root" && swift build -c release --product sonde >&2)
sonde="$root/.build/release/sonde"

# Runs a command under GNU time and prints "name  seconds  peak GB  exit status".
measure() {
    local name="$1"
    shift
    local status=0
    /usr/bin/time -f "%e %M" -o "$data/time.txt" "$@" >"$data/$name.out" 2>"$data/$name.err" || status=$?
    read -r seconds kb < <(tail -n 1 "$data/time.txt")
    printf '%-44s %8.1f s  peak %6.2f GB  exit %d\n' "$name" "$seconds" "$(echo "$kb / 1048576" | bc -l)" "$status"
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(probe similarity extract study)
for suite in "${suites[@]}"; do
    case "$suite" in
    probe)
        mkdir -p "$data/probe"
        [ -f "$data/probe/y.txt" ] || python3 "$here/memory/make_data.py" probe "$data/probe" 1000000 1024
        measure "probe 1,000,000 × 1,024, 17 classes" "$sonde" probe --train "$data/probe/x.npy" --train-labels "$data/probe/y.txt" --lambda 1e-3 --quiet
        ;;
    similarity)
        mkdir -p "$data/similarity"
        [ -f "$data/similarity/y.npy" ] || python3 "$here/memory/make_data.py" similarity "$data/similarity" 200000 4096
        measure "similarity 200,000 × 4,096 (default)" "$sonde" similarity "$data/similarity/x.npy" "$data/similarity/y.npy" --quiet
        ;;
    extract)
        train="$shared/corpora/ud-english-ewt/en_ewt-ud-train.conllu"
        for model in gpt-step1200 bert-step1200 neox-step1200; do
            measure "extract EWT train, zoo $model" "$sonde" extract --model "$shared/zoo/$model" --tokenizer "$shared/zoo/tokenizer/tokenizer.json" \
                --corpus "$train" --out "$data/$model.safetensors" --quiet
        done
        ;;
    study)
        rm -rf "$data/study"
        mkdir -p "$data/study"
        sed -e "s|^output = .*|output = \"$data/study/out\"|" -e "s|\.\./\.\./shared|$shared|" "$root/examples/ud-english-ewt.toml" >"$data/study/study.toml"
        measure "run the EWT example study" "$sonde" run "$data/study/study.toml" --quiet
        ;;
    *) echo "unknown suite $suite (probe, similarity, extract, study)" >&2; exit 64 ;;
    esac
done

#!/usr/bin/env bash
# Fuzzes Sonde's readers of outside data with libFuzzer, AddressSanitizer and coverage.
#
#   bash benchmarks/fuzz.sh [TARGET|all] [SECONDS]      (default: all targets, 60 s each)
#   FUZZ_JOBS=2 bash benchmarks/fuzz.sh all 600         (two targets at a time)
#
# Targets (benchmarks/sonde-fuzz/FuzzTarget.swift): conllu ptb tiger alpino neurox-text
# neurox-json hdf5 npy npz safetensors config shard-index tokenizer experiment pairs blimp
# probes probe eraser. Each keeps its corpus in benchmarks/fuzz/corpus/TARGET (minimised after each
# run, so the next run on this machine starts where this one left; not in git, since it grows
# from ../shared's treebanks); seeds come from benchmarks/fuzz/seeds (made for fuzzing), the test
# fixtures, the embedded corpora and ../shared (cut to a few KB). Per input: 1 s (3 s for .npz, see time_limit) and 2 GB at most.
# A finding (crash, sanitizer report, timeout, memory, or an error that does not name its
# file) is written to benchmarks/fuzz/findings/ and makes the script exit 1; replay it with
# the normal build: swift run sonde-fuzz TARGET FILE. Prints one line per target:
# executions, coverage, corpus size, findings.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
want=${1:-all}
seconds=${2:-60}
jobs=${FUZZ_JOBS:-1}
shared=${SONDE_SHARED:-$repo/../shared}
targets="conllu ptb tiger alpino neurox-text neurox-json hdf5 npy npz safetensors config shard-index tokenizer experiment pairs blimp probes probe eraser"
if [ "$want" != all ]; then
    case " $targets " in *" $want "*) targets=$want ;; *) echo "fuzz.sh: no target '$want'; targets: $targets" >&2; exit 2 ;; esac
fi
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac

# The build: coverage and AddressSanitizer on every Swift and C target; libFuzzer's driver
# linked without its main (sonde-fuzz has its own, which calls LLVMFuzzerRunDriver).
runtime=$(ls -d "$(dirname "$(readlink -f "$(command -v swiftc)")")"/../lib/clang/*/lib/linux 2>/dev/null | head -1)
if [ ! -f "$runtime/libclang_rt.fuzzer_no_main-x86_64.a" ]; then
    echo "fuzz.sh: libFuzzer (libclang_rt.fuzzer_no_main) not found beside swiftc; use a Swift toolchain for Linux x86_64" >&2
    exit 2
fi
coverage=edge,trace-cmp,indirect-calls,inline-8bit-counters,pc-table
echo "fuzz.sh: building sonde-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
if ! swift build --build-path .build-fuzz --product sonde-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=$coverage -Xswiftc -DSONDE_FUZZ \
    -Xcc -fsanitize=address,fuzzer-no-link -Xcxx -fsanitize=address,fuzzer-no-link \
    -Xlinker "$runtime/libclang_rt.fuzzer_no_main-x86_64.a" -Xlinker -lstdc++ 2>&1 |
    grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Build" ; then
    :
fi
binary=$repo/.build-fuzz/debug/sonde-fuzz
[ -x "$binary" ] || { echo "fuzz.sh: the build failed" >&2; exit 1; }

# Seeds: small files a reader accepts (and some it refuses), cut from larger ones.
seeds=$repo/benchmarks/fuzz/.seeds
rm -rf "$seeds"
cut_blocks() { # FILE BYTES: the first blank-line-separated blocks of FILE within BYTES
    awk -v max="$2" 'BEGIN { RS = ""; ORS = "\n\n" } { if (total + length($0) > max) exit; total += length($0) + 2; print }' "$1"
}
seed() { # TARGET FILE...: copy the files that exist
    local target=$1; shift
    mkdir -p "$seeds/$target"
    for f in "$@"; do [ -f "$f" ] && cp "$f" "$seeds/$target/$(echo "$f" | tr '/' '_')"; done
}
fixtures=$repo/Tests/Fixtures
mkdir -p "$seeds"/{conllu,ptb,tiger,blimp}
seed conllu "$fixtures"/corpora/*.conllu
cut_blocks corpora/default.conllu 3000 >"$seeds/conllu/default"
[ -d "$shared/corpora" ] && cut_blocks "$shared/corpora/ud-english-ewt/en_ewt-ud-dev.conllu" 6000 >"$seeds/conllu/ewt"
[ -d "$shared/corpora" ] && cut_blocks "$shared/corpora/ud-czech-cac/cs_cac-ud-dev.conllu" 6000 >"$seeds/conllu/cac"
seed ptb "$fixtures"/corpora/*.mrg "$fixtures"/corpora/*.psd
head -c 3000 corpora/default.ptb | awk 'BEGIN { RS = ""; ORS = "\n\n" } NR < 4' >"$seeds/ptb/default"
[ -d "$shared/corpora" ] && head -c 5000 "$shared/corpora/gum-const/const/GUM_academic_art.ptb" >"$seeds/ptb/gum"
seed tiger "$fixtures"/corpora/*.tiger.xml
seed alpino "$fixtures"/corpora/*.alpino.xml "$shared"/corpora/alpino-xml/cdb/{0,1,2,3}.xml
seed neurox-text "$fixtures"/corpora/neurox.txt
seed neurox-json "$shared"/reference/neurox/test.json
seed hdf5 "$shared"/reference/neurox/test.hdf5
seed npy "$fixtures"/tensors/*.npy
seed npz "$fixtures"/tensors/*.npz
seed safetensors "$fixtures"/tensors/*.safetensors
seed config "$fixtures"/models/*/config.json
seed shard-index "$fixtures"/models/roberta-sharded/model.safetensors.index.json
seed tokenizer "$fixtures"/models/wordpiece/tokenizer.json
seed experiment studies/*.toml examples/*.toml
seed blimp
for f in "$shared"/corpora/blimp/data/{adjunct_island,anaphor_gender_agreement}.jsonl; do
    [ -f "$f" ] && head -n 3 "$f" >"$seeds/blimp/$(basename "$f")"
done
for own in benchmarks/fuzz/seeds/*/; do seed "$(basename "$own")" "$own"*; done

max_length() { # the longest input: the seeds of these formats are larger
    case $1 in
        tokenizer) echo 40960 ;; # a SentencePiece seed holds 256 byte tokens
        hdf5 | neurox-json | npz) echo 32768 ;;
        *) echo 8192 ;;
    esac
}

time_limit() { # seconds per input; an .npz member may inflate to the 64 MiB floor of
    # SONDE_MAX_INFLATION, bounded work that takes 0.14 s in a release build and ~1.4 s under ASan
    case $1 in
        npz) echo 3 ;;
        *) echo 1 ;;
    esac
}

dictionary() {
    case $1 in
        conllu | neurox-text) echo conllu ;;
        ptb) echo ptb ;;
        tiger | alpino) echo xml ;;
        neurox-json | config | shard-index | tokenizer | blimp) echo json ;;
        hdf5 | npy | npz | safetensors | probe | eraser) echo tensor ;;
        experiment) echo toml ;;
        pairs | probes) echo tsv ;;
    esac
}

findings=$repo/benchmarks/fuzz/findings
mkdir -p "$findings" "$repo/benchmarks/fuzz/logs"
run_target() {
    local target=$1
    local corpus=$repo/benchmarks/fuzz/corpus/$target log=$repo/benchmarks/fuzz/logs/$target.log
    mkdir -p "$corpus"
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 SONDE_FUZZ_FIXTURES=$fixtures/models SONDE_FUZZ_TARGET=$target \
        "$binary" -max_total_time="$seconds" -timeout="$(time_limit "$target")" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$(max_length "$target")" \
        -dict="$repo/benchmarks/fuzz/dict/$(dictionary "$target").dict" -artifact_prefix="$findings/$target-" \
        -print_final_stats=1 "$corpus" "$seeds/$target" >"$log" 2>&1
    local status=$?
    # Minimise the kept corpus: the inputs that reach all the coverage, nothing more.
    local merged=$corpus.merging
    rm -rf "$merged" && mkdir -p "$merged"
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 SONDE_FUZZ_FIXTURES=$fixtures/models SONDE_FUZZ_TARGET=$target \
        "$binary" -merge=1 -timeout="$(time_limit "$target")" -rss_limit_mb=2048 -max_len="$(max_length "$target")" "$merged" "$corpus" >>"$log" 2>&1 &&
        rm -rf "$corpus" && mv "$merged" "$corpus"
    rm -rf "$merged"
    local runs cov kept
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    kept=$(ls "$corpus" | wc -l)
    if [ $status -eq 0 ]; then
        echo "$target: ${runs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, corpus $kept inputs, no finding"
    else
        echo "$target: FINDING (exit $status) after ${runs:-?} executions; see benchmarks/fuzz/logs/$target.log and $findings/$target-*"
        return 1
    fi
}
export -f run_target dictionary max_length time_limit
export repo seeds binary seconds findings fixtures

if printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_target {}'; then
    echo "fuzz.sh: no finding"
else
    echo "fuzz.sh: findings in benchmarks/fuzz/findings (turn each into a regression test)" >&2
    exit 1
fi

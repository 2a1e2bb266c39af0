#!/usr/bin/env bash
# Soak test of the experiment runner's cache: the demo study run RUNS times (default 20) as
# pairs of processes sharing one output folder, each recomputing every cell (--force, so a kill
# lands while cells are computed and written, not after a cached run has finished), with SIGKILL
# at random moments. At the end:
# every run that completed wrote a results.json byte-identical to a clean run's, no temporary
# file is left anywhere under the folder, and `sonde run --verify` finds the cache intact.
#
#   bash benchmarks/soak.sh [RUNS] [MAX_DELAY_SECONDS]     (defaults 20 and the clean run's time)
#
# Not part of CI: it takes RUNS × (up to) the demo's time. Prints one line per pair and a
# summary: runs, kills, completed runs identical, files left.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
max_delay=${2:-0}
case "$runs$max_delay" in *[!0-9]*) echo "soak.sh: RUNS and MAX_DELAY_SECONDS are whole numbers" >&2; exit 2 ;; esac

swift build -c release --product sonde 2>&1 | grep -E "error|Compiling|Build complete" | tail -2
sonde=$(pwd)/.build/release/sonde
[ -x "$sonde" ] || { echo "soak.sh: the build failed" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sonde-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "soak.sh: a clean run for the reference results"
clean_start=$SECONDS
"$sonde" demo --out "$work/reference" >"$work/reference.log" 2>&1 || { echo "soak.sh: the clean run failed: $work/reference.log" >&2; cat "$work/reference.log" >&2; exit 1; }
reference=$work/reference/results.json
[ "$max_delay" -gt 0 ] || max_delay=$((SECONDS - clean_start + 1))
echo "soak.sh: the clean run took $((SECONDS - clean_start)) s; kills at random moments in 0…$max_delay s"

shared=$work/shared
kills=0 completed=0 differing=0 pair=0
started=$SECONDS
while [ $((pair * 2)) -lt "$runs" ]; do
    pair=$((pair + 1))
    "$sonde" demo --out "$shared" --force >"$work/a.log" 2>&1 &
    a=$!
    "$sonde" demo --out "$shared" --force >"$work/b.log" 2>&1 &
    b=$!
    # A random moment in 0…max_delay s (tenths), and a random choice of whom to kill.
    delay=$((RANDOM % (max_delay * 10 + 1)))
    sleep "$((delay / 10)).$((delay % 10))"
    victims=""
    case $((RANDOM % 4)) in
        0) victims="$a" ;;
        1) victims="$b" ;;
        2) victims="$a $b" ;;
        3) victims="" ;;
    esac
    killed=0
    for v in $victims; do kill -9 "$v" 2>/dev/null && killed=$((killed + 1)); done
    kills=$((kills + killed))
    line="pair $pair: kill at $((delay / 10)).$((delay % 10)) s, $killed killed"
    for p in a b; do
        pid=${!p}
        wait "$pid"
        status=$?
        if [ $status -eq 0 ]; then
            completed=$((completed + 1))
            if cmp -s "$shared/results.json" "$reference"; then
                line+=", $p completed (results identical)"
            else
                differing=$((differing + 1))
                line+=", $p completed (results DIFFER)"
                cp "$shared/results.json" "$work/differing-$pair-$p.json"
            fi
        elif [ $status -eq 137 ]; then
            line+=", $p killed"
        else
            line+=", $p failed (exit $status: $(tail -1 "$work/$p.log"))"
            differing=$((differing + 1))
        fi
    done
    echo "$line"
done

# A last run, not killed and not forced, finishes the study from whatever the kills left.
"$sonde" demo --out "$shared" >"$work/final.log" 2>&1 || { echo "soak.sh: the final run failed:" >&2; cat "$work/final.log" >&2; exit 1; }
completed=$((completed + 1))
cmp -s "$shared/results.json" "$reference" || { differing=$((differing + 1)); echo "soak.sh: the final run's results differ from the clean run's" >&2; }
left=$(find "$shared" -name '.*.tmp-*' -o -name '*.tmp' -o -name '*.partial' | wc -l)
if "$sonde" run "$shared/experiment.toml" --verify >"$work/verify.log" 2>&1; then verified="intact"; else verified="DAMAGED: $(tail -1 "$work/verify.log")"; fi
echo "soak.sh: $((pair * 2)) runs in pairs over one folder, $kills killed, $completed completed, $differing with results differing from a clean run, $left temporary files left, cache $verified ($((SECONDS - started)) s)"
[ "$differing" -eq 0 ] && [ "$left" -eq 0 ] && [ "$verified" = intact ]

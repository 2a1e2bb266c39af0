#!/usr/bin/env bash
# The tests of Sonde's own parallel code under ThreadSanitizer: a data race in the probe's data
# pass, the Newton model's classes solved in pairs, the similarity baseline's pooled tasks, the attention workers or the thread-count state
# stops the run with a report. Debug build in its own folder (.build-tsan); takes several minutes
# (the whole suite, `benchmarks/tsan.sh .`, about half an hour).
#   benchmarks/tsan.sh            the default selection below
#   benchmarks/tsan.sh FILTER     any `swift test --filter` expression
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-SondeModelsTests|SolverTests|ConjugateStartTests|ClassPairsTests|DataPassTests|SyntheticSimilarityTests|SimilarityCLITests|HugeCapacityTests}"
swift build --build-tests --scratch-path .build-tsan -Xswiftc -sanitize=thread
# A report makes the test process exit non-zero, so the run fails.
TSAN_OPTIONS="halt_on_error=1" swift test --skip-build --scratch-path .build-tsan --filter "$filter"

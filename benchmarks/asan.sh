#!/usr/bin/env bash
# The model, tensor-file and hostile-input tests under AddressSanitizer: an out-of-bounds read or
# write anywhere in them (a hostile tokenizer id, a config that sizes a buffer) stops the run
# with a report. Debug build in its own folder (.build-asan); takes a few minutes.
#   benchmarks/asan.sh            the default selection below
#   benchmarks/asan.sh FILTER     any `swift test --filter` expression
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-SondeModelsTests|HostileCorpusTests|MalformedTensorFileTests|HostileCLITests|DegenerateDataTests|MalformedCorpusTests|FolderTests|ExpKernelTests|ClassPairsTests|DataPassTests}"
swift build --build-tests --scratch-path .build-asan -Xswiftc -sanitize=address
# Leaks in Foundation's and XCTest's own start-up are not ours: report only memory errors. At the
# first error the test process exits with status 1 (with abort_on_error the SIGABRT reached
# Swift's crash handler and the run hung after the report).
ASAN_OPTIONS="detect_leaks=0" swift test --skip-build --scratch-path .build-asan --filter "$filter"

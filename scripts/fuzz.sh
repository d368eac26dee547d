#!/usr/bin/env bash
# Builds the GGUF reader's libFuzzer target with clang (AddressSanitizer and UBSan on) in its
# own build directory and runs it for SECONDS (default 60), starting from the committed seed
# corpus. Prints the executions run; a finding is saved under the build directory and makes
# the script exit non-zero.
#
# usage: scripts/fuzz.sh [SECONDS]
# environment: VKQ_FUZZ_BUILD_DIR (default: build-fuzz in the repository root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }
build="${VKQ_FUZZ_BUILD_DIR:-$root/build-fuzz}"

command -v clang >/dev/null || { echo "fuzz.sh: clang is required" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DVKQ_FUZZ=ON -DVKQ_BUILD_APPS=OFF -DVKQ_BUILD_VIZ=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" --target gguf_fuzz -j2 >/dev/null

# New inputs go to a corpus in the build directory; the committed seeds are only read.
work="$build/fuzz/gguf-corpus"
artifacts="$build/fuzz/gguf-findings/"
mkdir -p "$work" "$artifacts"
log="$build/fuzz/gguf.log"

set +e
"$build/tests/fuzz/gguf_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts" -dict="$root/tests/fuzz/gguf.dict" \
    "$work" "$root/tests/fuzz/corpus" >"$log" 2>&1
status=$?
set -e

execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
echo "gguf_fuzz: ${execs:-?} executions in ${seconds} s (${rate:-?}/s), ${cov:-cov: ?}," \
     "corpus $(ls "$work" | wc -l) new inputs; log: $log"
if [[ $status -ne 0 ]]; then
    echo "gguf_fuzz: FINDING (exit $status); inputs in $artifacts:" >&2
    ls -l "$artifacts" >&2
    grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$log" >&2 || true
    exit 1
fi
echo "gguf_fuzz: no findings"

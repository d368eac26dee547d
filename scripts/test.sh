#!/usr/bin/env bash
# The test command: set-up, a fresh build directory, build, then every test with the Vulkan
# validation layer on. Exits non-zero on any failure.
#
#   scripts/test.sh              fast tests (what CI runs)
#   scripts/test.sh --all        also the long sweeps (label "slow")
#   scripts/test.sh --sanitize   the same suite built with AddressSanitizer + UBSan
#   scripts/test.sh --fuzz N     also run the GGUF reader fuzzer for N seconds
set -euo pipefail
cd "$(dirname "$0")/.."

all=0 sanitize=0 fuzz=0
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --sanitize) sanitize=1 ;;
    --fuzz) fuzz="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
VKQ_TEST_MODEL="$(bash scripts/fetch_model.sh)"
export VKQ_TEST_MODEL

build=build/test
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKQ_WERROR=ON)
if [ "$sanitize" = 1 ]; then
  build=build/sanitize
  cmake_args+=(-DVKQ_SANITIZE=ON)
  # Leaks inside the Vulkan driver and loader are not vkq's: see tests/lsan.supp for each one.
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
rm -rf "$build"
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

# The fuzzer first, so that ctest's summary is the last thing printed.
if [ "$fuzz" != 0 ]; then
  bash scripts/fuzz.sh "$fuzz"
fi

ctest_args=(--test-dir "$build" --output-on-failure -j2)
if [ "$all" = 0 ]; then ctest_args+=(-LE slow); fi
ctest "${ctest_args[@]}"

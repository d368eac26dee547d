#!/usr/bin/env bash
# check_install.sh BUILD_DIR CONSUMER_SRC
set -euo pipefail
build="$1" consumer="$2"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/usr" >/dev/null
lib="$(find "$prefix/usr" -name "libvkq.so" | head -1)"
test -f "$prefix/usr/include/vkq.h" || { echo "vkq.h not installed"; exit 1; }
test -n "$lib" || { echo "libvkq.so not installed"; exit 1; }

# Only vkq_* may be exported (and never the internal vkq__*).
bad="$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v -E '^vkq_[a-z]' | grep -v -E '^$' || true)"
internal="$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -E '^vkq__' || true)"
if [ -n "$bad$internal" ]; then
  echo "unexpected exported symbols:"; echo "$bad"; echo "$internal"; exit 1
fi

# A sanitizer build's library needs the ASan runtime loaded first in a plain consumer.
if ldd "$lib" | grep -q libasan; then
  export LD_PRELOAD="$(cc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0
fi

# find_package(vkq)
cmake -S "$consumer" -B "$prefix/consumer-cmake" -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
cmake --build "$prefix/consumer-cmake" >/dev/null
LD_LIBRARY_PATH="$(dirname "$lib")" "$prefix/consumer-cmake/consumer"

# pkg-config
pc_dir="$(dirname "$(find "$prefix" -name vkq.pc | head -1)")"
flags="$(PKG_CONFIG_PATH="$pc_dir" pkg-config --define-prefix --cflags --libs vkq)"
cc -std=c11 "$consumer/main.c" $flags -o "$prefix/consumer-pc"
LD_LIBRARY_PATH="$(dirname "$lib")" "$prefix/consumer-pc"
echo "1 passed, 0 failed"

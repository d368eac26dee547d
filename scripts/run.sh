#!/usr/bin/env bash
# The main job: set up, build, and run vkq on the best device (a GPU if there is one, lavapipe
# otherwise). Extra arguments go to the vkq command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
vkq=build/release/apps/vkq/vkq
if [ $# -gt 0 ]; then
  exec "$vkq" "$@"
fi
"$vkq" info
"$vkq" bench bandwidth

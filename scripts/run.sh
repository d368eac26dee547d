#!/usr/bin/env bash
# The main job: set up, build, fetch the default model (SmolLM2-135M-Instruct Q4_1, cached) and
# generate text with it on the best device (a GPU if there is one, lavapipe otherwise).
# With arguments, runs that vkq command instead: scripts/run.sh info --json
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
model="$(bash scripts/fetch_model.sh)"
"$vkq" run -m "$model" --chat -p "Write a short poem about the sea." -n 96

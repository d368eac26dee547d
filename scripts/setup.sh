#!/usr/bin/env bash
# Installs what vkq needs to build, test and run, with apt. Idempotent: when everything is
# present it only checks (a second or so). Run as root, or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libvulkan-dev            # Vulkan loader and headers
  mesa-vulkan-drivers      # lavapipe: Vulkan on the CPU when there is no GPU
  glslc glslang-tools      # GLSL -> SPIR-V compilers (glslc preferred)
  spirv-tools              # spirv-val checks every shader at build time
  vulkan-validationlayers  # the tests run with VK_LAYER_KHRONOS_validation
  vulkan-tools             # vulkaninfo, for diagnosing a machine
  libglfw3-dev libstb-dev libcjson-dev xvfb fonts-dejavu-core  # the viewer app and its tests
  clang libclang-rt-14-dev # the fuzzer (libFuzzer) and sanitizer runtimes
  python3 python3-pip unzip # fetching the test model from its PyPI wheel
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

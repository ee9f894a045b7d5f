#!/usr/bin/env bash
# Installs every build, run and test dependency from Debian 12 packages (run as root).
# Skips apt entirely when everything is already installed, so it is cheap to call first.
set -euo pipefail
packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # engine
  zlib1g-dev libpng-dev nlohmann-json3-dev libcli11-dev libglm-dev
  # Vulkan compute engine: loader, headers, lavapipe (a CPU Vulkan driver), shader compiler
  libvulkan-dev mesa-vulkan-drivers glslang-tools vulkan-validationlayers
  # desktop app (DejaVu Sans: the Greek and math glyphs of the labels and help texts)
  qt6-base-dev libqt6opengl6-dev libimgui-dev libgl-dev fonts-dejavu-core
  # ONNX import and export (core/io): the ONNX protobuf schema and its C++ library
  libonnx-dev libprotobuf-dev protobuf-compiler
  # data
  dataset-fashion-mnist
  # tests: GoogleTest, a virtual X server for the GUI tests; clang's sanitizers and libFuzzer
  # (libclang-rt-14-dev) for the sanitized suites and the fuzz targets, llvm for their reports
  libgtest-dev xvfb xauth clang libclang-rt-14-dev llvm
  # tests: the ONNX checker (python3-onnx) and the ONNX backend node tests (libonnx-testdata)
  python3-onnx libonnx-testdata
  # benchmarks only: reference implementations measured side by side
  python3 python3-torch python3-numpy python3-sklearn
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The independent ONNX runtime the export is checked against (tests/onnx; onnxruntime-node ships
# its runtime inside the npm package). Node.js and npm come with the machine.
onnx_tests="$(cd "$(dirname "$0")/../tests/onnx" && pwd)"
if [[ ! -d "$onnx_tests/node_modules/onnxruntime-node" ]]; then
  (cd "$onnx_tests" && npm ci --no-audit --no-fund --silent)
fi

#!/usr/bin/env bash
# Configures a sanitized build folder with clang (no GUI; the engine, the CLI and their tests):
#   scripts/configure-sanitized.sh address|thread FOLDER
# address: AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer targets;
# thread: ThreadSanitizer. -O1 with line tables keeps the reports readable and the build short.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=$1 folder=$2
fuzz=OFF
[[ $kind == address ]] && fuzz=ON
CC=clang CXX=clang++ cmake -S . -B "$folder" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
  -DDRMM_SANITIZE="$kind" -DDRMM_FUZZ="$fuzz" -DDRMM_BUILD_GUI=OFF > "$folder.configure.log" 2>&1 ||
  { cat "$folder.configure.log"; exit 1; }

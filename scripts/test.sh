#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: the release suites (ctest; the GUI tests
# need Xvfb, which ctest starts itself through xvfb-run), the core and CLI suites under ASan +
# UBSan and the threaded hand-offs under TSan (scripts/sanitizers.sh), and a short run of every
# fuzz target (scripts/fuzz.sh; DRMM_FUZZ_SECONDS per target, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "${DRMM_JOBS:-2}"
scripts/sanitizers.sh
scripts/fuzz.sh "${DRMM_FUZZ_SECONDS:-20}"

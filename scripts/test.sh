#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (ctest; the GUI tests need Xvfb,
# which ctest starts itself through xvfb-run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "${DRMM_JOBS:-2}"

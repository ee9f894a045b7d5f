#!/usr/bin/env bash
# The core and CLI suites under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/), and
# the threaded hand-offs (training session ↔ GUI snapshots, the thread pool, parallel tree
# training) under ThreadSanitizer (build-tsan/). The long learning-quality tests, which only
# repeat code paths the short ones cover, and the scale-out trainer's tests (Python; the engine
# side of them is covered by the CLI tests) are left to the release run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${DRMM_JOBS:-2}
scripts/configure-sanitized.sh address build-asan
cmake --build build-asan -j "$jobs" --target drmm drmm_core_tests drmm_cli_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" \
  -E '^(ScaleOut\.|TrainedTiny|TrainedTinyOnFashionMnist|Trainer\.TrainingMakes|Trainer\.Supervised|KillCli|TreeCli\.ForestOnTheFeatures)|_NOT_BUILT$'
scripts/configure-sanitized.sh thread build-tsan
cmake --build build-tsan -j "$jobs" --target drmm_core_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  build-tsan/bin/drmm_core_tests --gtest_filter='TrainingSession.*:ThreadPool.*:TreeTraining.*:CpuThreads/*'

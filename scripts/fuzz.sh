#!/usr/bin/env bash
# Fuzzes every file format the programs read (tests/fuzz/): builds the libFuzzer targets with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/, writes the seed corpora, and
# runs each target for SECONDS (default 20) on its seeds, its kept regression inputs
# (tests/fuzz/regressions/<target>/) and the growing corpus in build-asan/fuzz-corpus/. A crash,
# a sanitizer report, a leak, an uncaught exception or a hang is saved under
# tests/fuzz/findings/<target>/ (keep it as a regression input once fixed) and fails the script.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      e.g. scripts/fuzz.sh 3600 fuzz_checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_idx fuzz_cifar fuzz_png fuzz_checkpoint fuzz_onnx fuzz_forest fuzz_preset fuzz_settings)
scripts/configure-sanitized.sh address build-asan
cmake --build build-asan -j "${DRMM_JOBS:-2}" --target fuzz_seeds "${targets[@]}"
seeds=build-asan/fuzz-seeds
rm -rf "$seeds"
build-asan/bin/fuzz_seeds "$seeds" > /dev/null
failed=0
for target in "${targets[@]}"; do
  corpus=build-asan/fuzz-corpus/$target findings=tests/fuzz/findings/$target
  regressions=tests/fuzz/regressions/$target
  mkdir -p "$corpus" "$findings" "$regressions"
  log=build-asan/$target.log
  # -timeout: one input taking longer than 10 s is a hang; -rss_limit_mb: memory is bounded.
  if build-asan/bin/"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$findings/" "$corpus" "$seeds/$target" "$regressions" > "$log" 2>&1; then
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo "?")
    echo "fuzz: $target: $runs executions in ${seconds} s, no finding"
  else
    echo "fuzz: $target: FINDING (see $log and $findings/)"
    tail -n 30 "$log"
    failed=1
  fi
done
exit "$failed"

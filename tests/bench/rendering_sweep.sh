#!/usr/bin/env bash
# Trains a list of configurations for several seeds on Fashion-MNIST (N_L = 100) and prints, per
# run and as the worst over the seeds, the test accuracy and the rendering quality of the last
# evaluation (metrics.csv: r(I, Î), self-consistency; core/train/rendering_quality.h). Long: not
# part of ctest. Runs DRMM_JOBS trainings at a time (default 2) on DRMM_THREADS threads each
# (default 1); DRMM_DATA picks the dataset (default fashion-mnist).
#
#   tests/bench/rendering_sweep.sh OUT EPOCHS "SEEDS" NAME=ARGS [NAME=ARGS ...]
#   tests/bench/rendering_sweep.sh runs/sweep 1 "1 2 3" "tiny=--model tiny" "tiny-rc10=--model tiny --alpha-rc 10"
set -euo pipefail
out=$1 epochs=$2 seeds=$3
shift 3
# DRMM_BIN: a copy of the binary, so that a rebuild during a long sweep does not change it.
drmm=${DRMM_BIN:-"$(cd "$(dirname "$0")/../.." && pwd)/build/bin/drmm"}
mkdir -p "$out"
jobs=()
for config in "$@"; do
  name=${config%%=*} args=${config#*=}
  for seed in $seeds; do jobs+=("$name $seed $args"); done
done
run_one() {
  local name=$1 seed=$2
  shift 2
  local dir="$out/$name-s$seed"
  [[ -f "$dir/done" ]] && return 0
  mkdir -p "$dir"
  # shellcheck disable=SC2068
  "$drmm" train --data "$data" --labeled 100 --epochs "$epochs" --seed "$seed" --threads "$threads" --quiet \
    --out "$dir" $@ > "$dir/train.log" 2>&1 && touch "$dir/done"
}
export -f run_one
data=${DRMM_DATA:-fashion-mnist} threads=${DRMM_THREADS:-1}
export out epochs drmm data threads
printf '%s\n' "${jobs[@]}" | xargs -P "${DRMM_JOBS:-2}" -I{} bash -c 'run_one {}'
# The last row of each run: columns test_accuracy (9), r_mean (12), r_median (13), relative_error (14),
# self_consistency (15).
printf '%-32s %8s %8s %8s %8s %8s\n' run accuracy r_mean r_median rel_err self_cons
for config in "$@"; do
  name=${config%%=*}
  for seed in $seeds; do
    tail -n 1 "$out/$name-s$seed/metrics.csv" |
      awk -F, -v run="$name-s$seed" '{printf "%-32s %8.3f %8.3f %8.3f %8.3f %8.3f\n", run, $9, $12, $13, $14, $15}'
  done | tee "$out/$name.rows"
  awk -v run="$name (worst)" 'NR==1{a=$2;r=$3;m=$4;e=$5;s=$6} {if($2<a)a=$2; if($3<r)r=$3; if($4<m)m=$4; if($5>e)e=$5; if($6<s)s=$6}
       END{printf "%-32s %8.3f %8.3f %8.3f %8.3f %8.3f\n", run, a, r, m, e, s}' "$out/$name.rows"
done

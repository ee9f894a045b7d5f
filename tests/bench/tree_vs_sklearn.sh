#!/bin/sh
# The E-DRMM forest against scikit-learn on Fashion-MNIST (see tree_vs_sklearn.py). Builds
# `drmm` first. Usage: tests/bench/tree_vs_sklearn.sh [build folder] [extra tree_vs_sklearn.py options]
#   e.g. tests/bench/tree_vs_sklearn.sh build --trees 100 --jobs 2 --out tree_vs_sklearn.md
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" drmm
# Debian's python3 has python3-sklearn and python3-numpy; a python3 earlier on PATH may not.
exec /usr/bin/python3 "$root/tests/bench/tree_vs_sklearn.py" --drmm "$build/bin/drmm" "$@"

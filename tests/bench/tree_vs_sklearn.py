#!/usr/bin/python3
"""E-DRMM tree and forest (`drmm tree`) against scikit-learn's DecisionTreeClassifier and
RandomForestClassifier on Fashion-MNIST pixels: the same train/test split (the standard 60k/10k
files), the same tree count, the same number of cores, in the same run. Prints a table of test
accuracy, training time and prediction time, and writes it (Markdown and JSON) to --out.

Run with Debian's python3 (it has python3-sklearn and python3-numpy):
    /usr/bin/python3 tests/bench/tree_vs_sklearn.py --drmm build/bin/drmm --trees 100 --jobs 2
Timings are wall-clock seconds; both sides use --jobs threads (sklearn n_jobs, drmm --threads).
The CPU column (user + system seconds of all threads) is steadier than wall time on a shared
machine; for drmm it is the whole `drmm tree train` process, so it includes reading the data.
"""
import argparse
import gzip
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def read_idx(path, offset):
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def fashion_mnist(folder, limit):
    def images(name):
        return read_idx(os.path.join(folder, name), 16).reshape(-1, 784).astype(np.float32) / 255.0

    def labels(name):
        return read_idx(os.path.join(folder, name), 8).astype(np.int64)

    x, y = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    if limit:
        x, y = x[:limit], y[:limit]
    return x, y, images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")


def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_drmm(args, command):
    result = subprocess.run([args.drmm, "tree"] + command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"drmm tree {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def number_after(label, text):
    match = re.search(label + r"\s*([0-9.]+)", text)
    if not match:
        sys.exit(f"no '{label}' in drmm output:\n{text}")
    return float(match.group(1))


def drmm_model(args, name, trees, extra, folder):
    path = os.path.join(folder, name + ".bin")
    common = ["--data", "fashion-mnist", "--threads", str(args.jobs)]
    limit = ["--limit", str(args.limit)] if args.limit else []
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    out = run_drmm(args, ["train", *common, *limit, "--trees", str(trees), "--depth", str(args.depth),
                          "--seed", str(args.seed), "--out", path, *extra, *args.drmm_option])
    train_cpu_s = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    train_s = number_after("train time:", out)
    out = run_drmm(args, ["eval", "--forest", path, *common, "--split", "test"])
    return {"model": name, "trees": trees, "accuracy": number_after("accuracy:", out),
            "train_s": train_s, "train_cpu_s": train_cpu_s, "predict_s": number_after("predict time:", out)}


def sklearn_model(name, model, trees, data):
    x, y, xt, yt = data
    start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    model.fit(x, y)
    train_s, train_cpu_s = time.perf_counter() - start, cpu_seconds(resource.RUSAGE_SELF) - cpu
    start = time.perf_counter()
    accuracy = float((model.predict(xt) == yt).mean())
    return {"model": name, "trees": trees, "accuracy": accuracy, "train_s": train_s, "train_cpu_s": train_cpu_s,
            "predict_s": time.perf_counter() - start}


def table(rows):
    lines = ["| model | trees | test accuracy | train time (s) | train CPU (s) | predict time (s) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['trees']} | {r['accuracy']:.4f} | {r['train_s']:.1f} | "
                     f"{r['train_cpu_s']:.1f} | {r['predict_s']:.2f} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--drmm", default="build/bin/drmm", help="the drmm executable")
    p.add_argument("--data-dir", default=os.environ.get("DRMM_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--depth", type=int, default=40, help="drmm --depth (sklearn grows trees fully)")
    p.add_argument("--jobs", type=int, default=2, help="threads for both: sklearn n_jobs, drmm --threads")
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all 60000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--drmm-option", action="append", default=[], help="extra option for drmm tree train")
    p.add_argument("--skip-single", action="store_true", help="forests only")
    p.add_argument("--out", default="tree_vs_sklearn.md", help="results file (a .json is written beside it)")
    args = p.parse_args()
    os.environ["DRMM_FASHION_MNIST_DIR"] = args.data_dir

    data = fashion_mnist(args.data_dir, args.limit)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_single:
            rows.append(drmm_model(args, "E-DRMM tree (drmm)", 1, ["--no-bootstrap"], folder))
            rows.append(sklearn_model("DecisionTreeClassifier", DecisionTreeClassifier(random_state=args.seed), 1, data))
        rows.append(drmm_model(args, "E-DRMM forest (drmm)", args.trees, [], folder))
        rows.append(sklearn_model("RandomForestClassifier", RandomForestClassifier(
            n_estimators=args.trees, n_jobs=args.jobs, random_state=args.seed), args.trees, data))
    setting = (f"Fashion-MNIST pixels, {len(data[1])} train / {len(data[3])} test images, {args.jobs} threads each, "
               f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), scikit-learn "
               f"{sklearn.__version__}, load average {os.getloadavg()[0]:.1f} at the end")
    text = f"{setting}\n\n{table(rows)}\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"setting": setting, "rows": rows}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

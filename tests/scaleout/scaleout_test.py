#!/usr/bin/python3
"""The scale-out trainer (core/scaleout/drmm_ddp) against the engine, on Fashion-MNIST (tiny preset).

- One step of drmm_ddp and one step of `drmm train` from the same seed (so the same initial
  weights, labeled split and batch) end with the same losses and the same tensors.
- A 2-process gloo run and a 1-process run of the same global batch end with the same tensors.
- `drmm eval` on a drmm_ddp checkpoint gives the test accuracy drmm_ddp measured.

Tolerances: weights, optimiser state and batch-norm statistics within 2e-4 of their tensor's
largest value (float32 sums in another order, other convolution algorithms); the latent
frequencies π are averages of 0/1 switches, where a near-tie decided the other way moves one
value by (1 − 0.99)/100 = 1e-4 per step, so they may differ by 3e-4.

  /usr/bin/python3 tests/scaleout/scaleout_test.py --drmm build/bin/drmm [ScaleOut.test_...]
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "core", "scaleout"))
from drmm_ddp import container  # noqa: E402

DRMM = os.path.join(SOURCE, "build", "bin", "drmm")
STEPS_PER_EPOCH = 1200  # Fashion-MNIST's 60,000 images, 50 unlabeled per batch of 100
WEIGHT_TOLERANCE, PI_TOLERANCE = 2e-4, 3e-4


def epochs_for(steps):
    return repr(steps / STEPS_PER_EPOCH)


def run(command, **kwargs):
    env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "core", "scaleout"))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, **kwargs)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def drmm_ddp(out, steps, processes=1, extra=()):
    common = ["-m", "drmm_ddp", "--data", "fashion-mnist", "--model", "tiny", "--epochs", epochs_for(steps),
              "--out", out, "--drmm", DRMM, "--quiet", "--test-limit", "1000", "--render-limit", "200",
              "--threads", "1"] + list(extra)
    if processes == 1:
        return run([sys.executable] + common)
    return run([sys.executable, "-m", "drmm_ddp.torchrun", "--nproc_per_node", str(processes)] + common)


def last_row(folder):
    with open(os.path.join(folder, "metrics.csv")) as f:
        return list(csv.DictReader(f))[-1]


class ScaleOut(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.dir = self.folder.name

    def tearDown(self):
        self.folder.cleanup()

    def assert_same_tensors(self, path_a, path_b):
        meta_a, a = container.read(path_a)
        meta_b, b = container.read(path_b)
        self.assertEqual(list(a), list(b), "the same tensors in the same order")
        self.assertEqual(meta_a["step"], meta_b["step"])
        worst = {}
        for name in a:
            self.assertEqual(a[name].shape, b[name].shape, name)
            difference = float(np.abs(a[name].astype(np.float64) - b[name]).max())
            if ".pi_" in name:
                self.assertLessEqual(difference, PI_TOLERANCE, name)
            else:
                scale = max(float(np.abs(a[name]).max()), 1e-3)
                self.assertLessEqual(difference, WEIGHT_TOLERANCE * scale, f"{name}: {difference} at scale {scale}")
                worst[name] = difference / scale
        moved = [n for n in a if n.endswith(".state1") and float(np.abs(a[n]).max()) > 0]
        self.assertTrue(moved, "the step moved the weights (momentum nonzero)")
        print(f"largest relative difference {max(worst.values()):.2e} ({max(worst, key=worst.get)})", file=sys.stderr)

    def test_a_step_equals_the_engines_step(self):
        engine, torch_run = os.path.join(self.dir, "engine"), os.path.join(self.dir, "torch")
        run([DRMM, "train", "--data", "fashion-mnist", "--model", "tiny", "--epochs", epochs_for(1), "--out", engine,
             "--threads", "1", "--quiet", "--test-limit", "1000", "--render-limit", "200"])
        drmm_ddp(torch_run, 1)
        self.assert_same_tensors(os.path.join(engine, "checkpoint.bin"), os.path.join(torch_run, "checkpoint.bin"))
        e, t = last_row(engine), last_row(torch_run)
        for column in ("loss_total", "loss_h", "loss_rc", "loss_kl", "loss_nn"):
            self.assertAlmostEqual(float(e[column]), float(t[column]), delta=1e-5 * max(1.0, abs(float(e[column]))),
                                   msg=column)
        for column in ("test_accuracy", "r_mean", "self_consistency"):
            self.assertAlmostEqual(float(e[column]), float(t[column]), delta=2e-3, msg=column)

    def test_two_gloo_processes_equal_one(self):
        one, two = os.path.join(self.dir, "one"), os.path.join(self.dir, "two")
        drmm_ddp(one, 4)
        output = drmm_ddp(two, 4, processes=2)
        self.assertIn("2 process(es)", output)
        self.assert_same_tensors(os.path.join(one, "checkpoint.bin"), os.path.join(two, "checkpoint.bin"))
        self.assertEqual(last_row(one)["loss_total"], last_row(two)["loss_total"])

    def test_a_resumed_run_equals_the_uninterrupted_one(self):
        whole, parts = os.path.join(self.dir, "whole"), os.path.join(self.dir, "parts")
        drmm_ddp(whole, 4)
        drmm_ddp(parts, 4, extra=["--stop-after", "2"])
        meta, _ = container.read(os.path.join(parts, "checkpoint.bin"))
        self.assertEqual(meta["step"], 2)
        drmm_ddp(parts, 4, extra=["--resume"])
        self.assert_same_tensors(os.path.join(whole, "checkpoint.bin"), os.path.join(parts, "checkpoint.bin"))
        with open(os.path.join(parts, "metrics.csv")) as f:
            steps = [row["step"] for row in csv.DictReader(f)]
        self.assertEqual(steps, ["1", "4"])  # step 1 and the final evaluation, each once

    def test_a_diverging_step_is_rolled_back_as_the_engine_does(self):
        engine, torch_run = os.path.join(self.dir, "engine"), os.path.join(self.dir, "torch")
        run([DRMM, "train", "--data", "fashion-mnist", "--model", "tiny", "--epochs", epochs_for(1), "--out", engine,
             "--threads", "1", "--quiet", "--test-limit", "100", "--render-limit", "0", "--lr", "1e12"])
        drmm_ddp(torch_run, 1, extra=["--lr", "1e12", "--render-limit", "0"])
        engine_meta, _ = container.read(os.path.join(engine, "checkpoint.bin"))
        torch_meta, _ = container.read(os.path.join(torch_run, "checkpoint.bin"))
        self.assertGreater(engine_meta["faults"], 0, "the step diverged in the engine")
        self.assertEqual(torch_meta["faults"], engine_meta["faults"])
        self.assertAlmostEqual(torch_meta["lr_scale"], engine_meta["lr_scale"], delta=1e-12)

    def test_drmm_eval_reads_its_checkpoint_with_its_accuracy(self):
        out = os.path.join(self.dir, "run")
        drmm_ddp(out, 3, extra=["--test-limit", "0"])
        measured = float(last_row(out)["test_accuracy"])
        printed = run([DRMM, "eval", "--checkpoint", os.path.join(out, "checkpoint.bin"), "--data", "fashion-mnist",
                       "--render-limit", "0"])
        accuracy = float(re.search(r"accuracy[^0-9]*([0-9.]+)", printed).group(1))
        self.assertAlmostEqual(accuracy, measured, delta=1e-4, msg=printed)
        meta, _ = container.read(os.path.join(out, "checkpoint.bin"))
        self.assertEqual(meta["step"], 3)
        self.assertEqual(meta["trainer"], "drmm_ddp")

    def test_a_bad_preset_is_a_clear_error(self):
        done = subprocess.run([sys.executable, "-m", "drmm_ddp", "--model", "no-such-preset", "--out",
                               os.path.join(self.dir, "bad"), "--drmm", DRMM], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "core", "scaleout")))
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("no-such-preset", done.stderr)
        self.assertNotIn("Traceback", done.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--drmm", default=DRMM)
    known, rest = parser.parse_known_args()
    DRMM = os.path.abspath(known.drmm)
    unittest.main(argv=[sys.argv[0]] + rest)

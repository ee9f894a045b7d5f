"""python3 -m drmm_ddp: train a DRMM on 1…N processes (torchrun) with the engine's conventions.

  torchrun --nproc_per_node 2 -m drmm_ddp --data fashion-mnist --model convsmall --labeled 100 \\
      --epochs 5 --out runs/x

The run folder gets checkpoint.bin and metrics.csv in the engine's formats; watch it with
`drmm-studio --watch runs/x`, evaluate it with `drmm eval --checkpoint runs/x/checkpoint.bin`.
"""
import argparse
import datetime
import os
import shutil
import subprocess
import sys
import time

import torch
import torch.distributed as dist

from . import container
from .trainer import Data, Trainer

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def default_drmm():
    built = os.path.join(SOURCE_ROOT, "build", "bin", "drmm")
    return built if os.path.exists(built) else (shutil.which("drmm") or built)


def default_presets():
    for folder in (os.path.join(SOURCE_ROOT, "assets", "presets"), "/usr/share/drmm-studio/presets"):
        if os.path.isdir(folder):
            return folder
    return os.path.join(SOURCE_ROOT, "assets", "presets")


def arguments(argv):
    p = argparse.ArgumentParser(prog="python3 -m drmm_ddp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="fashion-mnist", help="a dataset as `drmm train --data` takes it")
    p.add_argument("--model", default="tiny", help="a preset name or an architecture JSON path")
    p.add_argument("--labeled", type=int, default=100, help="N_L: labeled images, balanced per class")
    p.add_argument("--epochs", type=float, default=None,
                   help="passes of the unlabeled stream over the training set (default 1; with --resume the run's own)")
    p.add_argument("--batch", type=int, default=100, help="images per global batch (over all processes)")
    p.add_argument("--labeled-fraction", type=float, default=0.5, help="fraction of each batch that is labeled")
    for term in ("h", "rc", "kl", "nn"):
        p.add_argument("--alpha-" + term, type=float, default=None, help=f"α_{term.upper()} (default: the preset's)")
    p.add_argument("--kl-sign", choices=("code", "paper"), default="code", help="L_KL sign (README \"The L_KL sign\")")
    p.add_argument("--topdown", choices=("label", "predicted"), default="label", help="class rendered top-down")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default=None, help="default: the preset's")
    p.add_argument("--lr", type=float, default=None, help="initial learning rate (default: the preset's)")
    p.add_argument("--lr-end", type=float, default=None, help="final learning rate (default: the preset's)")
    p.add_argument("--momentum", type=float, default=None, help="SGD momentum (default: the preset's)")
    p.add_argument("--seed", type=int, default=1, help="labeled split, initialisation and batch order")
    p.add_argument("--test-every", type=int, default=0, help="steps between test evaluations (0: every epoch)")
    p.add_argument("--test-limit", type=int, default=0, help="evaluate on at most this many test images (0: all)")
    p.add_argument("--render-limit", type=int, default=1000, help="rendering quality on this many test images")
    p.add_argument("--out", default="runs/latest", help="run folder: checkpoint.bin and metrics.csv")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints (and every epoch end)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads per process (0: torch's default)")
    p.add_argument("--drmm", default=default_drmm(), help="the drmm binary that exports the dataset")
    p.add_argument("--presets", default=default_presets(), help="the folder of preset JSON files")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out exactly: its architecture, settings, weights, optimiser state "
                        "and step (with --epochs as the new total); metrics.csv rows after the checkpoint are dropped")
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop, with a checkpoint, once the run has made this many steps (the schedule stays the run's); "
                        "--resume goes on from there")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    args = p.parse_args(argv)
    args.epochs_given = args.epochs is not None
    if args.epochs is None:
        args.epochs = 1.0
    if args.epochs <= 0 or args.batch < 2 or not 0 <= args.labeled_fraction <= 1:
        p.error("--epochs must be above 0, --batch at least 2, --labeled-fraction between 0 and 1")
    return args


def export_split(args, split, rank):
    """Rank 0 has the engine write the split (`drmm data export`); every rank then reads it."""
    path = os.path.join(args.out, f".data-{split}.bin")
    if rank == 0:
        command = [args.drmm, "data", "export", args.data, "--split", split, "--out", path]
        try:
            done = subprocess.run(command, capture_output=True, text=True)
        except OSError as e:
            raise SystemExit(f"drmm_ddp: cannot run {args.drmm} ({e}); give the drmm binary with --drmm")
        if done.returncode != 0 and split == "train":
            raise SystemExit(f"drmm_ddp: {' '.join(command)} failed: {done.stderr.strip()}")
        if done.returncode != 0 and os.path.exists(path):
            os.unlink(path)
    return path


def saved_run(args):
    """With --resume: the checkpoint in --out, and its settings in args (config_json.cpp's keys)."""
    if not args.resume:
        return None
    path = os.path.join(args.out, "checkpoint.bin")
    if not os.path.exists(path):
        raise ValueError(f"{path}: nothing to resume: no checkpoint here")
    meta, arrays = container.read(path)
    c = meta["config"]
    args.data, args.model, args.labeled, args.batch = c["dataset"], c["preset"], c["labeled"], c["batch_size"]
    args.labeled_fraction, args.seed = c["labeled_fraction"], c["seed"]
    for term in ("h", "rc", "kl", "nn"):
        setattr(args, "alpha_" + term, c["alpha"][term])
    args.kl_sign = "paper" if c["kl_paper_sign"] else "code"
    args.topdown = c["topdown_class"]
    args.optimizer = c["optimizer"] or None
    args.lr, args.lr_end = c["lr_start"] or None, c["lr_end"] or None
    args.momentum = c["momentum"] if c["momentum"] >= 0 else None
    args.test_every, args.test_limit, args.render_limit = c["test_every"], c["test_limit"], c["render_limit"]
    if not args.epochs_given:
        args.epochs = c["epochs"]
    return meta, arrays


def start_processes():
    """(rank, world, device, group for batch-norm statistics) under torchrun; one process without."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu"), None
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo", timeout=datetime.timedelta(minutes=30))
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    # Batch norm's all-reduces run inside the forward and backward passes; a group of their own
    # keeps them out of the way of DDP's gradient buckets.
    return dist.get_rank(), dist.get_world_size(), device, dist.new_group()


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    saved = saved_run(args)
    rank, world, device, group = start_processes()
    os.makedirs(args.out, exist_ok=True)
    paths = [export_split(args, split, rank) for split in ("train", "test")]
    if world > 1:
        dist.barrier()
    train = Data(paths[0])
    test = Data(paths[1]) if os.path.exists(paths[1]) else None
    trainer = Trainer(args, train, test, rank, world, device, group, saved)
    if rank == 0:
        trainer.open_metrics()
        print(f"drmm_ddp: {trainer.spec['name']} on {train.meta['name']}, {world} process(es) on {device}, "
              f"{trainer.total_steps} steps of {args.batch} images", flush=True)
    started = time.perf_counter()
    stop_at = min(trainer.total_steps, args.stop_after) if args.stop_after > 0 else trainer.total_steps
    while trainer.step < stop_at:
        trainer.run_step()
        epoch_end = trainer.step % trainer.steps_per_epoch == 0
        due = epoch_end or trainer.step == stop_at or (args.checkpoint_every > 0 and
                                                        trainer.step % args.checkpoint_every == 0)
        if rank == 0 and due:
            trainer.save()
        if rank == 0 and not args.quiet and (trainer.step % 10 == 0 or trainer.step == stop_at):
            row = trainer.history[-1]
            print(f"\rstep {trainer.step}/{trainer.total_steps}  loss {row['loss_total']:.4f}  "
                  f"{trainer.step * args.batch / (time.perf_counter() - started):.0f} images/s", end="", flush=True)
    if rank == 0:
        tested = [row for row in trainer.history if row["test_accuracy"] >= 0]
        accuracy = f"test accuracy {tested[-1]['test_accuracy']:.4f} at step {tested[-1]['step']}; " if tested else ""
        print(f"\ndrmm_ddp: step {trainer.step} of {trainer.total_steps}; {accuracy}"
              f"wrote {os.path.join(args.out, 'checkpoint.bin')}", flush=True)
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except (ValueError, RuntimeError, OSError, container.ContainerError) as e:
        # Bad input (a preset, a data file, an option) or a diverged run: the message names it.
        sys.exit(f"drmm_ddp: error: {e}")

"""The engine's training loop (core/train/trainer.cpp) under DistributedDataParallel.

The global batch is the engine's: labeled images first (batch_size · labeled_fraction of them,
walking the balanced labeled split in a fresh seeded order per pass), then unlabeled ones
(walking the whole training set likewise); rank r takes an equal contiguous slice of each part.
SGD with heavy-ball momentum (v = μv − lr·g; p += v) or Adam (Kingma & Ba 2015), the learning
rate decaying exponentially from lr_start to lr_end over the run (paper 002 App. A). Rank 0
evaluates, writes metrics.csv and the checkpoints.
"""
import math
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from . import container, quality
from .model import Drmm, TrainingGroup, fitted_spec, load_spec
from .seeded import Random, labeled_split, stream_seed

LOG_EVERY = 10
DIVERGED_MAGNITUDE, FAULT_LR_FACTOR, MAX_FAULTS = 1e9, 0.1, 8  # Trainer::kDivergedMagnitude, …
METRICS_COLUMNS = ("step,epoch,loss_total,loss_h,loss_rc,loss_kl,loss_nn,train_accuracy,test_accuracy,"
                   "images_per_second,learning_rate,r_mean,r_median,relative_error,self_consistency")


class Data:
    """A split exported by `drmm data export` (the engine's own pixels, labels and E)."""

    def __init__(self, path):
        meta, arrays = container.read(path)
        self.meta = meta["dataset"]
        self.images = torch.from_numpy(arrays["images"].copy())
        self.labels = torch.from_numpy(arrays["labels"].reshape(-1).astype("int64"))
        self.class_names = self.meta["class_names"]


def row_from_json(r):
    """Trainer's history_from_json: one saved history row."""
    rendering = None if r[11] == 0 else {"count": r[11], "r_mean": r[12], "r_median": r[13], "relative_error": r[14],
                                         "self_consistency": r[15], "level_r": r[16]}
    keys = ("step", "epoch", "loss_total", "loss_h", "loss_rc", "loss_kl", "loss_nn", "train_accuracy", "test_accuracy",
            "images_per_second", "learning_rate")
    return dict(zip(keys, r[:11]), rendering=rendering)


class Order:
    """Trainer::take_ordered: position p of a stream that walks `pool` in a seeded order per pass."""

    def __init__(self, pool, seed, stream):
        self.pool, self.seed, self.stream, self.pass_index, self.indices = pool, seed, stream, -1, None

    def at(self, position):
        pass_index = position // len(self.pool)
        if pass_index != self.pass_index:
            self.indices = list(self.pool)
            Random(stream_seed(self.seed, self.stream, pass_index)).shuffle(self.indices)
            self.pass_index = pass_index
        return self.indices[position % len(self.pool)]


def share(count, rank, world):
    """The contiguous slice [begin, end) of `count` items that rank `rank` of `world` takes."""
    return count * rank // world, count * (rank + 1) // world


class Trainer:
    """`saved`: a checkpoint's (meta, arrays) to continue exactly (its architecture, state, step)."""

    def __init__(self, args, train, test, rank, world, device, process_group, saved=None):
        self.args, self.train, self.test = args, train, test
        self.rank, self.world, self.device = rank, world, device
        c, h, w = train.images.shape[1:]
        self.spec = saved[0]["model"] if saved else fitted_spec(load_spec(args.model, args.presets), int(c), int(h),
                                                                 int(w), len(train.class_names))
        self.alpha = {k: getattr(args, "alpha_" + k) if getattr(args, "alpha_" + k) is not None
                      else self.spec.get("loss_weights", {}).get(k, {"h": 1.0, "rc": 0.2, "kl": 1.0, "nn": 1.0}[k])
                      for k in ("h", "rc", "kl", "nn")}
        opt = self.spec.get("optimizer", {})
        self.optimizer = args.optimizer or opt.get("type", "sgd")
        same = self.optimizer == opt.get("type", "sgd")
        self.lr_start = args.lr or (opt.get("lr_start", 0.2) if same else 1e-3)
        self.lr_end = args.lr_end or (opt.get("lr_end", 1e-4) if same else self.lr_start / 10)
        self.momentum = args.momentum if args.momentum is not None else opt.get("momentum", 0.9)
        self.labeled = labeled_split(train.labels.tolist(), args.labeled, args.seed, train.class_names)
        self.labeled_per_batch = min(max(round(args.batch * args.labeled_fraction), 1), args.batch) if self.labeled else 0
        self.unlabeled_per_batch = args.batch - self.labeled_per_batch
        stream = len(train.labels) if self.unlabeled_per_batch else len(self.labeled)
        per_step = self.unlabeled_per_batch or self.labeled_per_batch
        self.steps_per_epoch = max(1, -(-stream // per_step))
        self.total_steps = max(1, math.ceil(args.epochs * self.steps_per_epoch))
        if world > args.batch:
            raise ValueError(f"--batch {args.batch} is smaller than the {world} processes")
        self.labeled_order = Order(self.labeled, args.seed, 1)
        self.unlabeled_order = Order(list(range(len(train.labels))), args.seed, 2)
        self.model = Drmm(self.spec, args.seed).to(device)
        self.ddp = DistributedDataParallel(self.model, broadcast_buffers=False) if world > 1 else None
        self.group = TrainingGroup(args.batch, self.labeled_per_batch, process_group)
        self.options = {"alpha": self.alpha, "kl_paper_sign": args.kl_sign == "paper",
                        "label_when_known": args.topdown == "label",
                        "image_energy": float(train.meta["mean_pixel_energy"])}
        self.state = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in zip(self.model.param_names,
                                                                                      self.model.params)}
        self.step, self.history, self.accuracy_average, self.speed_average = 0, [], -1.0, 0.0
        self.lr_scale, self.faults = 1.0, 0
        if saved:
            self.restore(*saved)

    def restore(self, meta, arrays):
        """Trainer::adopt: the saved state, step, history and fault state."""
        self.model.load_named(arrays)
        with torch.no_grad():
            for name, (state1, state2) in self.state.items():
                state1.copy_(torch.as_tensor(arrays[name + ".state1"].copy()).view(state1.shape))
                state2.copy_(torch.as_tensor(arrays[name + ".state2"].copy()).view(state2.shape))
        self.step = int(meta["step"])
        if not 0 <= self.step <= self.total_steps:
            raise ValueError(f"checkpoint step {self.step} is outside the run (0..{self.total_steps} steps)")
        self.lr_scale, self.faults = float(meta.get("lr_scale", 1.0)), int(meta.get("faults", 0))
        self.history = [row_from_json(r) for r in meta.get("history", []) if r[0] <= self.step]

    # ---- one step ------------------------------------------------------------------------

    def learning_rate(self):
        return self.lr_scale * self.lr_start * (self.lr_end / self.lr_start) ** (self.step / self.total_steps)

    def local_batch(self):
        lb, le = share(self.labeled_per_batch, self.rank, self.world)
        ub, ue = share(self.unlabeled_per_batch, self.rank, self.world)
        labeled = [self.labeled_order.at(self.step * self.labeled_per_batch + j) for j in range(lb, le)]
        unlabeled = [self.unlabeled_order.at(self.step * self.unlabeled_per_batch + j) for j in range(ub, ue)]
        index = torch.tensor(labeled + unlabeled, dtype=torch.long)
        labels = torch.cat([self.train.labels[labeled] if labeled else torch.zeros(0, dtype=torch.long),
                            torch.full((len(unlabeled),), -1, dtype=torch.long)])
        return self.train.images[index].to(self.device), labels.to(self.device)

    def run_step(self):
        start = time.perf_counter()
        images, labels = self.local_batch()
        kept = self.kept_state()
        while True:
            outcome = self.try_update(images, labels)
            if outcome[0] is not None:
                break
            self.recover_from_fault(kept, outcome[1])
        self.step += 1
        self.record(outcome[0], labels, outcome[2], time.perf_counter() - start)

    def try_update(self, images, labels):
        """(losses, None, q) after the update, or (None, what went wrong, None): Trainer::try_update.
        Every rank sees the same global loss and the same weights, so all decide alike."""
        net = self.ddp or self.model
        for p in self.model.params:
            p.grad = None
        total, terms, q = net(images, labels, self.options, self.group)
        # DDP averages the gradients over the processes; each process's loss is its share of
        # the global objective, so world × share averages to the global gradient.
        (total * self.world).backward()
        losses = self.global_losses(terms)
        if not math.isfinite(losses["total"]):
            return None, "the loss is not finite", None
        self.update(float(self.learning_rate()))
        if not all(bool(torch.isfinite(p).all()) and float(p.abs().max()) <= DIVERGED_MAGNITUDE for p in self.model.params):
            return None, "a weight diverged", None
        return losses, None, q

    def kept_state(self):
        return [t.detach().clone() for _, t in self.model.named_state()] + \
               [s.clone() for pair in self.state.values() for s in pair]

    def recover_from_fault(self, kept, what):
        """Trainer::recover_from_fault: back to the weights before the step, a lower learning rate."""
        with torch.no_grad():
            live = [t for _, t in self.model.named_state()] + [s for pair in self.state.values() for s in pair]
            for target, value in zip(live, kept):
                target.copy_(value)
        self.faults += 1
        if self.faults > MAX_FAULTS:
            raise RuntimeError(f"training diverged at step {self.step + 1} ({what}) {MAX_FAULTS} times, even at learning "
                               f"rate {self.learning_rate():.3g}; the last good weights are in the last checkpoint; "
                               "try a smaller --lr")
        self.lr_scale *= FAULT_LR_FACTOR
        if self.rank == 0:
            print(f"\ndrmm_ddp: warning: step {self.step + 1}: {what}; rolled back to the weights before the step "
                  f"and lowered the learning rate to {self.learning_rate():.3g}", file=sys.stderr, flush=True)

    def global_losses(self, terms):
        values = torch.tensor([terms[k] for k in ("h", "rc", "kl", "nn")], dtype=torch.float64)
        if self.world > 1:
            dist.all_reduce(values)
        losses = dict(zip(("h", "rc", "kl", "nn"), values.tolist()))
        losses["total"] = sum(self.alpha[k] * losses[k] for k in ("h", "rc", "kl", "nn"))
        return losses

    @torch.no_grad()
    def update(self, lr):
        for name, p in zip(self.model.param_names, self.model.params):
            state1, state2 = self.state[name]
            g = p.grad
            if self.optimizer == "adam":
                beta1, beta2, eps, t = 0.9, 0.999, 1e-8, self.step + 1
                state1.mul_(beta1).add_((1 - beta1) * g)
                state2.mul_(beta2).add_((1 - beta2) * g * g)
                p.sub_(lr * (state1 / (1 - beta1 ** t)) / (torch.sqrt(state2 / (1 - beta2 ** t)) + eps))
            else:
                state1.mul_(self.momentum).sub_(lr * g)
                p.add_(state1)

    # ---- metrics and checkpoints (rank 0 writes) ------------------------------------------

    def record(self, losses, labels, q, seconds):
        labeled = labels >= 0
        correct = torch.tensor([float((q.argmax(1)[labeled] == labels[labeled]).sum()), float(labeled.sum())],
                               dtype=torch.float64)
        if self.world > 1:
            dist.all_reduce(correct)
        if correct[1] > 0:
            accuracy = float(correct[0] / correct[1])
            self.accuracy_average = accuracy if self.accuracy_average < 0 else 0.95 * self.accuracy_average + 0.05 * accuracy
        speed = self.args.batch / max(seconds, 1e-9)
        self.speed_average = speed if self.speed_average == 0 else 0.9 * self.speed_average + 0.1 * speed
        row = {"step": self.step, "epoch": self.step / self.steps_per_epoch, "loss_total": losses["total"],
               "loss_h": losses["h"], "loss_rc": losses["rc"], "loss_kl": losses["kl"], "loss_nn": losses["nn"],
               "train_accuracy": max(self.accuracy_average, 0.0), "test_accuracy": -1.0,
               "images_per_second": self.speed_average, "learning_rate": self.learning_rate(), "rendering": None}
        epoch_end = self.step % self.steps_per_epoch == 0
        test_due = self.step % self.args.test_every == 0 if self.args.test_every > 0 else epoch_end
        if (test_due or self.finished()) and self.rank == 0:
            evaluated = self.test or self.train
            row["test_accuracy"] = quality.accuracy(self.model, evaluated.images, evaluated.labels, self.args.test_limit)
            if self.args.render_limit > 0:
                row["rendering"] = quality.rendering(self.model, evaluated.images, self.args.render_limit)
        if self.step % LOG_EVERY == 0 or row["test_accuracy"] >= 0 or self.step == 1:
            self.history.append(row)
            if self.rank == 0:
                self.append_metrics(row)

    def finished(self):
        return self.step >= self.total_steps

    def level_names(self):
        return [layer.name for layer in self.model.layers[:-1]]

    def open_metrics(self):
        """A new file with its header; a resumed run keeps the rows up to its step (MetricsCsv)."""
        path = os.path.join(self.args.out, "metrics.csv")
        text = METRICS_COLUMNS + "".join(",r_" + n for n in self.level_names()) + "\n"
        if self.step > 0 and os.path.exists(path):
            with open(path) as f:
                lines = f.read().split("\n")
            kept = [line for line in lines[1:-1] if line.split(",")[0].isdigit() and int(line.split(",")[0]) <= self.step]
            text = lines[0] + "\n" + "".join(line + "\n" for line in kept)
        container.write_atomically(path, text.encode())
        self.metrics = open(path, "a")

    def append_metrics(self, row):
        cells = [str(row["step"])] + ["%.6g" % row[k] for k in ("epoch", "loss_total", "loss_h", "loss_rc", "loss_kl",
                                                                  "loss_nn", "train_accuracy")]
        cells.append("%.6g" % row["test_accuracy"] if row["test_accuracy"] >= 0 else "")
        cells += ["%.6g" % row["images_per_second"], "%.6g" % row["learning_rate"]]
        r = row["rendering"]
        cells += ["%.6g" % r[k] if r else "" for k in ("r_mean", "r_median", "relative_error", "self_consistency")]
        cells += ["%.6g" % v for v in r["level_r"]] if r else [""] * len(self.level_names())
        self.metrics.write(",".join(cells) + "\n")
        self.metrics.flush()

    def history_json(self):
        # Trainer's history_to_json: one array per row.
        rows = []
        for m in self.history:
            r = m["rendering"] or {"count": 0, "r_mean": 0.0, "r_median": 0.0, "relative_error": 0.0,
                                   "self_consistency": 0.0, "level_r": []}
            rows.append([m["step"], m["epoch"], m["loss_total"], m["loss_h"], m["loss_rc"], m["loss_kl"], m["loss_nn"],
                         m["train_accuracy"], m["test_accuracy"], m["images_per_second"], m["learning_rate"],
                         r["count"], r["r_mean"], r["r_median"], r["relative_error"], r["self_consistency"],
                         r["level_r"]])
        return rows

    def config_json(self):
        # config_json.cpp's keys; "cpu" is the backend the engine continues such a run on.
        a = self.args
        return {"dataset": a.data, "preset": a.model, "labeled": a.labeled, "epochs": a.epochs, "batch_size": a.batch,
                "labeled_fraction": a.labeled_fraction, "alpha": self.alpha, "kl_paper_sign": a.kl_sign == "paper",
                "topdown_class": "predicted" if a.topdown == "predicted" else "label",
                "optimizer": a.optimizer or "", "lr_start": a.lr or 0.0, "lr_end": a.lr_end or 0.0,
                "momentum": a.momentum if a.momentum is not None else -1.0, "backend": "cpu", "threads": 0,
                "seed": a.seed, "test_every": a.test_every, "test_limit": a.test_limit, "render_limit": a.render_limit}

    def save(self):
        meta = {"model": self.spec, "config": self.config_json(), "step": self.step, "optimizer": self.optimizer,
                "lr_start": self.lr_start, "lr_end": self.lr_end, "momentum": self.momentum,
                "lr_scale": self.lr_scale, "faults": self.faults, "history": self.history_json(), "trainer": "drmm_ddp",
                "processes": self.world}
        arrays = []
        for name, p in zip(self.model.param_names, self.model.params):  # all N×C×H×W, as the engine's
            arrays.append((name, p.detach().cpu().numpy()))
            for suffix, s in zip((".state1", ".state2"), self.state[name]):
                arrays.append((name + suffix, s.cpu().numpy()))
        for i, name in enumerate(self.model.buffer_names):
            arrays.append((name, self.model.buffer(i).cpu().numpy()))
        container.write(os.path.join(self.args.out, "checkpoint.bin"), meta, arrays)

#!/usr/bin/python3
"""The same DRMM training step as `drmm bench`, in PyTorch, for a side-by-side figure.

One step = bottom-up E-step (conv, batch norm, ReLU masks a, max-pool switches t, mean pool,
softmax), top-down E-step (render the class one-hot through the same filters with the same
masks), the four losses L_H, L_RC, L_KL (the authors' code's sign), L_NN, backward through both
passes, and an SGD-with-momentum update (DESIGN.md §3.2; paper 002 eq. 5-8, App. B).

Written to be as fast as PyTorch 1.13 allows on a CPU: the transposed convolutions of the
top-down pass use conv2d with flipped, transposed weights (conv_transpose2d is more than 10x
slower there for stride 1), the masks are detached tensors, and max_unpool2d applies t.
Run with Debian's interpreter: /usr/bin/python3 tests/bench/drmm_step_torch.py --preset tiny
Prints one line: `images_per_second <value>`. With --serve it warms up, then reads step counts
from stdin, one per line, and answers each with `seconds <time those steps took>` (how
`drmm bench --torch` interleaves its rounds with ours); it ends at the end of its input.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F


def load_preset(path):
    with open(path) as f:
        return json.load(f)


def padding(mode, kernel):
    return {"valid": 0, "half": kernel // 2, "full": kernel - 1}[mode]


class Drmm:
    def __init__(self, preset):
        self.preset = preset
        self.layers = []
        channels = preset["input"]["channels"]
        params = []
        for layer in preset["layers"]:
            entry = dict(layer)
            if layer["type"] == "conv":
                k, out = layer["kernel"], layer["filters"]
                w = torch.randn(out, channels, k, k) * (2.0 / (channels * k * k)) ** 0.5
                entry["w"] = w.requires_grad_()
                params.append(entry["w"])
                if layer.get("batchnorm", True):
                    entry["gamma"] = torch.ones(out, requires_grad=True)
                    entry["beta"] = torch.zeros(out, requires_grad=True)
                    entry["mean"] = torch.zeros(out)
                    entry["var"] = torch.ones(out)
                    params += [entry["gamma"], entry["beta"]]
                entry["pad"] = padding(layer.get("mode", "valid"), k)
                channels = out
            self.layers.append(entry)
        self.params = params

    def step_loss(self, images, labels, labeled, alpha):
        x = images
        saved = []  # per layer: mask a or pool indices t, and the input size
        pre = None  # the last conv's pre-ReLU values, where the pool switches are taken
        for layer in self.layers:
            if layer["type"] == "conv":
                h = F.conv2d(x, layer["w"], padding=layer["pad"])
                if "gamma" in layer:
                    h = F.batch_norm(h, layer["mean"], layer["var"], layer["gamma"], layer["beta"], True, 0.1, 1e-5)
                if layer.get("relu", True):
                    a = (h > 0).detach().to(h.dtype)
                    x = h * a
                    pre = h
                else:
                    a = None
                    x = h
                    pre = None
                saved.append(a)
            elif layer["type"] == "maxpool":
                size = x.shape[-2:]
                # t on the pre-ReLU values, as the engine (README "Max-pool switches").
                pooled, t = F.max_pool2d(x if pre is None else pre, layer["size"], return_indices=True)
                x = pooled if pre is None else F.relu(pooled)
                pre = None
                saved.append((t.detach(), size))
            else:
                saved.append(x.shape[-2:])
                x = x.mean(dim=(2, 3))
        logits = x
        log_q = F.log_softmax(logits, dim=1)
        q = log_q.exp()
        classes = q.shape[1]
        loss_h = F.nll_loss(log_q[:labeled], labels[:labeled])
        loss_kl = -(q * torch.log(classes * q + 1e-8)).sum(1).mean()
        # Top-down from the true class for labeled images and from ĉ for the others.
        render = torch.cat([labels[:labeled], q[labeled:].argmax(1)]).detach()
        z = F.one_hot(render, classes).to(images.dtype)
        loss_nn = 0.0
        for index in range(len(self.layers) - 1, -1, -1):
            layer, s = self.layers[index], saved[index]
            if layer["type"] == "meanpool":
                hh, ww = s
                z = z[:, :, None, None].expand(-1, -1, hh, ww) / float(hh * ww)
            elif layer["type"] == "maxpool":
                t, size = s
                z = F.max_unpool2d(z, t, layer["size"], output_size=size)
            else:
                if s is not None:
                    z = z * s
                w = layer["w"]
                k = w.shape[-1]
                z = F.conv2d(z, w.flip(2, 3).transpose(0, 1), padding=k - 1 - layer["pad"])
            # L_NN: each level's template once, the mean over its elements (README "L_NN").
            if 0 < index < len(self.layers) - 1 and layer["type"] != "maxpool":
                loss_nn = loss_nn + F.relu(-z).pow(2).mean()
        loss_rc = (z - images).pow(2).mean()  # per pixel, as the engine
        return alpha["h"] * loss_h + alpha["rc"] * loss_rc + alpha["kl"] * loss_kl + alpha["nn"] * loss_nn


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="convsmall", help="name in assets/presets or a JSON path")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--labeled", type=int, default=50, help="labeled images per batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help="time the step counts read from stdin")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    path = args.preset if args.preset.endswith(".json") else os.path.join(here, "..", "..", "assets", "presets",
                                                                          args.preset + ".json")
    preset = load_preset(path)
    model = Drmm(preset)
    alpha = preset["loss_weights"]
    optimizer = torch.optim.SGD(model.params, lr=0.01, momentum=0.9)
    shape = (args.batch, preset["input"]["channels"], preset["input"]["height"], preset["input"]["width"])
    images = torch.rand(shape)
    labels = torch.randint(0, preset["classes"], (args.batch,))

    def one_step():
        optimizer.zero_grad(set_to_none=True)
        model.step_loss(images, labels, args.labeled, alpha).backward()
        optimizer.step()

    def timed(steps):
        start = time.perf_counter()
        for _ in range(steps):
            one_step()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        one_step()
    if args.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            print("seconds %.6f" % timed(int(line)), flush=True)
        return
    print("images_per_second %.1f" % (args.batch * args.steps / timed(args.steps)))


if __name__ == "__main__":
    main()

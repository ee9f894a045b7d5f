#!/usr/bin/python3
"""Train a small CNN on Fashion-MNIST with PyTorch and export it to ONNX, as a reference model
for testing DRMM Studio's ONNX import (its predictions and logits are written beside it).

    /usr/bin/python3 tests/onnx/train_torch_cnn.py --out-dir /tmp/onnx_example
    /usr/bin/python3 tests/onnx/train_torch_cnn.py --out-dir /tmp/onnx_bias --variant with-bias

Needs Debian's python3-torch (1.13) and python3-numpy, and the IDX files of Debian's
dataset-fashion-mnist in /usr/share/datasets/fashion-mnist (plain or .gz).

Writes in --out-dir: model.onnx, torch_predictions.txt (argmax class per test image, one per
line), torch_accuracy.txt, torch_logits.bin (float32 little-endian, N×10 row-major).
"""

import argparse
import gzip
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"


def open_idx(data_dir, stem):
    """Open an IDX file whether the dataset ships it gzipped or plain."""
    plain = os.path.join(data_dir, stem)
    if os.path.exists(plain):
        return open(plain, "rb")
    if os.path.exists(plain + ".gz"):
        return gzip.open(plain + ".gz", "rb")
    sys.exit(f"error: neither {plain} nor {plain}.gz exists")


def read_idx(data_dir, stem, limit):
    with open_idx(data_dir, stem) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        sys.exit(f"error: {stem} is not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        sys.exit(f"error: {stem} holds {arr.size} bytes of data, header says {dims}")
    arr = arr.reshape(dims)
    return arr[:limit] if limit is not None else arr


def load_split(data_dir, prefix, limit):
    images = read_idx(data_dir, f"{prefix}-images-idx3-ubyte", limit)
    labels = read_idx(data_dir, f"{prefix}-labels-idx1-ubyte", limit)
    # Plain /255 with no mean subtraction: the importer under test feeds pixels the same way.
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def make_model(bias):
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2, bias=bias),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=bias),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10, bias=bias),
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out-dir", required=True, help="folder to write model.onnx and the torch_* files to (created)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="folder holding the Fashion-MNIST IDX files")
    p.add_argument("--train-limit", type=int, default=6000, help="train on the first N training images")
    p.add_argument("--test-limit", type=int, default=1000, help="evaluate on the first N test images")
    p.add_argument("--epochs", type=int, default=1, help="passes over the training images")
    p.add_argument("--batch", type=int, default=64, help="minibatch size")
    p.add_argument("--lr", type=float, default=0.02, help="SGD learning rate (momentum 0.9); 0.05 overshoots in one short epoch")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (torch.set_num_threads)")
    p.add_argument("--variant", choices=["bias-free", "with-bias"], default="bias-free",
                   help="bias-free: Conv2d and Linear have bias=False; with-bias: bias=True, "
                        "to test that the importer reads conv and dense biases")
    p.add_argument("--fold-bn", action="store_true",
                   help="let the exporter fold each BatchNorm into the Conv before it (torch's "
                        "TrainingMode.EVAL peephole), so model.onnx has biased Convs and no "
                        "BatchNormalization nodes; by default they are kept as inference-mode "
                        "BatchNormalization nodes")
    args = p.parse_args()
    for name in ("train_limit", "test_limit", "epochs", "batch", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")

    t0 = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # Same numbers on every run with the same arguments, so the reference files are reproducible.
    torch.use_deterministic_algorithms(True)

    x_train, y_train = load_split(args.data_dir, "train", args.train_limit)
    x_test, y_test = load_split(args.data_dir, "t10k", args.test_limit)

    model = make_model(bias=args.variant == "with-bias")
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    model.train()
    for _ in range(args.epochs):
        perm = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            if len(idx) < 2:
                continue  # BatchNorm cannot train on a batch of one
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()

    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i:i + 256]) for i in range(0, len(x_test), 256)])
    pred = logits.argmax(dim=1)
    acc = (pred == y_test).float().mean().item()

    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, "model.onnx")
    # The model is in eval mode either way, so BatchNormalization is exported in inference mode
    # (running statistics, no training outputs). TrainingMode.EVAL additionally runs the
    # exporter's peephole pass that folds BatchNorm into the preceding Conv, which would hide
    # BatchNormalization from the importer under test; PRESERVE keeps the nodes.
    training_mode = torch.onnx.TrainingMode.EVAL if args.fold_bn else torch.onnx.TrainingMode.PRESERVE

    with warnings.catch_warnings():
        # PRESERVE + constant folding warns that training-mode graphs may fold wrongly; the
        # model is in eval mode, so nothing training-specific is folded.
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(
            model, x_test[:1], onnx_path,
            export_params=True,
            opset_version=13,
            do_constant_folding=True,
            training=training_mode,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )

    with open(os.path.join(args.out_dir, "torch_predictions.txt"), "w") as f:
        f.writelines(f"{int(c)}\n" for c in pred)
    with open(os.path.join(args.out_dir, "torch_accuracy.txt"), "w") as f:
        f.write(f"{acc:.6f}\n")
    logits.numpy().astype("<f4").tofile(os.path.join(args.out_dir, "torch_logits.bin"))

    print(f"variant={args.variant} accuracy={acc:.6f} on {len(x_test)} test images "
          f"(trained on {len(x_train)}, {args.epochs} epoch(s)) seconds={time.time() - t0:.1f} "
          f"-> {args.out_dir}")


if __name__ == "__main__":
    main()

"""Test accuracy and rendering quality as the engine measures them (core/train/model_state.cpp
evaluate_model, core/train/rendering_quality.cpp): inference mode, Î from ĉ with the switches
the bottom-up recorded, r(I, Î) mean and median, the relative error after the best gain, the
self-consistency rate, and r of the reconstruction from every level."""
import statistics

import torch

from .model import InferenceGroup

EVAL_BATCH, RENDER_BATCH = 500, 250


@torch.no_grad()
def accuracy(model, images, labels, limit=0):
    count = min(limit, len(labels)) if limit else len(labels)
    correct = 0
    for first in range(0, count, EVAL_BATCH):
        batch = images[first:min(first + EVAL_BATCH, count)]
        correct += int((model.classify(batch).argmax(1) == labels[first:first + len(batch)]).sum())
    return correct / count if count else 0.0


def _pearson(a, b):
    a, b = a.double().flatten(1), b.double().flatten(1)
    da, db = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    saa, sbb, sab = (da * da).sum(1), (db * db).sum(1), (da * db).sum(1)
    ok = (saa > 0) & (sbb > 0)
    return torch.where(ok, sab / torch.sqrt(torch.where(ok, saa * sbb, torch.ones_like(saa))), torch.zeros_like(saa))


def _relative_error(a, b):
    a, b = a.double().flatten(1), b.double().flatten(1)
    ab, aa, bb = (a * b).sum(1), (a * a).sum(1), (b * b).sum(1)
    safe_bb = torch.where(bb > 0, bb, torch.ones_like(bb))
    error = torch.clamp(aa - ab * ab / safe_bb, min=0) / torch.where(aa > 0, aa, torch.ones_like(aa))
    return torch.where(aa == 0, torch.zeros_like(aa), torch.where(bb == 0, torch.ones_like(aa), error))


def _median(values):
    # The engine's median: the middle value, or the mean of the two middle ones.
    return statistics.median(values) if values else 0.0


@torch.no_grad()
def rendering(model, images, limit):
    count = min(limit, len(images))
    levels = len(model.layers) - 1
    r, errors, level_r, consistent = [], [], [[] for _ in range(levels)], 0
    group = InferenceGroup()
    for first in range(0, count, RENDER_BATCH):
        batch = images[first:min(first + RENDER_BATCH, count)]
        path = model.bottom_up(batch, group)
        logits = path[-1]["out"].flatten(1)
        predicted = logits.argmax(1)
        onehot = torch.nn.functional.one_hot(predicted, logits.shape[1]).to(batch.dtype).view(len(batch), -1, 1, 1)
        rendered = model.render_down(levels, onehot, path)[0]
        r += _pearson(batch, rendered).tolist()
        errors += _relative_error(batch, rendered).tolist()
        for level in range(levels):
            level_r[level] += _pearson(batch, model.render_down(level, path[level]["out"], path)[0]).tolist()
        consistent += int((model.classify(rendered).argmax(1) == predicted).sum())
    mean = lambda v: sum(v) / len(v) if v else 0.0
    return {"count": count, "r_mean": mean(r), "r_median": _median(r), "relative_error": mean(errors),
            "self_consistency": consistent / count if count else 0.0, "level_r": [mean(v) for v in level_r]}
